/**
 * The two keys an institution signs with: an X.509 certificate + RSA key (PKCS#12) for the PDF
 * signature, and an Ed25519 key for Open Badges credentials (VC-JWT). Real ones come from config;
 * without them, development ones are created once under DATA_DIR/certificates/ so a fresh install
 * issues verifiable certificates at once (clearly marked as a development issuer).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import type { Config } from '../../core/config';

export interface PdfSigningIdentity {
  privateKey: KeyObject;
  /** Signer certificate first, then any chain certificates from the PKCS#12. */
  certificates: forge.pki.Certificate[];
  /** Subject common name, shown as the signer in PDF readers. */
  signerName: string;
  development: boolean;
}

export interface BadgeKey {
  privateKey: KeyObject;
  publicJwk: Record<string, string>;
  kid: string;
  development: boolean;
}

/** Writes a file only if it does not exist yet, so two processes starting together agree on one key. */
function writeOnce(file: string, data: string | Buffer): void {
  try {
    writeFileSync(file, data, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function devDir(config: Config): string {
  const dir = path.join(config.dataDir, 'certificates');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A self-signed development certificate (RSA 2048, 10 years): identity.p12 + its passphrase,
 * written into a fresh folder that is then renamed into place, so two processes starting
 * together on one data dir end up sharing one complete identity.
 */
function createDevP12(target: string): void {
  const passphrase = randomBytes(18).toString('base64url');
  // forge delegates RSA key generation to Node's native crypto when available.
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01' + randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86400_000);
  const attrs = [
    { name: 'commonName', value: 'Development certificate issuer (not for production)' },
    { name: 'organizationName', value: 'LMS development' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const p12 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, [cert], passphrase, { algorithm: 'aes256' });
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(tmp, 'passphrase'), passphrase + '\n', { mode: 0o600 });
  writeFileSync(path.join(tmp, 'identity.p12'), Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary'), { mode: 0o600 });
  try {
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(target, 'identity.p12'))) throw err;
  }
}

export function parseP12(p12: Buffer, passphrase: string, source: string): Omit<PdfSigningIdentity, 'development'> {
  let parsed: forge.pkcs12.Pkcs12Pfx;
  try {
    parsed = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary'))), false, passphrase);
  } catch (err) {
    throw new Error(`Cannot open the PKCS#12 file ${source}: ${(err as Error).message} (wrong CERT_P12_PASSPHRASE?)`, { cause: err });
  }
  const keyBag =
    parsed.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag]?.[0] ??
    parsed.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag]?.[0];
  const key = keyBag?.key as forge.pki.rsa.PrivateKey | undefined;
  if (!key) throw new Error(`The PKCS#12 file ${source} holds no private key`);
  const certs = (parsed.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? [])
    .map((b) => b.cert)
    .filter((c): c is forge.pki.Certificate => !!c);
  const signer = certs.find((c) => {
    const pub = c.publicKey as forge.pki.rsa.PublicKey;
    return pub.n?.compareTo(key.n) === 0 && pub.e?.compareTo(key.e) === 0;
  });
  if (!signer) throw new Error(`The PKCS#12 file ${source} has no certificate matching its private key`);
  if (signer.validity.notAfter < new Date())
    throw new Error(`The signing certificate in ${source} expired on ${signer.validity.notAfter.toISOString()}`);
  const raw = String(signer.subject.getField('CN')?.value ?? signer.subject.getField('O')?.value ?? 'Certificate issuer');
  let cn = raw;
  try {
    cn = forge.util.decodeUtf8(raw); // forge hands UTF8String values over as UTF-8 bytes
  } catch {
    // not UTF-8 (PrintableString, Latin-1 T61String): already readable as it is
  }
  return {
    privateKey: createPrivateKey(forge.pki.privateKeyToPem(key)),
    certificates: [signer, ...certs.filter((c) => c !== signer)],
    signerName: cn,
  };
}

export function loadPdfSigningIdentity(config: Config): PdfSigningIdentity {
  const file = config.env.CERT_P12_FILE;
  if (file) {
    if (!existsSync(file)) throw new Error(`CERT_P12_FILE ${file} does not exist`);
    return { ...parseP12(readFileSync(file), config.env.CERT_P12_PASSPHRASE ?? '', file), development: false };
  }
  const target = path.join(devDir(config), 'dev-signing');
  if (!existsSync(path.join(target, 'identity.p12'))) createDevP12(target);
  const p12File = path.join(target, 'identity.p12');
  return { ...parseP12(readFileSync(p12File), readFileSync(path.join(target, 'passphrase'), 'utf8').trim(), p12File), development: true };
}

export function loadBadgeKey(config: Config): BadgeKey {
  let pem: string;
  let development = false;
  const file = config.env.CERT_BADGE_KEY_FILE;
  if (file) {
    if (!existsSync(file)) throw new Error(`CERT_BADGE_KEY_FILE ${file} does not exist`);
    pem = readFileSync(file, 'utf8');
  } else {
    const devFile = path.join(devDir(config), 'badge-ed25519.pem');
    if (!existsSync(devFile)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      writeOnce(devFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    }
    pem = readFileSync(devFile, 'utf8');
    development = true;
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`The badge key ${file ?? ''} must be an Ed25519 private key (PKCS#8 PEM)`);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, string>;
  // RFC 7638 thumbprint as key id: stable for the key, new when the key is rotated.
  const kid = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
    .digest('base64url');
  return { privateKey, publicJwk: { ...jwk, alg: 'EdDSA', use: 'sig', kid }, kid, development };
}
