import { createHash, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { CompactSign } from 'jose';
import forge from 'node-forge';
import type { LmsApp } from '../../server/app';
import { testApp, binaryParser } from '../helpers';
import { randomUUID, statement, xapiClient } from './lrs-helpers';

const BOUNDARY = 'abcABC0123';

function multipart(parts: Array<{ headers: Record<string, string>; body: Buffer | string }>): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const head = Object.entries(p.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    chunks.push(Buffer.from(`--${BOUNDARY}\r\n${head}\r\n`), Buffer.from(p.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function attachment(content: Buffer | string, usageType = 'http://example.org/usage/report', contentType = 'text/plain') {
  return { usageType, display: { es: 'Informe' }, contentType, length: Buffer.byteLength(content), sha2: sha256(content) };
}

/** A self-signed certificate and its key, as a signer of xAPI statements would have. */
function signer() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 86400_000);
  cert.validity.notAfter = new Date(Date.now() + 86400_000);
  const attrs = [{ name: 'commonName', value: 'LRS test signer' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), forge.md.sha256.create());
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  return { privateKey, x5c: forge.util.encode64(der) };
}

describe('lrs: attachments and signed statements', () => {
  let lms: LmsApp;
  let c: Awaited<ReturnType<typeof xapiClient>>;
  before(async () => {
    lms = await testApp();
    c = await xapiClient(lms);
  });
  after(() => lms.close());

  const post = (body: Buffer) => c.post('/xapi/statements').set('Content-Type', `multipart/mixed; boundary=${BOUNDARY}`).send(body);

  it('stores an attachment sent as multipart/mixed and returns it with attachments=true', async () => {
    const content = 'Informe de avance: 80 % completado\n';
    const s = statement({ id: randomUUID(), attachments: [attachment(content)] });
    await post(
      multipart([
        { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(s) },
        {
          headers: { 'Content-Type': 'text/plain', 'Content-Transfer-Encoding': 'binary', 'X-Experience-API-Hash': sha256(content) },
          body: content,
        },
      ]),
    ).expect(200);
    const res = await c.get(`/xapi/statements?statementId=${s.id}&attachments=true`).buffer(true).parse(binaryParser).expect(200);
    expect(res.headers['content-type']).to.match(/^multipart\/mixed; boundary=/);
    const text = (res.body as Buffer).toString('utf8');
    expect(text).to.contain(`X-Experience-API-Hash: ${sha256(content)}`);
    expect(text).to.contain(content);
    expect(text).to.contain(`"id":"${s.id}"`);
  });

  it('rejects an attachment whose content is missing or does not match its hash, storing nothing', async () => {
    const s = statement({ id: randomUUID(), attachments: [attachment('real content')] });
    const missing = await c.post('/xapi/statements').send(s).expect(400);
    expect(missing.body.error.message).to.contain('statement.attachments[0]');
    const wrong = await post(
      multipart([
        { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(s) },
        {
          headers: { 'Content-Type': 'text/plain', 'Content-Transfer-Encoding': 'binary', 'X-Experience-API-Hash': sha256('real content') },
          body: 'forged content',
        },
      ]),
    ).expect(400);
    expect(wrong.body.error.message).to.contain('does not have that hash');
    await c.get(`/xapi/statements?statementId=${s.id}`).expect(404);
    await post(Buffer.from('no boundary here')).expect(400);
  });

  it('verifies signed statements (JWS RS256 with x5c) and rejects a tampered one', async () => {
    const { privateKey, x5c } = signer();
    const base = statement({ id: randomUUID() });
    const jws = await new CompactSign(Buffer.from(JSON.stringify(base))).setProtectedHeader({ alg: 'RS256', x5c: [x5c] }).sign(privateKey);
    const sig = attachment(jws, 'http://adlnet.gov/expapi/attachments/signature', 'application/octet-stream');
    const send = (s: Record<string, unknown>, token: string) =>
      post(
        multipart([
          { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(s) },
          {
            headers: {
              'Content-Type': 'application/octet-stream',
              'Content-Transfer-Encoding': 'binary',
              'X-Experience-API-Hash': sha256(token),
            },
            body: token,
          },
        ]),
      );
    await send({ ...base, attachments: [sig] }, jws).expect(200);

    const tampered = { ...base, id: randomUUID(), result: { success: true } };
    const jws2 = await new CompactSign(Buffer.from(JSON.stringify({ ...base, id: tampered.id })))
      .setProtectedHeader({ alg: 'RS256', x5c: [x5c] })
      .sign(privateKey);
    const r = await send(
      { ...tampered, attachments: [attachment(jws2, 'http://adlnet.gov/expapi/attachments/signature', 'application/octet-stream')] },
      jws2,
    ).expect(400);
    expect(r.body.error.message).to.contain('does not match the statement');

    // A signature made with another key than the certificate's does not verify.
    const other = signer();
    const s3 = statement({ id: randomUUID() });
    const jws3 = await new CompactSign(Buffer.from(JSON.stringify(s3)))
      .setProtectedHeader({ alg: 'RS256', x5c: [x5c] })
      .sign(other.privateKey);
    const r3 = await send(
      { ...s3, attachments: [attachment(jws3, 'http://adlnet.gov/expapi/attachments/signature', 'application/octet-stream')] },
      jws3,
    ).expect(400);
    expect(r3.body.error.message).to.contain('does not verify');
  });
});
