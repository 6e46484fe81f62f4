import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Slapd {
  url: string;
  ca: string;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** An inetOrgPerson entry of `ou=people` for a directory's LDIF. */
export const personEntry = (suffix: string, uid: string, cn: string, mail: string, employee: string, password: string) => `
dn: uid=${uid},ou=people,${suffix}
objectClass: inetOrgPerson
uid: ${uid}
cn: ${cn}
sn: ${cn.split(' ').pop()}
mail: ${mail}
employeeNumber: ${employee}
userPassword: ${password}
`;

/** The directory's tree and the service account the LMS searches with (`cn=lms,ou=services`, password service-password-123). */
export const baseLdif = (suffix: string) => `dn: ${suffix}
objectClass: dcObject
objectClass: organization
dc: ${/^dc=([^,]+)/.exec(suffix)![1]}
o: Gobierno de prueba

dn: ou=people,${suffix}
objectClass: organizationalUnit
ou: people

dn: ou=services,${suffix}
objectClass: organizationalUnit
ou: services

dn: cn=lms,ou=services,${suffix}
objectClass: person
cn: lms
sn: lms
userPassword: service-password-123
`;

/**
 * Debian's OpenLDAP on a free loopback port with a throw-away directory: a slapd.conf written
 * here (no debconf), the entries loaded with slapadd, a self-signed certificate for ldaps://,
 * run in the foreground as an unprivileged user and killed when the tests end.
 */
export async function startSlapd(suffix: string, ldif: string): Promise<Slapd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slapd-'));
  const data = path.join(dir, 'data');
  mkdirSync(data);
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
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ].concat(['-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]),
    { stdio: 'ignore' },
  );
  const conf = path.join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${dir}/slapd.pid`,
      `TLSCertificateFile ${dir}/cert.pem`,
      `TLSCertificateKeyFile ${dir}/key.pem`,
      'database mdb',
      'maxsize 10485760',
      `suffix "${suffix}"`,
      `rootdn "cn=admin,${suffix}"`,
      `rootpw ${'admin-' + path.basename(dir)}`,
      `directory ${data}`,
      // Passwords: only for binding. Entries: the service account and the person themself.
      'access to attrs=userPassword by anonymous auth by * none',
      `access to * by dn.exact="cn=lms,ou=services,${suffix}" read by self read by * none`,
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(dir, 'data.ldif'), ldif);
  execFileSync('slapadd', ['-f', conf, '-l', path.join(dir, 'data.ldif')], { stdio: 'pipe' });
  const port = await freePort();
  const args = ['-f', conf, '-h', `ldaps://127.0.0.1:${port}/`, '-d', '0'];
  if (process.getuid?.() === 0) {
    // Never run a test server as root: hand the directory to "nobody".
    for (const f of [dir, data, ...readdirSync(dir).map((f) => path.join(dir, f)), ...readdirSync(data).map((f) => path.join(data, f))])
      chownSync(f, 65534, 65534);
    args.push('-u', 'nobody', '-g', 'nogroup');
  }
  const proc: ChildProcess = spawn('/usr/sbin/slapd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c) => (stderr += c));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`slapd exited: ${stderr}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true))).on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`slapd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `ldaps://127.0.0.1:${port}`,
    ca: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
