import { randomBytes } from 'node:crypto';
import type { CliCommand } from '../../core/plugin';
import type { SessionUser } from '../../core/permissions';
import { HttpError } from '../../core/errors';
import { SecretBox } from '../../core/secrets';
import { fileSecretContext, isSecretField, OidcSettings } from './identity/providers';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** The demo institution every demo:seed extension hangs its data on. */
export const DEMO_ORG_UNIT = 'DEMO-MUNI';

export const accountCommands: CliCommand[] = [
  {
    name: 'user:create',
    description: 'create a user account (password from --password or, if omitted, from stdin)',
    options: [
      { flags: '--email <email>', description: 'email address (login)' },
      { flags: '--name <name>', description: 'full name' },
      { flags: '--role <role>', description: 'learner | hr | admin', default: 'learner' },
      { flags: '--password <password>', description: 'password (at least 10 characters); omit to read it from stdin' },
      { flags: '--org-unit <code>', description: 'org unit (institution) code' },
      { flags: '--level <level>', description: 'national | regional | local' },
      { flags: '--tier <tier>', description: 'role tier' },
      { flags: '--language <lang>', description: 'es | pt | en', default: 'es' },
    ],
    async run(rt, o) {
      const password = typeof o.password === 'string' ? o.password : await readStdin();
      const u = await rt.services.get('accounts.users').create({
        email: String(o.email ?? ''),
        name: String(o.name ?? ''),
        role: o.role as never,
        password,
        orgUnit: o.orgUnit as string | undefined,
        level: o.level as never,
        tier: o.tier as string | undefined,
        language: o.language as never,
      });
      console.log(`created ${u.role} ${u.email} (id ${u.id})`);
      return 0;
    },
  },
  {
    name: 'identity:seal',
    description: 'encrypt a secret (from stdin) for IDENTITY_PROVIDERS_FILE with SECRETS_KEY; prints {"sealed": "…"} to put in the file',
    options: [
      { flags: '--provider <id>', description: 'the id of the provider in the file (the value opens only there)' },
      { flags: '--field <field>', description: 'clientSecret | bindPassword | spPrivateKey (the value opens only in that field)' },
    ],
    async run(rt, o) {
      const provider = String(o.provider ?? '');
      const field = String(o.field ?? '');
      if (!OidcSettings.shape.id.safeParse(provider).success)
        throw new HttpError(400, `--provider: "${provider}" is not a provider id (lower-case letters, digits or "-")`);
      if (!isSecretField(field)) throw new HttpError(400, `--field: "${field}" is not clientSecret, bindPassword or spPrivateKey`);
      // From stdin, never the command line: arguments end up in shell histories and process lists.
      const value = await readStdin();
      if (!value.trim()) throw new HttpError(400, 'the secret to seal is read from stdin, and stdin was empty');
      const sealed = await SecretBox.fromConfig(rt.config).seal(value, fileSecretContext(provider, field));
      console.log(JSON.stringify({ sealed }));
      return 0;
    },
  },
  {
    name: 'demo:seed',
    description: 'create a demo institution with one user per role (passwords printed once) and let plugins add demo data',
    async run(rt) {
      const users = rt.services.get('accounts.users');
      const people: Array<{ role: 'admin' | 'hr' | 'learner'; email: string; name: string; tier?: string }> = [
        { role: 'admin', email: 'admin@demo.example', name: 'Ana Administradora' },
        { role: 'hr', email: 'rrhh@demo.example', name: 'Ramón Recursos Humanos' },
        { role: 'learner', email: 'servidora@demo.example', name: 'Lucía Servidora Pública', tier: 'all' },
      ];
      const created: Array<SessionUser & { password: string }> = [];
      for (const p of people) {
        const password = `demo-${randomBytes(6).toString('base64url')}`;
        let user = await users.findByEmail(p.email);
        if (!user) user = await users.create({ ...p, orgUnit: DEMO_ORG_UNIT, level: 'local', language: 'es', password });
        else await users.setPassword(user.id, password);
        await users.setActive(user.id, true);
        created.push({ ...user, password });
      }
      // Recorded without the passwords (the outbox is no place for them); delivered before the command exits.
      await rt.hooks.emit('accounts.demo.seed', {
        orgUnit: DEMO_ORG_UNIT,
        users: created.map(({ password: _p, ...u }) => u),
        at: new Date(),
      });
      await rt.events.settled();
      console.log(`Demo institution ${DEMO_ORG_UNIT} (local government). Sign in at ${rt.config.baseUrl}/accounts/login with:`);
      for (const u of created) console.log(`  ${u.role.padEnd(8)} ${u.email.padEnd(26)} ${u.password}`);
      console.log('These passwords are shown only now; run demo:seed again to set new ones.');
      return 0;
    },
  },
];
