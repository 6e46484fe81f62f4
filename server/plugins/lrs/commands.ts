import type { CliCommand } from '../../core/plugin';

export const lrsCommands: CliCommand[] = [
  {
    name: 'lrs:client:create',
    description: 'create an LRS client (HTTP Basic key and secret for /xapi); the secret is printed once',
    options: [
      { flags: '--name <name>', description: 'what the client is (e.g. "Moodle of the ministry")' },
      {
        flags: '--scopes <list>',
        description: 'comma-separated: all, all/read, statements/write, statements/read, statements/read/mine, state, profile, define',
        default: 'statements/write,statements/read/mine',
      },
      { flags: '--json', description: 'print {"key":…,"secret":…} for scripts' },
    ],
    async run(rt, o) {
      const scopes = String(o.scopes ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const c = await rt.services.get('lrs.credentials').createClient({ name: String(o.name ?? ''), scopes });
      if (o.json) console.log(JSON.stringify({ key: c.key, secret: c.secret }));
      else
        console.log(
          `created LRS client\n  endpoint: ${rt.config.baseUrl}/xapi/\n  key:      ${c.key}\n  secret:   ${c.secret}\n(the secret is not shown again)`,
        );
      return 0;
    },
  },
  {
    name: 'lrs:client:list',
    description: 'list LRS clients (never their secrets)',
    async run(rt) {
      const svc = rt.services.get('lrs.credentials') as unknown as {
        list(): Promise<Array<{ key: string; name: string; scopes: string[]; revoked: boolean }>>;
      };
      for (const c of await svc.list()) console.log(`${c.key}  ${c.revoked ? 'revoked' : 'active '}  ${c.scopes.join(',')}  ${c.name}`);
    },
  },
  {
    name: 'lrs:client:revoke',
    description: 'revoke an LRS client by its key',
    args: '<key>',
    async run(rt, _o, args) {
      await rt.services.get('lrs.credentials').revoke(args[0]);
      console.log(`revoked ${args[0]}`);
    },
  },
];
