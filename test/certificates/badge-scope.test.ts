import { expect } from 'chai';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import supertest from 'supertest';
import yauzl from 'yauzl';
import type { LmsApp } from '../../server/app';
import type { CertificatesService } from '../../server/plugins/certificates/certificates.service';
import { makeUser, settled, signIn } from '../helpers';
import { binaryParser, certificatesApp, course, pdfsigVerdict, satisfied } from './helpers';

function unzip(buf: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const files = new Map<string, Buffer>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(files));
      zip.readEntry();
    });
  });
}

describe('certificates: Open Badges credential and HR scope', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let svc: CertificatesService;
  before(async () => {
    lms = await certificatesApp();
    svc = lms.services.get('certificates');
  });
  after(() => lms.close());

  async function issueFor(orgUnit: string, name: string) {
    const u = await makeUser(lms, { orgUnit, name });
    await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, course(), 0.8));
    await settled(lms);
    const [cert] = await svc.listForUser(u.id);
    return { u, cert };
  }

  it('the learner downloads an OpenBadgeCredential that verifies offline with the published key, and not once altered', async () => {
    const { u, cert } = await issueFor('UNIT-A', 'Carla Souza');
    const agent = await signIn(lms, u.email, u.password);
    const mine = await agent.get('/certificates/mine').expect(200);
    expect(mine.text).to.contain(`/certificates/${cert._id}/pdf`).and.contain(`/certificates/${cert._id}/badge`);
    const jwt = (await agent.get(`/certificates/${cert._id}/badge`).buffer(true).parse(binaryParser).expect(200)).body.toString();
    // The verifier fetched the public keys once; from here on it needs no network.
    const jwks = (await supertest(lms.app).get('/certificates/jwks.json').expect(200)).body as JSONWebKeySet;
    const issuer = (await supertest(lms.app).get('/certificates/issuer.json').expect(200)).body;
    expect(issuer.publicKey[0].publicKeyJwk).to.deep.equal(jwks.keys[0]);
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: issuer.id, algorithms: ['EdDSA'] });
    expect(protectedHeader.alg).to.equal('EdDSA');
    const vc = payload.vc as Record<string, unknown> & {
      credentialSubject: Record<string, unknown> & { achievement: Record<string, unknown> };
    };
    expect(vc.type).to.deep.equal(['VerifiableCredential', 'OpenBadgeCredential']);
    expect(vc['@context']).to.include('https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json');
    expect(vc.id).to.equal(`${lms.config.baseUrl}/verify/${cert._id}`);
    expect(vc.credentialSubject.achievement.id).to.equal(cert.subjectId);
    expect(JSON.stringify(vc.credentialSubject)).to.contain('Carla Souza');
    // Change the name in the payload, keep the signature: verification must fail.
    const [h, p, s] = jwt.split('.');
    const forged = JSON.parse(Buffer.from(p, 'base64url').toString());
    forged.vc.credentialSubject.identifier[0].identityHash = 'Someone Else';
    const forgedJwt = [h, Buffer.from(JSON.stringify(forged)).toString('base64url'), s].join('.');
    let failed = false;
    await jwtVerify(forgedJwt, createLocalJWKSet(jwks)).catch(() => (failed = true));
    expect(failed).to.equal(true);
  });

  it('learners reach only their own certificates; others are "not found"', async () => {
    const { u } = await issueFor('UNIT-A', 'Owner One');
    const other = await issueFor('UNIT-A', 'Other Person');
    const agent = await signIn(lms, u.email, u.password);
    await agent.get(`/certificates/${other.cert._id}/pdf`).expect(404);
    await agent.get(`/certificates/${other.cert._id}/badge`).expect(404);
    await agent.get('/certificates/manage').expect(403);
    await agent.get('/certificates/manage/export.zip').expect(403);
  });

  it('an HR officer lists, opens and bulk-downloads only the certificates of their unit', async () => {
    const a1 = await issueFor('UNIT-HR-A', 'Alicia Unidad A');
    const a2 = await issueFor('UNIT-HR-A', 'Andrés Unidad A');
    const b1 = await issueFor('UNIT-HR-B', 'Beatriz Unidad B');
    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'UNIT-HR-A' });
    const agent = await signIn(lms, hr.email, hr.password);

    const list = await agent.get('/certificates/manage').expect(200);
    expect(list.text).to.contain('Alicia Unidad A').and.contain('Andrés Unidad A');
    expect(list.text).to.not.contain('Beatriz Unidad B');
    expect(list.text).to.contain('2 certificados en su ámbito');

    await agent.get(`/certificates/manage/${a1.cert._id}`).expect(200);
    await agent.get(`/certificates/manage/${b1.cert._id}`).expect(404);
    await agent.get(`/certificates/${b1.cert._id}/pdf`).expect(404);
    await agent.get(`/certificates/${a2.cert._id}/pdf`).expect(200);

    const zip = await agent
      .get('/certificates/manage/export.zip')
      .buffer(true)
      .parse(binaryParser)
      .expect(200)
      .expect('Content-Type', /zip/);
    const files = await unzip(zip.body as Buffer);
    const pdfs = [...files.keys()].filter((f) => f.endsWith('.pdf')).sort();
    expect(pdfs).to.deep.equal([`Alicia-Unidad-A-${a1.cert._id}.pdf`, `Andres-Unidad-A-${a2.cert._id}.pdf`].sort());
    // The files in the zip are the stored, signed PDFs, byte for byte.
    expect(files.get(`Alicia-Unidad-A-${a1.cert._id}.pdf`)!.equals(await svc.pdf(a1.cert._id))).to.equal(true);
    expect(await pdfsigVerdict(files.get(`Andres-Unidad-A-${a2.cert._id}.pdf`)!)).to.equal('Signature is Valid.');
    const index = files.get('index.csv')!.toString();
    expect(index).to.contain(a1.cert._id).and.not.contain(b1.cert._id);

    // An HR officer with no unit sees nothing; an admin sees every unit.
    const lost = await makeUser(lms, { role: 'hr' });
    const lostAgent = await signIn(lms, lost.email, lost.password);
    expect((await lostAgent.get('/certificates/manage').expect(200)).text).to.contain('0 certificados en su ámbito');
    const admin = await makeUser(lms, { role: 'admin' });
    const adminAgent = await signIn(lms, admin.email, admin.password);
    const all = await adminAgent.get('/certificates/manage').query({ q: 'Unidad' }).expect(200);
    expect(all.text).to.contain('Beatriz Unidad B').and.contain('Alicia Unidad A');
  });

  it('HR cannot revoke outside their unit', async () => {
    const b = await issueFor('UNIT-X', 'Xavier');
    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'UNIT-Y' });
    await svc.revoke(hr, b.cert._id, 'not mine').then(
      () => expect.fail('revoked outside scope'),
      (err: { status?: number }) => expect(err.status).to.equal(404),
    );
    expect((await svc.get(b.cert._id))!.status).to.equal('valid');
  });
});
