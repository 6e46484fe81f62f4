import { XMLParser } from 'fast-xml-parser';
import { Schema, type Connection, type Model } from 'mongoose';
import { SAML, type CacheProvider, type Profile } from '@node-saml/passport-saml';
import type { SamlProvider } from './providers';
import type { VerifiedIdentity } from './linking';

/** What the session keeps to end the IdP session on sign-out (SAML single logout). */
export interface SamlSession {
  nameID: string;
  nameIDFormat: string;
  sessionIndex?: string;
}

/**
 * Outstanding AuthnRequest ids, in the database so that any server process can accept the answer
 * and an answer is accepted once: node-saml removes the id when it validates the response, so a
 * replayed response (or one nobody asked for) finds no id and is refused.
 */
const requestSchema = new Schema(
  { _id: String, value: String, createdAt: Date },
  { collection: 'accounts_saml_requests', versionKey: false },
);
type RequestDoc = { _id: string; value: string; createdAt: Date };
export type SamlRequestModel = Model<RequestDoc>;
export const samlRequestModel = (db: Connection): SamlRequestModel =>
  (db.models.AccountsSamlRequest as SamlRequestModel) ?? db.model<RequestDoc>('AccountsSamlRequest', requestSchema);

function requestCache(model: SamlRequestModel, ttlMs: number): CacheProvider {
  return {
    async saveAsync(key, value) {
      const createdAt = new Date();
      // Old ids are dropped as new ones are written: no timer needed.
      await model.deleteMany({ createdAt: { $lt: new Date(createdAt.getTime() - ttlMs) } });
      await model.create({ _id: key, value, createdAt });
      return { value, createdAt: createdAt.getTime() };
    },
    async getAsync(key) {
      const doc = await model.findById(key).lean<RequestDoc>();
      return doc && Date.now() - doc.createdAt.getTime() < ttlMs ? doc.value : null;
    },
    async removeAsync(key) {
      if (!key) return null;
      const doc = await model.findOneAndDelete({ _id: key }).lean<RequestDoc>();
      return doc?.value ?? null;
    },
  };
}

/** A LogoutRequest from the IdP, validated: whose sessions to end. */
export interface SamlLogoutRequest {
  nameID: string;
  sessionIndex?: string;
  profile: Profile;
}
const logoutRequestOf = (profile: Profile): SamlLogoutRequest => {
  if (!profile.nameID) throw new Error('the LogoutRequest names nobody');
  return { nameID: profile.nameID, sessionIndex: profile.sessionIndex, profile };
};

/** A message to our single logout URL, by HTTP-Redirect (query) or HTTP-POST (form fields). */
export type SloMessage =
  { binding: 'redirect'; query: Record<string, string>; originalQuery: string } | { binding: 'post'; body: Record<string, unknown> };

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true });
/** The Response carries an EncryptedAssertion and no plain Assertion. */
function isEncrypted(samlResponse: string): boolean {
  const response = xml.parse(Buffer.from(samlResponse, 'base64').toString('utf8'))?.Response;
  return !!response?.EncryptedAssertion && !response.Assertion;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : Array.isArray(v) ? str(v[0]) : undefined);

/**
 * SAML 2.0 service provider (node-saml, through @node-saml/passport-saml): HTTP-Redirect
 * AuthnRequest, HTTP-POST response with a signed assertion required, issuer, audience, time
 * window and InResponseTo checked by the library; the SubjectConfirmation Recipient checked here.
 */
export class SamlClient {
  private readonly cache: CacheProvider;

  constructor(
    private readonly baseUrl: string,
    requests: SamlRequestModel,
    private readonly ttlMs: number,
  ) {
    this.cache = requestCache(requests, ttlMs);
  }

  urls(p: SamlProvider) {
    const base = `${this.baseUrl}/accounts/identity/saml/${p.id}`;
    return { entityId: `${base}/metadata`, acs: `${base}/acs`, slo: `${base}/logout` };
  }

  private saml(p: SamlProvider): SAML {
    const u = this.urls(p);
    return new SAML({
      entryPoint: p.entryPoint,
      issuer: u.entityId,
      callbackUrl: u.acs,
      audience: u.entityId,
      idpIssuer: p.idpIssuer,
      idpCert: p.idpCert,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      validateInResponseTo: 'always' as never,
      requestIdExpirationPeriodMs: this.ttlMs,
      cacheProvider: this.cache,
      acceptedClockSkewMs: 60_000,
      identifierFormat: null,
      disableRequestedAuthnContext: true,
      logoutUrl: p.logoutUrl ?? p.entryPoint,
      logoutCallbackUrl: u.slo,
      // With the SP's key: AuthnRequests, LogoutRequests and LogoutResponses are signed.
      ...(p.spPrivateKey && { privateKey: p.spPrivateKey, publicCert: p.spCert, signatureAlgorithm: 'sha256' as const }),
      ...(p.encryptedAssertions && { decryptionPvk: p.spPrivateKey }),
    });
  }

