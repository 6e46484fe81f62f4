import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, settled, signIn } from '../helpers';
import { cmi5Xml, importXml } from '../catalog/launch-fixtures';
import { certificatesApp, course, satisfied } from '../certificates/helpers';

/**
 * An HR officer manages the people of their units, but not an administrator who sits in one of
 * them, nor their own records: no waiver, no person page, no certificate revoked or reissued.
 */
describe('security: HR officers do not manage the administrator or themselves', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  const C = 'https://courses.example.org/separacion';
  const AU = `${C}/au/1`;

  before(async () => {
    lms = await certificatesApp();
    await importXml(lms, cmi5Xml(C, 'Separación', [{ au: AU, moveOn: 'Completed' }]));
  });
  after(() => lms.close());

  /** Enrols the person through the course page and returns their registration. */
  async function registrationOf(u: { id: string; email: string; password: string }) {
    const agent = await signIn(lms, u.email, u.password);
    const page = await agent.get(`/catalog/course?id=${encodeURIComponent(C)}`).expect(200);
    await agent
      .post('/catalog/enrol')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), courseId: C })
      .expect(303);
    await settled(lms);
    return (await lms.services.get('catalog').progressOf(u.id, [C]))[0].registration;
  }

  it('refuses waivers, person pages and certificate management for the admin and the officer, allows them for a learner', async () => {
    const admin = await makeUser(lms, { role: 'admin', orgUnit: 'MIN-A', email: 'programa@a.gov' });
    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'MIN-A', email: 'rrhh@a.gov' });
    const learner = await makeUser(lms, { role: 'learner', orgUnit: 'MIN-A', email: 'servidora@a.gov' });
    const regs = { admin: await registrationOf(admin), hr: await registrationOf(hr), learner: await registrationOf(learner) };
    const certs: Record<string, string> = {};
    for (const [who, u] of Object.entries({ admin, hr, learner }))
      certs[who] = (await lms.services
        .get('certificates')
        .issueForCourse(satisfied(u.id, course({ id: `${C}/cert/${who}` }))))!.certificate._id;

    const officer = await signIn(lms, hr.email, hr.password);
    const csrf = csrfFrom((await officer.get('/catalog/my-path').expect(200)).text);
    const people = (await officer.get('/catalog/people').expect(200)).text;
    expect(people).to.contain(learner.email);
    expect(people).not.to.contain(admin.email);
    const manage = (await officer.get('/certificates/manage').expect(200)).text;
    expect(manage).to.contain(certs.learner);
    expect(manage).not.to.contain(certs.admin);
    expect(manage).not.to.contain(certs.hr);

    for (const who of ['admin', 'hr'] as const) {
      const id = { admin, hr }[who].id;
      await officer.get(`/catalog/people/${id}`).expect(403);
      await officer
        .post('/catalog/waive')
        .type('form')
        .send({
          _csrf: csrf,
          registration: regs[who],
          auId: AU,
          reason: 'Tested Out',
          comment: 'Certificado externo presentado',
          confirm: '1',
        })
        .expect(403);
      await officer.get(`/certificates/manage/${certs[who]}`).expect(404);
      await officer.post(`/certificates/manage/${certs[who]}/revoke`).type('form').send({ _csrf: csrf, reason: 'Por prueba' }).expect(404);
      await officer
        .post(`/certificates/manage/${certs[who]}/reissue`)
        .type('form')
        .send({ _csrf: csrf, name: 'Otro Nombre', reason: 'Por prueba' })
        .expect(404);
      const cert = await lms.db.collection('certificates_certificates').findOne({ _id: certs[who] as never });
      expect(cert!.status, who).to.equal('valid');
    }
    // The officer's own certificate is still theirs to download.
    await officer.get(`/certificates/${certs.hr}/pdf`).expect(200);

    // The learner of the same unit: the officer's work.
    await officer.get(`/catalog/people/${learner.id}`).expect(200);
    await officer
      .post('/catalog/waive')
      .type('form')
      .send({
        _csrf: csrf,
        registration: regs.learner,
        auId: AU,
        reason: 'Tested Out',
        comment: 'Certificado externo presentado',
        confirm: '1',
      })
      .expect(303);
    await officer.post(`/certificates/manage/${certs.learner}/revoke`).type('form').send({ _csrf: csrf, reason: 'Por prueba' }).expect(303);

    // The administrator handles everyone's records.
    const programme = await signIn(lms, admin.email, admin.password);
    const adminCsrf = csrfFrom((await programme.get('/catalog/my-path').expect(200)).text);
    await programme.get(`/catalog/people/${hr.id}`).expect(200);
    await programme
      .post('/catalog/waive')
      .type('form')
      .send({
        _csrf: adminCsrf,
        registration: regs.hr,
        auId: AU,
        reason: 'Tested Out',
        comment: 'Certificado externo presentado',
        confirm: '1',
      })
      .expect(303);
  });
});
