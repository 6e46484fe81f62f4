import { expect } from 'chai';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import supertest from 'supertest';
import { makeUser, settled } from '../helpers';
import { certificatesApp, course, run, satisfied, withPdfFile } from './helpers';

/** An institution's signing certificate issued by its own CA, packed as PKCS#12 with the chain. */
function institutionP12(passphrase: string): Buffer {
  const make = (
    cn: string,
    issuer: forge.pki.CertificateField[] | undefined,
    signKey: forge.pki.rsa.PrivateKey | undefined,
    ca: boolean,
  ) => {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = '0' + Math.floor(Math.random() * 1e9).toString(16);
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 365 * 86400_000);
    // UTF8String values, as OpenSSL writes them for names with accents.
    const utf8 = (value: string) => ({ value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class });
    const subject = [
      { name: 'commonName', ...utf8(cn) },
      { name: 'organizationName', ...utf8('Municipalidad de Demostración') },
    ];
    cert.setSubject(subject);
    cert.setIssuer(issuer ?? subject);
    cert.setExtensions([{ name: 'basicConstraints', cA: ca }]);
    cert.sign(signKey ?? keys.privateKey, forge.md.sha256.create());
    return { keys, cert, subject };
  };
  const ca = make('Autoridad Certificadora Municipal', undefined, undefined, true);
  const leaf = make('Firma de certificados — Recursos Humanos', ca.subject, ca.keys.privateKey, false);
  const asn1 = forge.pkcs12.toPkcs12Asn1(leaf.keys.privateKey, [leaf.cert, ca.cert], passphrase, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

describe('certificates: the institution’s own keys from configuration', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cert-keys-'));
  const p12File = path.join(dir, 'institution.p12');
  const badgeKeyFile = path.join(dir, 'badge.pem');
  before(() => {
    writeFileSync(p12File, institutionP12('clave de prueba ñ'));
    writeFileSync(badgeKeyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('signs with CERT_P12_FILE (chain embedded) and publishes the badge key of CERT_BADGE_KEY_FILE', async () => {
    const lms = await certificatesApp({
      CERT_P12_FILE: p12File,
      CERT_P12_PASSPHRASE: 'clave de prueba ñ',
      CERT_BADGE_KEY_FILE: badgeKeyFile,
      CERT_SIGN_LOCATION: 'Lima',
    });
    try {
      const u = await makeUser(lms);
      await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, course()));
      await settled(lms);
      const [cert] = await lms.services.get('certificates').listForUser(u.id);
      const out = await withPdfFile(
        await lms.services.get('certificates').pdf(cert._id),
        async (file) => (await run('pdfsig', [file]).catch((e) => e)).stdout as string,
      );
      expect(out, out).to.contain('Signer Certificate Common Name: Firma de certificados — Recursos Humanos');
      expect(out).to.contain('Signature Validation: Signature is Valid.');
      const expected = createPublicKey(readFileSync(badgeKeyFile, 'utf8')).export({ format: 'jwk' });
      const { body } = await supertest(lms.app).get('/certificates/jwks.json').expect(200);
      expect(body.keys[0].x).to.equal(expected.x);
    } finally {
      await lms.close();
    }
  });

  it('a wrong passphrase or a missing file stops start-up with a message saying so', async () => {
    const fail = (env: Record<string, string>) =>
      certificatesApp(env).then(
        (lms) => lms.close().then(() => ''),
        (err: Error) => err.message,
      );
    expect(await fail({ CERT_P12_FILE: p12File, CERT_P12_PASSPHRASE: 'wrong' })).to.match(
      /Cannot open the PKCS#12 file .*institution\.p12.*CERT_P12_PASSPHRASE/,
    );
    expect(await fail({ CERT_P12_FILE: path.join(dir, 'nope.p12') })).to.match(/CERT_P12_FILE .*nope\.p12 does not exist/);
  });
});
