import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import type { CertificatesService } from '../../server/plugins/certificates/certificates.service';
import { makeUser, settled, signIn } from '../helpers';
import { binaryParser, certificatesApp, course, pdfsigVerdict, run, satisfied, withPdfFile } from './helpers';

const pdfText = (pdf: Buffer) => withPdfFile(pdf, async (file) => (await run('pdftotext', ['-layout', file, '-'])).stdout);

describe('certificates: in the reader’s language', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let svc: CertificatesService;
  before(async () => {
    lms = await certificatesApp();
    svc = lms.services.get('certificates');
  });
  after(() => lms.close());

  async function issuedInSpanish() {
    const u = await makeUser(lms, { name: 'Inês Ñandú', orgUnit: 'DEMO-MUNI', language: 'es' });
    await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, course({ hours: 7.5 }), 0.875));
    await settled(lms);
    const [cert] = await svc.listForUser(u.id);
    expect(cert.language).to.equal('es');
    return { u, cert, agent: await signIn(lms, u.email, u.password) };
  }

  it('a certificate issued in Spanish downloads in Portuguese: Portuguese title and text, same code, signed, the same copy every time', async () => {
    const { cert, agent } = await issuedInSpanish();
    expect(cert.titles).to.deep.include({ pt: 'Segurança da informação na administração pública' });
    const get = (lang: string) => agent.get(`/certificates/${cert._id}/pdf`).query({ lang }).buffer(true).parse(binaryParser).expect(200);
    const res = await get('pt');
    expect(res.headers['content-language']).to.equal('pt');
    const pt = res.body as Buffer;
    const text = await pdfText(pt);
    expect(text).to.contain('Segurança da informação na administração pública');
    expect(text).to.contain('Certificado de aprovação');
    expect(text).to.contain('Carga horária: 7,5 horas');
    expect(text).to.contain('3 de março de 2026');
    expect(text).to.contain('Prefeitura de Demonstração');
    expect(text).to.contain('Inês Ñandú');
    expect(text).to.contain(cert._id.replace(/(.{4})(?=.)/g, '$1 '));
    expect(text).to.not.contain('Seguridad de la información');
    expect(await pdfsigVerdict(pt)).to.equal('Signature is Valid.');
    // Kept once signed: a second download is the same document, byte for byte.
    expect(((await get('pt')).body as Buffer).equals(pt)).to.equal(true);
    // The Spanish original is untouched.
    const es = (await get('es')).body as Buffer;
    expect(es.length).to.equal(cert.pdfBytes);
    expect(await pdfText(es)).to.contain('Seguridad de la información en la administración pública');
  });

  it('without ?lang= the PDF follows the viewer’s language, and so does the list of their certificates', async () => {
    const { cert, agent: en } = await issuedInSpanish();
    // The footer's language switch, as a reader picks English for the session.
    await en.get('/lang/en').expect(303);
    const pdf = (await en.get(`/certificates/${cert._id}/pdf`).buffer(true).parse(binaryParser).expect(200)).body as Buffer;
    const text = await pdfText(pdf);
    expect(text).to.contain('Information security in public administration');
    expect(text).to.contain('Duration: 7.5 hours');
    expect(await pdfsigVerdict(pdf)).to.equal('Signature is Valid.');
    const mine = await en.get('/certificates/mine').expect(200);
    expect(mine.text).to.contain('Information security in public administration');
  });

  it('the verification page in English: same code, same verdict, title and institution in English', async () => {
    const { cert } = await issuedInSpanish();
    const page = await supertest(lms.app).get(`/verify/${cert._id}`).query({ lang: 'en' }).set('Accept', 'text/html').expect(200);
    expect(page.text).to.match(/<html[^>]+lang="en"/);
    expect(page.text).to.contain('Valid certificate, issued by this platform.');
    expect(page.text).to.contain('Information security in public administration');
    expect(page.text).to.contain('Demonstration Municipality');
    expect(page.text).to.contain(cert._id);
    const json = (lang?: string) =>
      supertest(lms.app)
        .get(`/verify/${cert._id}`)
        .query({ format: 'json', ...(lang ? { lang } : {}) })
        .expect(200);
    const asIssued = (await json()).body;
    const inPt = (await json('pt')).body;
    expect(asIssued.title).to.equal('Seguridad de la información en la administración pública');
    expect(inPt).to.deep.equal({
      ...asIssued,
      title: 'Segurança da informação na administração pública',
      institution: 'Prefeitura de Demonstração',
    });
    // An unknown language is ignored, not an error.
    const odd = await supertest(lms.app).get(`/verify/${cert._id}`).query({ lang: 'xx' }).set('Accept', 'text/html').expect(200);
    expect(odd.text).to.contain('Certificado válido');
  });

  it('a revoked certificate hands out no copy in any language', async () => {
    const { cert, agent } = await issuedInSpanish();
    const admin = await makeUser(lms, { role: 'admin' });
    await svc.revoke(admin, cert._id, 'issued by mistake');
    await agent.get(`/certificates/${cert._id}/pdf`).query({ lang: 'pt' }).expect(410);
    const page = await supertest(lms.app).get(`/verify/${cert._id}`).query({ lang: 'pt' }).set('Accept', 'text/html').expect(200);
    expect(page.text).to.contain('Segurança da informação na administração pública');
  });
  it('the Open Badges credential follows the reader too: title, issuer and criteria in that language, inLanguage set, same code', async () => {
    const { cert, agent } = await issuedInSpanish();
    const vcOf = async (query: string) => {
      const res = await agent.get(`/certificates/${cert._id}/badge${query}`).buffer(true).parse(binaryParser).expect(200);
      const payload = JSON.parse(Buffer.from(res.body.toString().split('.')[1], 'base64url').toString());
      return { lang: res.headers['content-language'], vc: payload.vc };
    };
    const es = await vcOf('');
    expect(es.lang).to.equal('es');
    expect(es.vc.name).to.equal(cert.title);
    expect(es.vc.credentialSubject.achievement.inLanguage).to.equal('es');
    expect(es.vc.credentialSubject.achievement.criteria.narrative).to.match(/^Curso aprobado/);
    const pt = await vcOf('?lang=pt');
    expect(pt.lang).to.equal('pt');
    expect(pt.vc.id).to.equal(es.vc.id);
    expect(pt.vc.name).to.equal('Segurança da informação na administração pública');
    expect(pt.vc.issuer.name).to.equal('Prefeitura de Demonstração');
    expect(pt.vc.credentialSubject.achievement.inLanguage).to.equal('pt');
    expect(pt.vc.credentialSubject.achievement.criteria.narrative).to.match(/^Curso concluído/);
    // Nothing of the English wording it used to carry whatever the language.
    expect(JSON.stringify(pt.vc)).to.not.contain('Course satisfied');
  });
});
