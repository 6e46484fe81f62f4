import type { Request } from 'express';
import type { PluginContext } from '../../../core/plugin';
import { SecretBox } from '../../../core/secrets';
import type { SessionUser } from '../../../core/permissions';
import type { UsersService } from '../users.service';
import { IdentityLinker } from './linking';
import { linkModel } from './links';
import { LdapClient } from './ldap';
import { OidcClient } from './oidc';
import { ProvidersService, providerModel, type Provider } from './providers';
import { RecoveryService, resetModel } from './recovery';
import { SamlClient, samlRequestModel, type SamlLogoutRequest } from './saml';

/** A positive number from the environment, or `fallback` if unset; anything else stops start-up naming the variable. */
function positive(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const v = env[name]?.trim();
  if (!v) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`Invalid configuration: ${name} must be a positive number (got "${v}")`);
  return n;
}

/** Sign-in with identity providers and account recovery, wired once for the accounts plugin. */
export class Identity {
  readonly providers: ProvidersService;
  readonly linker: IdentityLinker;
  readonly oidc = new OidcClient();
  readonly saml: SamlClient;
  readonly ldap = new LdapClient();
  readonly recovery: RecoveryService;
  /** How long a person may take at the provider before its answer is no longer accepted. */
  readonly signInTtlMs: number;
  readonly recoveryRateLimit: number;

  private constructor(
    private readonly ctx: PluginContext,
    users: UsersService,
    providers: ProvidersService,
  ) {
    const env = ctx.config.env;
    this.signInTtlMs = positive(env, 'IDENTITY_SIGNIN_MINUTES', 10) * 60_000;
    this.recoveryRateLimit = positive(env, 'PASSWORD_RESET_RATE_LIMIT', 5);
    this.providers = providers;
    this.linker = new IdentityLinker(users, linkModel(ctx.db), ctx.services);
    this.saml = new SamlClient(ctx.config.baseUrl, samlRequestModel(ctx.db), this.signInTtlMs);
    this.recovery = new RecoveryService(
      resetModel(ctx.db),
      users,
      (u) => this.passwordAllowed(u),
      (lang) => ctx.i18n.getFixedT(lang),
      ctx.log,
      {
        baseUrl: ctx.config.baseUrl,
        smtpUrl: env.SMTP_URL || undefined,
        from: env.MAIL_FROM || 'no-reply@localhost',
        ttlMs: positive(env, 'PASSWORD_RESET_MINUTES', 60) * 60_000,
        perAccountPerHour: 3,
      },
    );
  }

  static async create(ctx: PluginContext, users: UsersService): Promise<Identity> {
    await Promise.all([linkModel(ctx.db).init(), resetModel(ctx.db).init(), samlRequestModel(ctx.db).init()]);
    const env = ctx.config.env;
    const providers = await ProvidersService.create(
      providerModel(ctx.db),
      SecretBox.fromConfig(ctx.config),
      env.IDENTITY_PROVIDERS_FILE || undefined,
      env,
    );
    const identity = new Identity(ctx, users, providers);
    const sealed = await identity.providers.sealStored();
    if (sealed) ctx.log.info(`identity providers: the secrets of ${sealed} provider(s) encrypted with the current SECRETS_KEY`);
    return identity;
  }

  /** Erasure of a person: their links and recovery links go with the account. */
  async forget(userId: string): Promise<void> {
    await linkModel(this.ctx.db).deleteMany({ userId });
    await resetModel(this.ctx.db).deleteMany({ userId });
  }

  oidcRedirectUri(p: Provider): string {
    return `${this.ctx.config.baseUrl}/accounts/identity/oidc/${p.id}/callback`;
  }

  /** The addresses an identity provider's administrator registers for us. */
  urlsOf(p: Provider): Record<string, string> {
    if (p.protocol === 'oidc')
      return { redirectUri: this.oidcRedirectUri(p), postLogoutRedirectUri: `${this.ctx.config.baseUrl}/accounts/login` };
    if (p.protocol === 'saml') return this.saml.urls(p);
    return {};
  }

  /**
   * The enabled providers for the sign-in page: all of them, or with `?institution=CODE` (a link an
   * institution publishes) only those bound to that unit or above it.
   */
  async providersFor(req: Request): Promise<Array<{ id: string; label: string; protocol: string }>> {
    const code = typeof req.query.institution === 'string' ? req.query.institution : '';
    const out = [];
    for (const p of await this.providers.list()) {
      if (!p.enabled) continue;
      if (code && !(await this.linker.unitsOf(p)).has(code)) continue;
      out.push({ id: p.id, label: p.label[req.lang] ?? p.label.es, protocol: p.protocol });
    }
    return out;
  }

  /** The units covered by an enabled provider that requires SSO (`accounts.sign-in`). */
  async ssoOnlyUnits(): Promise<Set<string>> {
    const units = new Set<string>();
    for (const p of await this.providers.list()) {
      if (p.enabled && p.required) for (const u of await this.linker.unitsOf(p)) units.add(u);
    }
    return units;
  }

  /** False when an enabled provider that requires SSO covers the person's unit. */
  async passwordAllowed(u: Pick<SessionUser, 'orgUnit'>): Promise<boolean> {
    return !u.orgUnit || !(await this.ssoOnlyUnits()).has(u.orgUnit);
  }

  /** Ends every session the IdP's LogoutRequest names (its NameID, and SessionIndex if given). */
  endSamlSessions(p: Provider, r: SamlLogoutRequest): Promise<number> {
    return this.ctx.sessions.endWhere(({ sso }) => {
      if (sso?.provider !== p.id || sso.saml?.nameID !== r.nameID) return false;
      return !r.sessionIndex || sso.saml.sessionIndex === r.sessionIndex;
    });
  }

  /** Where sign-out continues to end the provider's session too, when the provider supports it. */
  async logoutUrl(req: Request): Promise<string | undefined> {
    const sso = req.session.sso;
    if (!sso) return undefined;
    const p = await this.providers.get(sso.provider);
    try {
      if (p?.protocol === 'oidc' && sso.idToken)
        return await this.oidc.logoutUrl(p, sso.idToken, `${this.ctx.config.baseUrl}/accounts/login`);
      if (p?.protocol === 'saml' && sso.saml) return await this.saml.logoutUrl(p, sso.saml, '/accounts/login');
    } catch (err) {
      // The local session ends anyway; the provider's stays open.
      this.ctx.log.warn({ provider: sso.provider, err: (err as Error).message }, 'could not build the provider logout URL');
    }
    return undefined;
  }
}
