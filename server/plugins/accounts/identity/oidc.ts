import * as oidc from 'openid-client';
import type { OidcProvider } from './providers';
import type { VerifiedIdentity } from './linking';

/** What the session keeps between the redirect to the provider and its answer. */
export interface OidcPending {
  provider: string;
  verifier: string;
  state: string;
  nonce: string;
  next: string;
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const isLoopback = (u: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);

/**
 * OpenID Connect relying party (openid-client): discovery, authorization code with PKCE (S256),
 * state and nonce, and ID token validation (signature, issuer, audience, expiry, nonce).
 */
export class OidcClient {
  private readonly configs = new Map<string, { key: string; at: number; config: Promise<oidc.Configuration> }>();

  /** Discovery, cached for an hour per provider (and redone when its settings change). */
  private config(p: OidcProvider): Promise<oidc.Configuration> {
    const key = JSON.stringify([p.issuer, p.clientId, p.clientSecret]);
    const hit = this.configs.get(p.id);
    if (hit && hit.key === key && Date.now() - hit.at < 3600_000) return hit.config;
    const issuer = new URL(p.issuer);
    // Plain http only to a provider on this machine (development and tests).
    const insecure = issuer.protocol === 'http:' && isLoopback(issuer);
    if (issuer.protocol === 'http:' && !insecure) return Promise.reject(new Error(`issuer ${p.issuer} must use https`));
    const config = oidc.discovery(
      issuer,
      p.clientId,
      p.clientSecret,
      p.clientSecret ? oidc.ClientSecretBasic(p.clientSecret) : oidc.None(),
      insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
    this.configs.set(p.id, { key, at: Date.now(), config });
    config.catch(() => this.configs.delete(p.id));
    return config;
  }

  async start(p: OidcProvider, redirectUri: string, next: string): Promise<{ url: string; pending: OidcPending }> {
    const config = await this.config(p);
    const pending = { provider: p.id, verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce(), next };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: p.scope,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** Exchanges the code and validates the ID token; throws on any failed check. */
  async finish(p: OidcProvider, currentUrl: URL, pending: OidcPending): Promise<{ identity: VerifiedIdentity; idToken: string }> {
    const config = await this.config(p);
    const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    let claims: Record<string, unknown> = { ...tokens.claims()! };
    const a = p.attributes;
    const wanted = [a.email, a.name, a.nationalId, a.employeeId].filter((c): c is string => !!c);
    // Providers may put profile claims only in the UserInfo answer (bound to the same `sub`).
    if (wanted.some((c) => claims[c] === undefined) && config.serverMetadata().userinfo_endpoint) {
      claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub))), ...claims };
    }
    return {
      identity: {
        subject: String(claims.sub),
        email: str(claims[a.email])?.toLowerCase(),
        emailVerified: claims.email_verified === true,
        name: str(claims[a.name]),
        nationalId: a.nationalId ? str(claims[a.nationalId]) : undefined,
        employeeId: a.employeeId ? str(claims[a.employeeId]) : undefined,
      },
      idToken: tokens.id_token!,
    };
  }

  /** RP-initiated logout, if the provider announces an end_session_endpoint. */
  async logoutUrl(p: OidcProvider, idToken: string, postLogoutRedirectUri: string): Promise<string | undefined> {
    if (!p.logout) return undefined;
    const config = await this.config(p);
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: postLogoutRedirectUri }).href;
  }
}
