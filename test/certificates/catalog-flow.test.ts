import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { makeUser, settled, signIn } from '../helpers';
import { AuClient, cmi5Xml, importXml, launchAu } from '../catalog/launch-fixtures';
import { certificatesApp, run, withPdfFile } from './helpers';

const C = 'https://courses.example.org/firma-electronica';

describe('certificates: issued from a real cmi5 course run (catalog + LRS)', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  before(async () => {
    lms = await certificatesApp();
    await importXml(lms, cmi5Xml(C, 'Firma electrónica', [{ au: `${C}/au/leer`, moveOn: 'Completed' }]));
    // The whole path of the tier is this one course, so finishing it also completes the path.
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [C] });
  });
  after(() => lms.close());

  it('completing the course issues its certificate and, with no reports plugin, the path certificate', async () => {
    const u = await makeUser(lms, { name: 'Conceição Ñandú', tier: 'all', level: 'local', orgUnit: 'DEMO-MUNI' });
    const agent = await signIn(lms, u.email, u.password);
    await agent.get('/catalog/my-path').expect(200); // enrols the learner in the path's courses
    const au = await new AuClient(lms, await launchAu(agent, C, `${C}/au/leer`), `${C}/au/leer`).start();
    const sent = await au.send(
      au.statement('initialized'),
      au.statement('completed', { completion: true, duration: 'PT5M' }),
      au.statement('terminated', { duration: 'PT6M' }),
    );
    expect(sent.status).to.equal(200);
    await settled(lms); // progress, then the certificates, follow the statements off the request

    const list = await lms.services.get('certificates').listForUser(u.id);
    expect(list.map((c) => c.kind).sort()).to.deep.equal(['course', 'path']);
    const courseCert = list.find((c) => c.kind === 'course')!;
    expect(courseCert).to.include({ subjectId: C, title: 'Firma electrónica', status: 'valid' });
    const mine = await agent.get('/certificates/mine').expect(200);
    expect(mine.text).to.contain('Firma electrónica');
    await withPdfFile(await lms.services.get('certificates').pdf(courseCert._id), async (file) => {
      expect((await run('pdftotext', [file, '-'])).stdout)
        .to.contain('Conceição Ñandú')
        .and.contain('Firma electrónica');
    });
  });
});
