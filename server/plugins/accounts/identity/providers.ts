import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Schema, type Connection, type Model } from 'mongoose';
import { z } from 'zod';
import { HttpError } from '../../../core/errors';
import { english } from '../../../core/i18n';
import type { Language } from '../../../core/config';
import type { SecretBox } from '../../../core/secrets';

const text = (max: number) => z.string().trim().min(1).max(max);
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((s) => s || undefined);
const url = (schemes: string[]) =>
  z
    .string()
    .trim()
    .url()
    // zod runs this check after a failed .url() too: a text that is no URL must not throw here.
    .refine(
      (u) => URL.canParse(u) && schemes.includes(new URL(u).protocol),
      `must start with ${schemes.map((s) => s + '//').join(' or ')}`,
    );
const pem = z.string().trim().min(1).max(20_000);

/** Where the claims come from: names of the provider's claims, SAML attributes or LDAP attributes. */
const attributes = (email: string, name: string) =>
  z
    .object({
      email: text(200).default(email),
      name: text(200).default(name),
      nationalId: optionalText(200),
      employeeId: optionalText(200),
    })
    .prefault({});

const Common = {
  id: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'id must be lower-case letters, digits or "-" (at most 40)'),
  label: z.object({ es: text(100), pt: text(100), en: text(100) }),
  /** The org units (institutions or units, with everything below them) whose people may use it. */
  orgUnits: z
    .array(
      z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, 'org unit codes are letters, digits, "-" or "_"'),
    )
    .min(1, 'bind it to at least one org unit'),
  /** Which verified claim links the identity to an existing account. */
  match: z.enum(['email', 'nationalId', 'employeeId']).default('email'),
  /** SSO required: people of these units cannot sign in or recover access with a password. */
  required: z.boolean().default(false),
  enabled: z.boolean().default(true),
};

export const OidcSettings = z.object({
  ...Common,
  protocol: z.literal('oidc'),
  issuer: url(['https:', 'http:']),
  clientId: text(200),
  clientSecret: optionalText(500),
  scope: text(500).default('openid email profile'),
  /** End the provider's session too on sign-out (RP-initiated logout), when it supports it. */
  logout: z.boolean().default(true),
  attributes: attributes('email', 'name'),
});

export const SamlSettings = z
  .object({
    ...Common,
    protocol: z.literal('saml'),
    entryPoint: url(['https:', 'http:']),
    idpIssuer: text(500),
    /** The IdP's signing certificate(s), PEM or bare base64. */
    idpCert: pem,
    logoutUrl: url(['https:', 'http:']).optional(),
    /** This SP's certificate and private key (PEM): with them, requests and logout messages are signed. */
    spCert: pem.optional(),
    spPrivateKey: pem.optional(),
    /** Accept only assertions encrypted to spCert (the IdP learns it from our metadata). */
    encryptedAssertions: z.boolean().default(false),
    attributes: attributes('email', 'name'),
  })
  .superRefine((s, ctx) => {
    const problem = spKeyProblem(s.spCert, s.spPrivateKey);
    if (problem) ctx.addIssue(keyedIssue(problem.field, problem.problem));
    else if (s.encryptedAssertions && !s.spPrivateKey) ctx.addIssue(keyedIssue('spPrivateKey', 'encryptedNeedsKey'));
  });

/** A rule of ours that zod has no code for: its English for the file's errors, its key for the admin form. */
const keyedIssue = (field: string, problem: string) => {
  const key = `accounts:identity.errors.${problem}`;
  return { code: 'custom' as const, path: [field], message: english(key), params: { key } };
};

/** The SP key pair must be both or neither, readable, and one pair. */
function spKeyProblem(cert?: string, key?: string): { field: 'spCert' | 'spPrivateKey'; problem: string } | undefined {
  if (!cert && !key) return undefined;
  if (!cert) return { field: 'spCert', problem: 'spCertMissing' };
  if (!key) return { field: 'spPrivateKey', problem: 'spKeyMissing' };
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    return { field: 'spCert', problem: 'spCertInvalid' };
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    return { field: 'spPrivateKey', problem: 'spKeyInvalid' };
  }
  if (!x509.checkPrivateKey(privateKey)) return { field: 'spPrivateKey', problem: 'spKeyMismatch' };
  return undefined;
}

