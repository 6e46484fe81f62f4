import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import supertest from 'supertest';
import yauzl from 'yauzl';
import type { LmsApp } from '../../server/app';
import type { CertificatesService } from '../../server/plugins/certificates/certificates.service';
import { makeUser, settled, signIn } from '../helpers';
import { binaryParser, certificatesApp, course, satisfied } from './helpers';

// Credentials read back as JSON: deep property access is the point.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function entryNames(buf: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const names: string[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        names.push(e.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names));
      zip.readEntry();
    });
  });
}

/**
 * A revoked certificate stops being handed out as if valid: its badge's Bitstring Status List
 * entry says revoked to any verifier, and its PDF and badge are no longer downloaded.
 */
describe('certificates: revocation reaches verifiers and downloads', function () {
  this.timeout(90_000);
  let lms: LmsApp;
  let svc: CertificatesService;
  let jwks: ReturnType<typeof createLocalJWKSet>;
  let issuerId: string;

  before(async () => {
    lms = await certificatesApp();
    svc = lms.services.get('certificates');
    jwks = createLocalJWKSet((await supertest(lms.app).get('/certificates/jwks.json').expect(200)).body as JSONWebKeySet);
    issuerId = (await supertest(lms.app).get('/certificates/issuer.json').expect(200)).body.id;
  });
  after(() => lms.close());

  async function issueFor(name: string) {
    const u = await makeUser(lms, { orgUnit: 'UNIT-R', name });
    await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, course(), 0.9));
    await settled(lms);
    const [cert] = await svc.listForUser(u.id);
    return { u, cert, agent: await signIn(lms, u.email, u.password) };
  }

  /** What a verifier does (W3C Bitstring Status List §3.2): fetch the list, check its signature, read the bit. */
  async function revokedBit(credentialStatus: Json): Promise<boolean> {
    expect(credentialStatus).to.include({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation' });
    const url = new URL(credentialStatus.statusListCredential);
    const res = await supertest(lms.app).get(url.pathname).buffer(true).parse(binaryParser).expect(200);
    expect(res.headers['content-type']).to.match(/^application\/vc\+jwt/);
    const { payload } = await jwtVerify(res.body.toString(), jwks, { issuer: issuerId, algorithms: ['EdDSA'] });
    const list = (payload as Json).vc;
    expect(list.type).to.include('BitstringStatusListCredential');
    expect(list.id).to.equal(credentialStatus.statusListCredential);
    expect(list.credentialSubject).to.include({ type: 'BitstringStatusList', statusPurpose: 'revocation' });
    const encoded: string = list.credentialSubject.encodedList;
    expect(encoded[0], 'multibase base64url').to.equal('u');
    const bits = gunzipSync(Buffer.from(encoded.slice(1), 'base64url'));
    expect(bits.length, 'at least 16 KiB').to.be.at.least(16_384);
    const index = Number(credentialStatus.statusListIndex);
    return (bits[Math.floor(index / 8)] & (0x80 >> (index % 8))) !== 0;
  }

  const badgeOf = async (agent: Awaited<ReturnType<typeof signIn>>, code: string) => {
    const jwt = (await agent.get(`/certificates/${code}/badge`).buffer(true).parse(binaryParser).expect(200)).body.toString();
    return ((await jwtVerify(jwt, jwks, { issuer: issuerId })).payload as Json).vc;
  };

  it('a badge names its entry in a signed revocation list; after revocation the bit is set for it alone', async () => {
    const kept = await issueFor('Carmen Vigente');
    const gone = await issueFor('Rosa Revocada');
    const keptVc = await badgeOf(kept.agent, kept.cert._id);
    const goneVc = await badgeOf(gone.agent, gone.cert._id);
    expect(goneVc['@context']).to.include('https://www.w3.org/ns/credentials/status/v1');
    expect(goneVc.credentialStatus.statusListIndex).not.to.equal(keptVc.credentialStatus.statusListIndex);
    // A second download names the same entry.
    expect((await badgeOf(gone.agent, gone.cert._id)).credentialStatus).to.deep.equal(goneVc.credentialStatus);
    expect(await revokedBit(goneVc.credentialStatus)).to.equal(false);

    const admin = await makeUser(lms, { role: 'admin' });
    await svc.revoke(admin, gone.cert._id, 'Emitido por error');
    expect(await revokedBit(goneVc.credentialStatus)).to.equal(true);
    expect(await revokedBit(keptVc.credentialStatus)).to.equal(false);

    // Reissued: the replaced one reads as revoked too.
    await svc.reissue(admin, kept.cert._id, { name: 'Carmen Vigente Díaz', reason: 'Corrección del nombre' });
    expect(await revokedBit(keptVc.credentialStatus)).to.equal(true);
  });

  it('a revoked certificate’s PDF and badge are refused with the reason, to its holder and to HR, and left out of the zip', async () => {
    const { cert, agent } = await issueFor('Lucía Anulada');
    const admin = await makeUser(lms, { role: 'admin' });
    await svc.revoke(admin, cert._id, 'Emitido por error');

    const pdf = await agent.get(`/certificates/${cert._id}/pdf`);
    expect(pdf.status).to.equal(410);
    expect(pdf.headers['content-type']).to.match(/text\/html/);
    expect(pdf.text).to.contain('ya no es válido').and.contain(cert._id);
    await agent.get(`/certificates/${cert._id}/badge`).expect(410);
    const json = await agent.get(`/certificates/${cert._id}/pdf`).set('Accept', 'application/json').expect(410);
    expect(json.body.error.message).to.contain('revoked');
    const mine = await agent.get('/certificates/mine').expect(200);
    expect(mine.text).not.to.contain(`/certificates/${cert._id}/pdf`);
    expect(mine.text).to.contain(`/verify/${cert._id}`);

    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'UNIT-R' });
    const officer = await signIn(lms, hr.email, hr.password);
    await officer.get(`/certificates/${cert._id}/pdf`).expect(410);
    const detail = await officer.get(`/certificates/manage/${cert._id}`).expect(200);
    expect(detail.text).not.to.contain(`/certificates/${cert._id}/pdf`);
    const zip = await officer.get('/certificates/manage/export.zip?status=revoked').buffer(true).parse(binaryParser).expect(200);
    const names = await entryNames(zip.body as Buffer);
    expect(names).to.deep.equal(['index.csv']);
  });

  it('a status list number out of range or malformed is a 404, not a server error', async () => {
    await supertest(lms.app).get('/certificates/status/1e400').expect(404);
    await supertest(lms.app).get('/certificates/status/-1').expect(404);
    const empty = await supertest(lms.app).get('/certificates/status/7').expect(200);
    expect(empty.headers['cache-control']).to.contain('max-age');
  });
});
