import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as samlify from 'samlify';
import { listen } from './fixtures';

// The test IdP trusts the one SP it serves; it does not schema-check our messages (our SP does check its answers).
samlify.setSchemaValidator({ validate: async () => 'not checked by the test IdP' });

const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

/** A fresh RSA key pair and self-signed certificate (PEM), made by openssl. */
export function keyPair(cn: string): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'saml-key-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${cn}`,
        '-keyout',
        `${dir}/key.pem`,
        '-out',
        `${dir}/cert.pem`,
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(`${dir}/key.pem`, 'utf8'), cert: readFileSync(`${dir}/cert.pem`, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type IdpUser = { nameID: string; email: string; name: string } & Record<string, string>;
/** Validly signed answers, each breaking one rule our SP must check. */
export type Variant = 'good' | 'expired' | 'audience' | 'recipient';

const escapeXml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** The IdP's response template with its {Tags} filled in; `raw` ones are XML fragments. */
const fill = (template: string, values: Record<string, string>, raw: string[]) =>
  template.replace(/\{(\w+)\}/g, (_m, tag: string) => (raw.includes(tag) ? values[tag] : escapeXml(values[tag] ?? '')));

/**
 * A SAML identity provider (samlify) on a loopback port. `GET /sso?SAMLRequest=…&as=USER&variant=…`
 * answers the auto-posting form a browser gets after signing in as USER; `/slo` is its single logout
 * URL. It learns our SP from our metadata (`trust`), as a real IdP's administrator does.
 */
export class TestIdp {
  readonly entityId: string;
  readonly key: string;
  readonly cert: string;
  idp!: samlify.IdentityProviderInstance;
  sp!: samlify.ServiceProviderInstance;
  private server!: Server;
  private acs = '';
  url = '';

  private constructor(
    readonly name: string,
    private readonly users: Record<string, IdpUser>,
    private readonly options: { encrypt?: boolean; wantSignedRequests?: boolean },
  ) {
    this.entityId = `https://idp.${name}.test/metadata`;
    ({ key: this.key, cert: this.cert } = keyPair(`idp.${name}.test`));
  }

  static async start(name: string, users: Record<string, IdpUser>, options: { encrypt?: boolean; wantSignedRequests?: boolean } = {}) {
    const t = new TestIdp(name, users, options);
    ({ server: t.server, url: t.url } = await listen((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/slo') return void res.writeHead(200).end('logged out at the IdP');
      t.answer(req.url!, url)
        .then((html) => res.writeHead(200, { 'content-type': 'text/html' }).end(html))
        .catch((err: Error) => res.writeHead(400).end(String(err.message)));
    }));
    return t;
  }

  /** Our SP as the IdP sees it, from the metadata we publish. */
  trust(spMetadata: string, acs: string): void {
    this.acs = acs;
    this.sp = samlify.ServiceProvider({ metadata: spMetadata, wantLogoutRequestSigned: true, wantLogoutResponseSigned: true });
    this.idp = samlify.IdentityProvider({
      entityID: this.entityId,
      privateKey: this.key,
      signingCert: this.cert,
      singleSignOnService: [{ Binding: REDIRECT, Location: `${this.url}/sso` }],
      singleLogoutService: [{ Binding: REDIRECT, Location: `${this.url}/slo` }],
      nameIDFormat: [PERSISTENT],
      wantAuthnRequestsSigned: !!this.options.wantSignedRequests,
      wantLogoutResponseSigned: !!this.options.wantSignedRequests,
      isAssertionEncrypted: !!this.options.encrypt,
      // Settings samlify reads but does not declare in its types.
      ...({
        dataEncryptionAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
        keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
      } as object),
    });
  }

  /** The octets an HTTP-Redirect signature covers, in the order they came (SAML bindings §3.4.4.1). */
  static signedOctets(rawUrl: string, message: 'SAMLRequest' | 'SAMLResponse'): string {
    const query = rawUrl.split('?')[1] ?? '';
    const part = (k: string) => query.split('&').find((p) => p.startsWith(`${k}=`));
    return [part(message), part('RelayState'), part('SigAlg')].filter(Boolean).join('&');
  }

  private async answer(rawUrl: string, url: URL): Promise<string> {
    const user = this.users[url.searchParams.get('as')!];
    const variant = (url.searchParams.get('variant') ?? 'good') as Variant;
    const query = Object.fromEntries(url.searchParams);
    // With wantSignedRequests, samlify refuses an AuthnRequest whose signature does not verify.
    const request = await this.idp.parseLoginRequest(this.sp, 'redirect', {
      query,
      octetString: TestIdp.signedOctets(rawUrl, 'SAMLRequest'),
    });
    const response = await this.idp.createLoginResponse(this.sp, request as never, 'post', user, {
      relayState: query.RelayState,
      customTagReplacement: (template) => {
        const at = (ms: number) => new Date(Date.now() + ms).toISOString();
        const shift = variant === 'expired' ? -3600_000 : 0;
        const id = '_' + randomUUID();
        const context = fill(
          template,
          {
            ID: id,
            AssertionID: '_' + randomUUID(),
            Destination: this.acs,
            Audience: variant === 'audience' ? 'https://another-sp.example/metadata' : this.sp.entityMeta.getEntityID(),
            SubjectRecipient: variant === 'recipient' ? 'https://another-sp.example/acs' : this.acs,
            Issuer: this.entityId,
            IssueInstant: at(shift),
            StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
            ConditionsNotBefore: at(shift - 60_000),
            ConditionsNotOnOrAfter: at(shift + 300_000),
            SubjectConfirmationDataNotOnOrAfter: at(shift + 300_000),
            NameIDFormat: PERSISTENT,
            NameID: user.nameID,
            InResponseTo: String(request.extract.request?.id),
            AuthnStatement: `<saml:AuthnStatement AuthnInstant="${at(shift)}" SessionIndex="_session-${user.nameID}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`,
            AttributeStatement: `<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue xsi:type="xs:string">${user.email}</saml:AttributeValue></saml:Attribute><saml:Attribute Name="name"><saml:AttributeValue xsi:type="xs:string">${user.name}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`,
          },
          ['AuthnStatement', 'AttributeStatement'],
        );
        return { id, context };
      },
    });
    const r = response as { context: string; entityEndpoint: string; relayState?: string };
    return `<form method="post" action="${r.entityEndpoint}"><input type="hidden" name="SAMLResponse" value="${r.context}"><input type="hidden" name="RelayState" value="${r.relayState ?? ''}"></form>`;
  }

  close(): void {
    this.server.close();
  }
}
