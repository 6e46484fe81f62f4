import { Client, EqualityFilter, InvalidCredentialsError, SizeLimitExceededError, type Entry } from 'ldapts';
import type { LdapProvider } from './providers';
import type { VerifiedIdentity } from './linking';

const isLoopback = (host: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(host);

const first = (v: Entry[string] | undefined): string | undefined => {
  const x = Array.isArray(v) ? v[0] : v;
  const s = Buffer.isBuffer(x) ? x.toString('hex') : x;
  return typeof s === 'string' && s.trim() ? s.trim() : undefined;
};

/**
 * LDAP / Active Directory sign-in (ldapts): over TLS (ldaps:// or StartTLS), the service account
 * searches the person's entry (an equality filter encoded by the library, so no filter injection),
 * then the person's own DN is bound with their password. Empty passwords are refused before any
 * bind, since an LDAP simple bind with an empty password is an anonymous bind that "succeeds".
 */
export class LdapClient {
  constructor(private readonly timeoutMs = 10_000) {}

  /** The person's identity if the directory accepts the password; undefined if it does not. */
  async verify(p: LdapProvider, username: string, password: string): Promise<VerifiedIdentity | undefined> {
    const user = String(username).trim();
    if (!user || !password || user.length > 256 || password.length > 1024) return undefined;
    const u = new URL(p.url);
    if (u.protocol === 'ldap:' && !p.startTls && !isLoopback(u.hostname)) throw new Error(`${p.url}: use ldaps:// or StartTLS`);
    const tlsOptions = { ...(p.ca && { ca: p.ca }), minVersion: 'TLSv1.2' as const };
    const open = async () => {
      const c = new Client({ url: p.url, timeout: this.timeoutMs, connectTimeout: this.timeoutMs, tlsOptions });
      if (u.protocol === 'ldap:' && p.startTls) await c.startTLS(tlsOptions);
      return c;
    };

    const a = p.attributes;
    const wanted = [p.subjectAttribute, a.email, a.name, a.nationalId, a.employeeId].filter((x): x is string => !!x);
    const service = await open();
    let entry: Entry;
    try {
      await service.bind(p.bindDn, p.bindPassword);
      const { searchEntries } = await service
        .search(p.searchBase, {
          scope: 'sub',
          filter: new EqualityFilter({ attribute: p.usernameAttribute, value: user }),
          attributes: wanted,
          sizeLimit: 2,
        })
        .catch((err: unknown) => {
          if (err instanceof SizeLimitExceededError) return { searchEntries: [] as Entry[] };
          throw err;
        });
      // None, or an ambiguous name: no sign-in (and the same answer as a wrong password).
      if (searchEntries.length !== 1) return undefined;
      entry = searchEntries[0];
    } finally {
      await service.unbind().catch(() => {});
    }

    const person = await open();
    try {
      await person.bind(entry.dn, password);
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return undefined;
      throw err;
    } finally {
      await person.unbind().catch(() => {});
    }
    const email = first(entry[a.email])?.toLowerCase();
    return {
      subject: first(entry[p.subjectAttribute]) ?? entry.dn,
      email,
      // The institution's directory is the authority on its own addresses.
      emailVerified: !!email,
      name: first(entry[a.name]),
      nationalId: a.nationalId ? first(entry[a.nationalId]) : undefined,
      employeeId: a.employeeId ? first(entry[a.employeeId]) : undefined,
    };
  }
}
