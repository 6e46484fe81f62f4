import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import type { CertificatesService } from '../../server/plugins/certificates/certificates.service';
import { csrfFrom, makeUser, settled, signIn } from '../helpers';
import { certificatesApp, course, satisfied, withPdfFile, run } from './helpers';

describe('certificates: public verification, revocation and reissue', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let svc: CertificatesService;
  before(async () => {
    lms = await certificatesApp();
    svc = lms.services.get('certificates');
  });
  after(() => lms.close());

  async function issued(fields: Parameters<typeof makeUser>[1] = {}) {
    const u = await makeUser(lms, { orgUnit: 'DEMO-MUNI', ...fields });
    await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, course()));
    await settled(lms);
    const [cert] = await svc.listForUser(u.id);
    return { u, cert };
  }

  it('shows a valid certificate to anyone, as HTML and as JSON, with only the minimum personal data', async () => {
    const { u, cert } = await issued({ name: 'Lucía Pérez' });
    const html = await supertest(lms.app).get(`/verify/${cert._id}`).set('Accept', 'text/html').expect(200);
    expect(html.text).to.contain('Lucía Pérez').and.contain('Certificado válido').and.contain('Municipalidad de Demostración');
    expect(html.text).to.not.contain(u.email);
    const json = await supertest(lms.app).get(`/verify/${cert._id.toLowerCase()}?format=json`).expect(200);
    expect(json.body).to.deep.equal({
      status: 'valid',
      code: cert._id,
      name: 'Lucía Pérez',
      title: 'Seguridad de la información en la administración pública',
      kind: 'course',
      completedAt: '2026-03-03',
      issuedAt: cert.issuedAt.toISOString(),
      institution: 'Municipalidad de Demostración',
    });
    const viaAccept = await supertest(lms.app).get(`/verify/${cert._id}`).set('Accept', 'application/json').expect(200);
    expect(viaAccept.body.status).to.equal('valid');
  });

  it('answers unknown and malformed codes with the "unknown" page (404), never an error trace', async () => {
    const unknown = 'A'.repeat(32);
    for (const code of [unknown, 'abc', '..%2F..%2Fetc%2Fpasswd', '%00', 'x'.repeat(500), '$where', '{"$gt":""}']) {
      const res = await supertest(lms.app).get(`/verify/${code}`).set('Accept', 'text/html');
      expect(res.status, code).to.equal(404);
      expect(res.text, code).to.contain('No existe ningún certificado con este código');
      expect(res.text, code).to.not.match(/at .*\.ts:\d+|Error:/);
    }
    const json = await supertest(lms.app).get(`/verify/${unknown}`).query({ format: 'json' }).expect(404);
    expect(json.body).to.deep.equal({ status: 'unknown' });
  });

  it('the verification form sends people to the code they typed, spaces and dashes allowed', async () => {
    const { cert } = await issued();
    const grouped = cert._id.replace(/(.{4})(?=.)/g, '$1 ');
    const res = await supertest(lms.app).get('/verify').query({ code: grouped }).expect(303);
    expect(res.headers.location).to.equal(`/verify/${cert._id}`);
  });

  it('an HR officer revokes with a reason; the page then says revoked, when and why', async () => {
    const { cert } = await issued();
    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'DEMO-MUNI' });
    const agent = await signIn(lms, hr.email, hr.password);
    const page = await agent.get(`/certificates/manage/${cert._id}`).expect(200);
    const bad = await agent
      .post(`/certificates/manage/${cert._id}/revoke`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), reason: '' })
      .expect(400);
    expect(bad.text).to.contain('Indique un motivo');
    expect((await svc.get(cert._id))!.status).to.equal('valid');
    await agent
      .post(`/certificates/manage/${cert._id}/revoke`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), reason: 'Emitido por error de registro' })
      .expect(303);
    const json = await supertest(lms.app).get(`/verify/${cert._id}?format=json`).expect(200);
    expect(json.body).to.include({ status: 'revoked', revokeReason: 'Emitido por error de registro' });
    expect(new Date(json.body.revokedAt).getTime()).to.be.closeTo(Date.now(), 60_000);
    const html = await supertest(lms.app).get(`/verify/${cert._id}`).set('Accept', 'text/html').expect(200);
    expect(html.text).to.contain('fue revocado').and.contain('Emitido por error de registro');
    // Revoking twice is a conflict, not a second revocation.
    await agent
      .post(`/certificates/manage/${cert._id}/revoke`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), reason: 'otra vez' })
      .expect(409);
  });

  it('reissue after a name correction: new code with the new name, the old one shows "replaced by"', async () => {
    const { u, cert } = await issued({ name: 'Jose Nunez' });
    const admin = await makeUser(lms, { role: 'admin' });
    const agent = await signIn(lms, admin.email, admin.password);
    const page = await agent.get(`/certificates/manage/${cert._id}`).expect(200);
    const res = await agent
      .post(`/certificates/manage/${cert._id}/reissue`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), name: 'José Núñez', reason: 'Corrección de tildes en el nombre' })
      .expect(303);
    const newCode = /\/certificates\/manage\/([A-Z2-7]{32})/.exec(res.headers.location)![1];
    expect(newCode).to.not.equal(cert._id);
    const old = await supertest(lms.app).get(`/verify/${cert._id}?format=json`).expect(200);
    expect(old.body).to.include({ status: 'replaced', replacedBy: newCode, name: 'Jose Nunez' });
    const oldHtml = await supertest(lms.app).get(`/verify/${cert._id}`).set('Accept', 'text/html').expect(200);
    expect(oldHtml.text).to.contain('reemplazado').and.contain(`/verify/${newCode}`);
    const fresh = await supertest(lms.app).get(`/verify/${newCode}?format=json`).expect(200);
    expect(fresh.body).to.include({ status: 'valid', name: 'José Núñez' });
    // History kept: both on the learner's list; the new PDF carries the corrected name.
    const list = await svc.listForUser(u.id);
    expect(list.map((c) => c._id).sort()).to.deep.equal([cert._id, newCode].sort());
    await withPdfFile(await svc.pdf(newCode), async (file) => {
      const text = (await run('pdftotext', [file, '-'])).stdout;
      expect(text, text).to.contain('José Núñez');
    });
    // The same event firing again does not bring back a third certificate.
    await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, { ...course(), id: cert.subjectId }));
    await settled(lms);
    expect(await svc.listForUser(u.id)).to.have.length(2);
    // A replaced certificate cannot be reissued again.
    await agent
      .post(`/certificates/manage/${cert._id}/reissue`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), name: 'X', reason: 'again please' })
      .expect(409);
  });

  it('rate-limits verification lookups per address', async () => {
    const limited = await certificatesApp({ CERT_VERIFY_RATE_LIMIT: '3' });
    try {
      for (let i = 0; i < 3; i++)
        await supertest(limited.app)
          .get(`/verify/${'B'.repeat(32)}?format=json`)
          .expect(404);
      await supertest(limited.app)
        .get(`/verify/${'B'.repeat(32)}?format=json`)
        .expect(429);
    } finally {
      await limited.close();
    }
  });
});
