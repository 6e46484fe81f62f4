import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import type { CertificatesService } from '../../server/plugins/certificates/certificates.service';
import { makeUser, settled, signIn } from '../helpers';
import { reportsPlugin } from '../../server/plugins/reports';
import { binaryParser, certificatesApp, course, pdfsigVerdict, run, satisfied, withPdfFile } from './helpers';

describe('certificates: issuing signed PDFs', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let svc: CertificatesService;
  before(async () => {
    lms = await certificatesApp();
    svc = lms.services.get('certificates');
  });
  after(() => lms.close());

  it('issues exactly one certificate however often (and however concurrently) the satisfied event fires', async () => {
    const u = await makeUser(lms, { orgUnit: 'DEMO-MUNI' });
    const c = course();
    const event = satisfied(u.id, c, 0.9);
    await lms.hooks.emit('catalog.course.satisfied', event);
    await settled(lms);
    await lms.hooks.emit('catalog.course.satisfied', event);
    await settled(lms);
    await Promise.all([1, 2, 3, 4].map(() => lms.hooks.emit('catalog.course.satisfied', event)));
    await settled(lms);
    const list = await svc.listForUser(u.id);
    expect(list).to.have.length(1);
    expect(list[0]).to.include({ subjectId: c.id, status: 'valid', hours: 12, score: 90, template: 'DEMO-MUNI' });
    // A new version of the course is a new certificate.
    await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, { ...c, version: 2 }));
    await settled(lms);
    expect(await svc.listForUser(u.id)).to.have.length(2);
  });

  it('records the issuing in the LRS as an xAPI "earned" statement', async () => {
    const u = await makeUser(lms);
    await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, course()));
    await settled(lms);
    const [cert] = await svc.listForUser(u.id);
    expect(cert.xapiStatementId).to.be.a('string');
    await settled(lms); // the "earned" statement follows the certificate through the outbox
    const { key, secret } = await lms.services.get('lrs.credentials').createClient({ name: 'cert-test', scopes: ['all'] });
    const res = await supertest(lms.app)
      .get('/xapi/statements')
      .query({ statementId: cert.xapiStatementId })
      .set('X-Experience-API-Version', '1.0.3')
      .auth(key, secret)
      .expect(200);
    expect(res.body.verb.id).to.equal('http://id.tincanapi.com/verb/earned');
    expect(res.body.object.id).to.equal(`${lms.config.baseUrl}/verify/${cert._id}`);
    expect(res.body.actor.account).to.deep.equal({ homePage: lms.config.baseUrl, name: u.id });
  });

  it('prints name, course, hours, score and code in an embedded font, and the QR code leads to the verification page', async () => {
    const name = 'José Ñúñez da Conceição';
    const u = await makeUser(lms, { name, orgUnit: 'DEMO-MUNI', language: 'pt' });
    const c = course({ hours: 7.5 });
    await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, c, 0.875));
    await settled(lms);
    const [cert] = await svc.listForUser(u.id);
    const agent = await signIn(lms, u.email, u.password);
    const res = await agent
      .get(`/certificates/${cert._id}/pdf`)
      .buffer(true)
      .parse(binaryParser)
      .expect(200)
      .expect('Content-Type', /application\/pdf/);
    const pdf = res.body as Buffer;
    expect(pdf.length).to.equal(cert.pdfBytes);
    await withPdfFile(pdf, async (file) => {
      const text = (await run('pdftotext', ['-layout', file, '-'])).stdout;
      expect(text).to.contain(name);
      expect(text).to.contain('Segurança da informação na administração pública');
      expect(text).to.contain('Carga horária: 7,5 horas');
      expect(text).to.contain('Nota: 87,5 %');
      expect(text).to.contain('3 de março de 2026');
      expect(text).to.contain(cert._id.replace(/(.{4})(?=.)/g, '$1 '));
      expect(text).to.contain('Prefeitura de Demonstração');
      const fonts = (await run('pdffonts', [file])).stdout;
      expect(fonts).to.match(/DejaVuSans\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/);
      const info = (await run('pdfinfo', [file])).stdout;
      expect(info).to.match(/Page size:\s+841\.89 x 595\.28 pts \(A4\)/);
      await run('pdftoppm', ['-r', '150', '-png', '-singlefile', file, path.join(path.dirname(file), 'page')]);
      const qr = (await run('zbarimg', ['-q', '--raw', path.join(path.dirname(file), 'page.png')])).stdout.trim();
      expect(qr).to.equal(`${lms.config.baseUrl}/verify/${cert._id}`);
    });
  });

  it('signs the PDF: pdfsig accepts it as stored, and rejects it after one byte is changed', async () => {
    const u = await makeUser(lms, { name: 'Ana Tamper' });
    await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, course()));
    await settled(lms);
    const [cert] = await svc.listForUser(u.id);
    const pdf = await svc.pdf(cert._id);
    expect(await pdfsigVerdict(pdf)).to.equal('Signature is Valid.');
    // One byte of the document information (the title, which names the learner) changed.
    const at = pdf.indexOf('Ana Tamper');
    expect(at).to.be.greaterThan(0);
    const tampered = Buffer.from(pdf);
    tampered[at] = 'E'.charCodeAt(0);
    expect(await pdfsigVerdict(tampered)).to.equal('Digest Mismatch.');
  });

  it('uses the development signing certificate generated under DATA_DIR when none is configured', () => {
    const p12 = readFileSync(path.join(lms.config.dataDir, 'certificates', 'dev-signing', 'identity.p12'));
    expect(p12.length).to.be.greaterThan(1000);
    expect(
      readFileSync(path.join(lms.config.dataDir, 'certificates', 'dev-signing', 'passphrase'), 'utf8').trim(),
    ).to.have.length.greaterThan(20);
  });

  it('issues the learning-path certificate when the reports plugin says the person is trained, once', async () => {
    const u = await makeUser(lms, { tier: 'manager', language: 'en' });
    const event = {
      userId: u.id,
      tier: 'manager',
      trainedAt: new Date('2026-04-01T00:00:00Z'),
      courseIds: ['https://example.org/c/a', 'https://example.org/c/b'],
    };
    // The test speaks for the reports plugin (not enabled here), with its declaration.
    lms.hooks.declare('reports', { emits: reportsPlugin.manifest.events?.emits });
    await lms.hooks.emit('reports.person.trained', event);
    await settled(lms);
    await lms.hooks.emit('reports.person.trained', { ...event, courseIds: [...event.courseIds].reverse() });
    await settled(lms);
    const list = await svc.listForUser(u.id);
    expect(list).to.have.length(1);
    expect(list[0].kind).to.equal('path');
    expect(list[0].title).to.equal(`ICT learning path — ${lms.i18n.getFixedT('en')('core:tiers.manager')}`);
  });

  it('ignores events for people who do not exist, without failing the emitter', async () => {
    await lms.hooks.emit('catalog.course.satisfied', satisfied('0123456789abcdef01234567', course()));
    await settled(lms);
  });
});