  start(p: SamlProvider, relayState: string): Promise<string> {
    return this.saml(p).getAuthorizeUrlAsync(relayState, undefined, {});
  }

  /** Validates an HTTP-POST response; throws naming the failed check. */
  async finish(p: SamlProvider, body: { SAMLResponse?: unknown }): Promise<{ identity: VerifiedIdentity; session: SamlSession }> {
    if (typeof body.SAMLResponse !== 'string' || !body.SAMLResponse) throw new Error('SAMLResponse is missing');
    // node-saml decrypts an encrypted assertion but also takes a plain one: when the IdP was told
    // (by our metadata) to encrypt, a plain assertion is refused.
    if (p.encryptedAssertions && !isEncrypted(body.SAMLResponse)) throw new Error('the assertion is not encrypted');
    const { profile } = await this.saml(p).validatePostResponseAsync({ SAMLResponse: body.SAMLResponse });
    if (!profile) throw new Error('the response holds no assertion');
    this.checkRecipient(p, profile);
    const a = p.attributes;
    const attr = (name?: string) => (name ? str((profile as Record<string, unknown>)[name]) : undefined);
    return {
      identity: {
        subject: profile.nameID,
        email: attr(a.email)?.toLowerCase(),
        // The institution's IdP is the authority on its own directory's addresses.
        emailVerified: !!attr(a.email),
        name: attr(a.name),
        nationalId: attr(a.nationalId),
        employeeId: attr(a.employeeId),
      },
      session: { nameID: profile.nameID, nameIDFormat: profile.nameIDFormat, sessionIndex: profile.sessionIndex },
    };
  }

  /** The assertion must be for this SP's ACS (SAML core §2.4.1.2, profiles §4.1.4.3). */
  private checkRecipient(p: SamlProvider, profile: Profile): void {
    const doc = xml.parse(profile.getAssertionXml?.() ?? '');
    const confirmations = [doc?.Assertion?.Subject?.SubjectConfirmation].flat().filter(Boolean);
    const recipients = confirmations.map((c) => c?.SubjectConfirmationData?.['@Recipient']);
    if (!recipients.includes(this.urls(p).acs)) throw new Error('the assertion is for another recipient');
  }

  /** SP metadata: with the SP key, its certificate for signing (and for encryption when required). */
  metadata(p: SamlProvider): string {
    return this.saml(p).generateServiceProviderMetadata(p.encryptedAssertions ? p.spCert! : null, p.spPrivateKey ? p.spCert! : null);
  }

  /** Where to send the browser to end the IdP session (single logout), if the IdP has an SLO URL. */
  logoutUrl(p: SamlProvider, s: SamlSession, relayState: string): Promise<string> | undefined {
    if (!p.logoutUrl) return undefined;
    const user = { issuer: p.idpIssuer, nameID: s.nameID, nameIDFormat: s.nameIDFormat, sessionIndex: s.sessionIndex } as Profile;
    return this.saml(p).getLogoutUrlAsync(user, relayState, {});
  }

  /**
   * A message the IdP sends to our single logout URL: its LogoutRequest (the person signed out
   * there or at another SP) or its answer to ours. By HTTP-Redirect the query must carry the IdP's
   * signature — node-saml accepts an unsigned one, which would let anyone end anyone's session;
   * by HTTP-POST node-saml requires the signature in the XML. Throws if it is not authentic.
   */
  async receiveLogout(p: SamlProvider, m: SloMessage): Promise<{ request?: SamlLogoutRequest }> {
    const saml = this.saml(p);
    if (m.binding === 'redirect') {
      if (!m.query.Signature || !m.query.SigAlg) throw new Error('the logout message is not signed');
      const { profile } = await saml.validateRedirectAsync(m.query, m.originalQuery);
      return profile ? { request: logoutRequestOf(profile) } : {};
    }
    if (typeof m.body.SAMLRequest !== 'string' || !m.body.SAMLRequest) throw new Error('SAMLRequest is missing');
    const { profile } = await saml.validatePostRequestAsync({ SAMLRequest: m.body.SAMLRequest });
    if (!profile) throw new Error('not a LogoutRequest');
    return { request: logoutRequestOf(profile) };
  }

  /** Our LogoutResponse to the IdP's LogoutRequest (HTTP-Redirect, signed with the SP key if any). */
  logoutResponseUrl(p: SamlProvider, request: SamlLogoutRequest, relayState: string): Promise<string> {
    return this.saml(p).getLogoutResponseUrlAsync(request.profile, relayState, {}, true);
  }
}