export const LdapSettings = z.object({
  ...Common,
  protocol: z.literal('ldap'),
  url: url(['ldaps:', 'ldap:']),
  /** Upgrade an ldap:// connection with StartTLS (required unless the URL is ldaps:// or loopback). */
  startTls: z.boolean().default(true),
  /** CA certificate(s) to trust for the directory's TLS certificate (PEM); system CAs otherwise. */
  ca: pem.optional(),
  bindDn: text(500),
  bindPassword: text(500),
  searchBase: text(500),
  /** The attribute people type as their user name (e.g. uid, sAMAccountName). */
  usernameAttribute: z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/)
    .default('uid'),
  /** A stable, never reassigned id of the entry (OpenLDAP entryUUID; AD objectGUID). */
  subjectAttribute: z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/)
    .default('entryUUID'),
  attributes: attributes('mail', 'cn'),
});

export const ProviderSettings = z.discriminatedUnion('protocol', [OidcSettings, SamlSettings, LdapSettings]);
export type ProviderSettings = z.infer<typeof ProviderSettings>;
export type OidcProvider = z.infer<typeof OidcSettings>;
export type SamlProvider = z.infer<typeof SamlSettings>;
export type LdapProvider = z.infer<typeof LdapSettings>;
export type Provider = ProviderSettings & { source: 'file' | 'admin' };

/** Settings fields whose bad value has a message of its own (accounts:identity.errors.<field>). */
const FIELD_KEYS = new Set([
  'id',
  'protocol',
  'match',
  'issuer',
  'clientId',
  'clientSecret',
  'scope',
  'entryPoint',
  'idpIssuer',
  'idpCert',
  'logoutUrl',
  'spCert',
  'spPrivateKey',
  'url',
  'ca',
  'bindDn',
  'bindPassword',
  'searchBase',
  'usernameAttribute',
  'subjectAttribute',
]);

/** The locale key and the value given for the first problem of the settings (never a secret: no message shows one). */
function problemOf(issue: z.core.$ZodIssue, input: Record<string, unknown>): { key: string; value: string } {
  const [field, sub] = issue.path.map(String);
  const given = (v: unknown) => (typeof v === 'string' ? (v.length > 80 ? v.slice(0, 80) + '…' : v) : '');
  const custom = issue.code === 'custom' ? (issue.params as { key?: string } | undefined)?.key : undefined;
  if (custom) return { key: custom, value: '' };
  const nested = (input[field] ?? {}) as Record<string, unknown>;
  if (field === 'label' && ['es', 'pt', 'en'].includes(sub)) return { key: `accounts:identity.errors.label_${sub}`, value: '' };
  if (field === 'attributes') return { key: 'accounts:identity.errors.attributes', value: given(nested[sub]) };
  if (field === 'orgUnits')
    return sub === undefined
      ? { key: 'accounts:identity.errors.orgUnitsMissing', value: '' }
      : { key: 'accounts:identity.errors.orgUnits', value: given(nested[sub]) };
  if (FIELD_KEYS.has(field)) return { key: `accounts:identity.errors.${field}`, value: given(input[field]) };
  return { key: 'accounts:identity.errors.input', value: '' };
}

/**
 * Parses settings; a 400 naming the field (and the value given) in the reader's language on bad
 * input — the admin form's — with the field's path in the English message and zod's issues in
 * `details` for API clients.
 */
export function parseProvider(input: unknown): ProviderSettings {
  const parsed = ProviderSettings.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const fields = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
    const { key, value } = problemOf(issue, fields);
    throw new HttpError(400, `${issue.path.join('.') || 'provider'}: ${english(key, { value })}`, {
      key,
      params: { value },
      details: parsed.error.issues,
    });
  }
  return parsed.data;
}

/** The settings a database dump must not reveal: kept apart, encrypted (core/secrets.ts). */
const SECRET_FIELDS = ['clientSecret', 'bindPassword', 'spPrivateKey'] as const;
type Secrets = Partial<Record<(typeof SECRET_FIELDS)[number], string>>;
const secretContext = (id: string) => `accounts.identity-provider:${id}`;
/** What a sealed value of IDENTITY_PROVIDERS_FILE is bound to: moved to another provider or field, it does not open. */
export const fileSecretContext = (id: string, field: string) => `accounts.identity-providers-file:${id}:${field}`;
export const isSecretField = (f: string): f is (typeof SECRET_FIELDS)[number] => (SECRET_FIELDS as readonly string[]).includes(f);

const providerSchema = new Schema(
  {
    _id: { type: String },
    settings: { type: Schema.Types.Mixed, required: true },
    /** SECRET_FIELDS of the settings, as one encrypted JSON object. */
    secrets: String,
    updatedAt: Date,
  },
  { collection: 'accounts_identity_providers', versionKey: false },
);
type ProviderDoc = { _id: string; settings: ProviderSettings; secrets?: string; updatedAt?: Date };
export type ProviderModel = Model<ProviderDoc>;
export const providerModel = (db: Connection): ProviderModel =>
  (db.models.AccountsIdentityProvider as ProviderModel) ?? db.model<ProviderDoc>('AccountsIdentityProvider', providerSchema);

/** Settings without their secrets, and the secrets alone. */
function splitSecrets(settings: Record<string, unknown>): { rest: Record<string, unknown>; secrets: Secrets } {
  const rest = { ...settings };
  const secrets: Secrets = {};
  for (const f of SECRET_FIELDS) {
    if (typeof rest[f] === 'string') secrets[f] = rest[f];
    delete rest[f];
  }
  return { rest, secrets };
}

/**
 * Identity providers: those of the configuration file (IDENTITY_PROVIDERS_FILE, read-only here)
 * and those an administrator adds in the admin page. A file provider's id cannot be reused.
 */
export class ProvidersService {
  private readonly fromFile: Provider[];
  private cache?: { at: number; list: Promise<Provider[]> };

  private constructor(
    private readonly model: ProviderModel,
    private readonly box: SecretBox,
    fromFile: Provider[],
  ) {
    this.fromFile = fromFile;
  }

  /** Reads IDENTITY_PROVIDERS_FILE (if any) first: a problem in it stops start-up, naming provider and field. */
  static async create(
    model: ProviderModel,
    box: SecretBox,
    file?: string,
    env: Readonly<Record<string, string | undefined>> = {},
  ): Promise<ProvidersService> {
    return new ProvidersService(model, box, file ? await readProvidersFile(file, env, box) : []);
  }

  async list(): Promise<Provider[]> {
    // Read on every sign-in page: cached for a few seconds, dropped on every admin change.
    if (!this.cache || Date.now() - this.cache.at > 5_000) {
      const list = this.model
        .find()
        .sort({ _id: 1 })
        .lean<ProviderDoc[]>()
        .then((docs) => Promise.all(docs.filter((d) => !this.fromFile.some((f) => f.id === d._id)).map((d) => this.withSecrets(d))))
        .then((stored) => [...this.fromFile, ...stored]);
      this.cache = { at: Date.now(), list };
      list.catch(() => (this.cache = undefined));
    }
    return this.cache.list;
  }

  private async withSecrets(d: ProviderDoc): Promise<Provider> {
    const secrets = d.secrets ? (JSON.parse(await this.box.open(d.secrets, secretContext(d._id))) as Secrets) : {};
    return { ...d.settings, ...secrets, source: 'admin' as const } as Provider;
  }

  async get(id: string): Promise<Provider | undefined> {
    return (await this.list()).find((p) => p.id === id);
  }

  async enabled(id: string): Promise<Provider> {
    const p = await this.get(String(id));
    if (!p || !p.enabled) throw new HttpError(404, `No identity provider "${id}"`, { key: 'accounts:identity.unknownProvider' });
    return p;
  }

  async save(input: unknown): Promise<ProviderSettings> {
    const settings = parseProvider(input);
    if (this.fromFile.some((f) => f.id === settings.id))
      throw new HttpError(409, `provider ${settings.id} comes from the configuration file`, { key: 'accounts:identity.fromFile' });
    const { rest, secrets } = splitSecrets(settings);
    const sealed = Object.keys(secrets).length ? await this.box.seal(JSON.stringify(secrets), secretContext(settings.id)) : undefined;
    await this.model.replaceOne(
      { _id: settings.id },
      { _id: settings.id, settings: rest, ...(sealed && { secrets: sealed }), updatedAt: new Date() },
      { upsert: true },
    );
    this.cache = undefined;
    return settings;
  }

  async remove(id: string): Promise<void> {
    if (this.fromFile.some((f) => f.id === id))
      throw new HttpError(409, `provider ${id} comes from the configuration file`, { key: 'accounts:identity.fromFile' });
    await this.model.deleteOne({ _id: String(id) });
    this.cache = undefined;
  }

  /**
   * At start: secrets stored in clear (before they were encrypted) or with a previous key are
   * sealed again with the current one; idempotent. A secret no configured key opens stops start-up
   * here, naming the provider, rather than failing later at someone's sign-in.
   */
  async sealStored(): Promise<number> {
    let sealed = 0;
    for (const d of await this.model.find().sort({ _id: 1 }).lean<ProviderDoc[]>()) {
      const { rest, secrets: clear } = splitSecrets(d.settings as unknown as Record<string, unknown>);
      if (!Object.keys(clear).length && (!d.secrets || this.box.isCurrent(d.secrets))) continue;
      let stored: Secrets = {};
      try {
        if (d.secrets) stored = JSON.parse(await this.box.open(d.secrets, secretContext(d._id))) as Secrets;
      } catch (err) {
        throw new Error(
          `identity provider ${d._id}: its stored secrets do not open (${(err as Error).message}). Start with the SECRETS_KEY ` +
            'they were encrypted with; to change keys, set SECRETS_KEY to the new key, a comma, and the old one.',
          { cause: err },
        );
      }
      const secrets = await this.box.seal(JSON.stringify({ ...stored, ...clear }), secretContext(d._id));
      await this.model.updateOne({ _id: d._id }, { $set: { settings: rest, secrets } });
      sealed++;
    }
    this.cache = undefined;
    return sealed;
  }
}

/**
 * A secret of the file need not be in clear (the file often lives in a configuration repository):
 * `{"env": "NAME"}` takes it from that environment variable, `{"sealed": "…"}` is a JWE made by
 * `npm run -s lms -- identity:seal` with SECRETS_KEY, bound to the provider's id and the field.
 */
async function fileSecrets(
  entry: unknown,
  env: Readonly<Record<string, string | undefined>>,
  box: SecretBox,
  where: string,
): Promise<unknown> {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return entry;
  const out: Record<string, unknown> = { ...(entry as Record<string, unknown>) };
  for (const f of SECRET_FIELDS) {
    const v = out[f];
    if (!v || typeof v !== 'object') continue;
    const ref = v as { env?: unknown; sealed?: unknown };
    const keys = Object.keys(v);
    if (keys.length === 1 && typeof ref.env === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(ref.env)) {
      if (!env[ref.env]) throw new Error(`${where}: ${f}: the environment variable ${ref.env} is not set`);
      out[f] = env[ref.env];
    } else if (keys.length === 1 && typeof ref.sealed === 'string') {
      try {
        out[f] = await box.open(ref.sealed, fileSecretContext(String(out.id), f));
      } catch (err) {
        throw new Error(
          `${where}: ${f}: the sealed value does not open (${(err as Error).message}); seal it again with ` +
            `\`npm run -s lms -- identity:seal --provider ${String(out.id)} --field ${f}\` and the SECRETS_KEY the server starts with`,
          { cause: err },
        );
      }
    } else throw new Error(`${where}: ${f}: a secret is a string, {"env": "VARIABLE_NAME"} or {"sealed": "…"}`);
  }
  return out;
}

async function readProvidersFile(file: string, env: Readonly<Record<string, string | undefined>>, box: SecretBox): Promise<Provider[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`IDENTITY_PROVIDERS_FILE ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(raw)) throw new Error(`IDENTITY_PROVIDERS_FILE ${file}: must hold a JSON array of providers`);
  const ids = new Set<string>();
  const out: Provider[] = [];
  for (const [i, entry] of raw.entries()) {
    const id = (entry as { id?: unknown } | null)?.id;
    const where = `IDENTITY_PROVIDERS_FILE ${file}: provider ${i + 1}${typeof id === 'string' && id ? ` (${id})` : ''}`;
    const parsed = ProviderSettings.safeParse(await fileSecrets(entry, env, box, where));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${where}: ${issue.path.join('.')}: ${issue.message}`);
    }
    if (ids.has(parsed.data.id)) throw new Error(`IDENTITY_PROVIDERS_FILE ${file}: provider id ${parsed.data.id} appears twice`);
    ids.add(parsed.data.id);
    out.push({ ...parsed.data, source: 'file' as const });
  }
  return out;
}

export const labelOf = (p: ProviderSettings, lang: string) => p.label[(lang as Language) in p.label ? (lang as Language) : 'es'];
