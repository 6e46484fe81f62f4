import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { lrsPlugin } from '../../server/plugins/lrs';
import { catalogPlugin } from '../../server/plugins/catalog';
import { englishInPage } from '../english-detector';
import { csrfFrom, makeUser, settled, signIn, testApp } from '../helpers';
import { cmi5Xml, importXml } from './launch-fixtures';

const course = (slug: string) => `https://courses.example.org/${slug}`;
const meta = (tiers: string, levels: string, topics = 'e-government', languages = 'es pt') =>
  `<meta:courseMeta xmlns:meta="https://w3id.org/aprende-tic/xmlns/course-meta"><meta:hours>2</meta:hours><meta:tiers>${tiers}</meta:tiers><meta:levels>${levels}</meta:levels><meta:topics>${topics}</meta:topics><meta:languages>${languages}</meta:languages></meta:courseMeta>`;

describe('catalog: tiers, learning paths and enrolment', () => {
  let lms: LmsApp;
  const changed: Array<string | undefined> = [];
  const BASICS = course('basicos');
  const INTEROP = course('interoperabilidad');
  const LOCAL = course('municipio-digital');
  const OPTIONAL = course('datos-abiertos');
  const DRAFT = course('borrador');

  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin] });
    lms.hooks.on('catalog.paths.changed', ({ tier }) => void changed.push(tier));
    await importXml(
      lms,
      cmi5Xml(BASICS, 'Competencias digitales básicas', [{ au: `${BASICS}/au/1`, moveOn: 'Completed' }], meta('all', '')),
    );
    await importXml(
      lms,
      cmi5Xml(
        INTEROP,
        'Interoperabilidad',
        [
          { au: `${INTEROP}/au/1`, moveOn: 'Completed' },
          { au: `${INTEROP}/au/2`, moveOn: 'Passed' },
        ],
        meta('technical', 'national regional local', 'interoperability', 'es'),
      ),
    );
    await importXml(
      lms,
      cmi5Xml(
        LOCAL,
        'Municipio digital',
        [{ au: `${LOCAL}/au/1`, moveOn: 'Completed' }],
        meta('technical', 'local', 'local-government', 'pt'),
      ),
    );
    await importXml(
      lms,
      cmi5Xml(OPTIONAL, 'Datos abiertos', [{ au: `${OPTIONAL}/au/1`, moveOn: 'Completed' }], meta('', '', 'open-data', 'en')),
    );
    await importXml(lms, cmi5Xml(DRAFT, 'Borrador', [{ au: `${DRAFT}/au/1`, moveOn: 'Completed' }], meta('all', '')), false);
  });
  after(() => lms.close());

  it('seeds the default tiers and lets admins add one; bad codes are 400, duplicates 409', async () => {
    const paths = lms.services.get('catalog.paths');
    expect((await paths.tiers()).map((t) => t._id)).to.deep.equal(['all', 'technical', 'manager', 'decision-maker', 'ict-specialist']);
    await paths.addTier('health-workers', [{ lang: 'es', text: 'Personal de salud' }]);
    expect((await paths.tiers()).map((t) => t._id)).to.include('health-workers');
    await expectStatus(paths.addTier('Bad Code!', []), 400);
    await expectStatus(paths.addTier('health-workers', []), 409);
  });

  it('builds paths from course metadata: general per tier, level-specific overrides, unpublished courses wait', async () => {
    const paths = lms.services.get('catalog.paths');
    const added = await paths.applyCourseMeta('test');
    expect(added).to.equal(3);
    expect((await paths.getPath('all'))?.courses).to.deep.equal([BASICS]);
    expect((await paths.getPath('technical'))?.courses).to.deep.equal([INTEROP]);
    // A course for local government only: the local path starts from the general one.
    expect((await paths.getPath('technical', 'local'))?.courses).to.deep.equal([INTEROP, LOCAL]);
    expect(await paths.applyCourseMeta('test')).to.equal(0);
    expect(await paths.requiredCourses('technical', 'local')).to.deep.equal([BASICS, INTEROP, LOCAL]);
    expect(await paths.requiredCourses('technical', 'national')).to.deep.equal([BASICS, INTEROP]);
    expect(await paths.requiredCourses('manager', 'local')).to.deep.equal([BASICS]);
    expect(await paths.requiredCourses(undefined, undefined)).to.deep.equal([BASICS]);
    // The contract other plugins use says the same.
    expect(await lms.services.get('catalog').requiredCourses('technical', 'local')).to.deep.equal([BASICS, INTEROP, LOCAL]);
    expect(changed).to.include('technical');
  });

  it('validates path input: unknown tier, level or course is a 400 and nothing is written', async () => {
    const paths = lms.services.get('catalog.paths');
    await expectStatus(paths.setPath({ tier: 'astronauts', courses: [BASICS] }), 400);
    await expectStatus(paths.setPath({ tier: 'manager', level: 'galactic' as never, courses: [BASICS] }), 400);
    await expectStatus(paths.setPath({ tier: 'manager', courses: [BASICS, 'https://nowhere.example/x'] }), 400);
    expect(await paths.getPath('manager')).to.equal(null);
  });

  it("enrols a learner in their path's published courses when they open 'my path', once", async () => {
    const u = await makeUser(lms, { tier: 'technical', level: 'local' });
    const agent = await signIn(lms, u.email, u.password);
    const page = await agent.get('/catalog/my-path').expect(200);
    for (const title of ['Competencias digitales básicas', 'Interoperabilidad', 'Municipio digital']) expect(page.text).to.contain(title);
    expect(page.text).to.contain('0 de 3 cursos requeridos cumplidos');
    expect(page.text).to.contain('Faltan 2 de 2 actividades');
    expect(page.text).not.to.contain('Datos abiertos');
    const progress = await lms.services.get('catalog').progressOf(u.id, [BASICS, INTEROP, LOCAL, OPTIONAL]);
    expect(progress.map((p) => p.courseId).sort()).to.deep.equal([BASICS, INTEROP, LOCAL].sort());
    expect(progress.every((p) => p.status === 'not-started' && p.courseVersion === 1)).to.equal(true);
    const regs = progress.map((p) => p.registration);
    await agent.get('/catalog/my-path').expect(200);
    const again = await lms.services.get('catalog').progressOf(u.id, [BASICS, INTEROP, LOCAL]);
    expect(again.map((p) => p.registration)).to.deep.equal(regs);

    // Publishing the draft that names tier "all" puts it in the path at the next visit.
    await lms.services.get('catalog.courses').setPublished(DRAFT, true);
    await lms.services.get('catalog.paths').applyCourseMeta('test');
    const later = await agent.get('/catalog/my-path').expect(200);
    expect(later.text).to.contain('Borrador');
    expect(later.text).to.contain('0 de 4 cursos requeridos cumplidos');
  });

  it('keeps the version a learner enrolled in when a new version is imported', async () => {
    const u = await makeUser(lms, { tier: 'technical', level: 'national' });
    const agent = await signIn(lms, u.email, u.password);
    await agent.get('/catalog/my-path').expect(200);
    await importXml(
      lms,
      cmi5Xml(
        INTEROP,
        'Interoperabilidad 2',
        [{ au: `${INTEROP}/au/1`, moveOn: 'Completed' }],
        meta('technical', 'national regional local', 'interoperability', 'es'),
      ),
    );
    const [p] = await lms.services.get('catalog').progressOf(u.id, [INTEROP]);
    expect(p.courseVersion).to.equal(1);
    const page = await agent.get(`/catalog/course?id=${encodeURIComponent(INTEROP)}`).expect(200);
    expect(page.text).to.contain(`${'Actividad 2'}`);
    const v = await makeUser(lms, { tier: 'technical', level: 'national' });
    await (await signIn(lms, v.email, v.password)).get('/catalog/my-path').expect(200);
    expect((await lms.services.get('catalog').progressOf(v.id, [INTEROP]))[0].courseVersion).to.equal(2);
  });

  it('filters the catalogue by tier, level, topic and language, and lets a learner self-enrol in an optional course', async () => {
    const u = await makeUser(lms, { tier: 'manager', level: 'national' });
    const agent = await signIn(lms, u.email, u.password);
    const all = await agent.get('/catalog/courses').expect(200);
    for (const t of ['Competencias digitales básicas', 'Interoperabilidad', 'Municipio digital', 'Datos abiertos'])
      expect(all.text).to.contain(t);
    const byTopic = await agent.get('/catalog/courses?topic=open-data').expect(200);
    expect(byTopic.text).to.contain('Datos abiertos').and.not.contain('Municipio digital');
    const byLang = await agent.get('/catalog/courses?language=pt').expect(200);
    expect(byLang.text).to.contain('Municipio digital').and.not.contain('Datos abiertos');
    const byLevel = await agent.get('/catalog/courses?level=national').expect(200);
    expect(byLevel.text).not.to.contain('Municipio digital');
    const byTier = await agent.get('/catalog/courses?tier=technical').expect(200);
    expect(byTier.text).to.contain('Interoperabilidad').and.not.contain('Competencias digitales básicas');

    const coursePage = await agent.get(`/catalog/course?id=${encodeURIComponent(OPTIONAL)}`).expect(200);
    expect(coursePage.text).to.contain('No está inscrito');
    await agent
      .post('/catalog/enrol')
      .type('form')
      .send({ _csrf: csrfFrom(coursePage.text), courseId: OPTIONAL })
      .expect(303);
    const mine = await agent.get('/catalog/my-path').expect(200);
    expect(mine.text).to.contain('Otros cursos en los que se inscribió');
    expect(mine.text).to.contain('Datos abiertos');
    await agent
      .post('/catalog/enrol')
      .type('form')
      .send({ _csrf: csrfFrom(coursePage.text), courseId: 'https://nowhere.example/x' })
      .expect(404);
  });

  it('gives the path page to admins only, and saves a level override from the form', async () => {
    const learner = await makeUser(lms);
    const la = await signIn(lms, learner.email, learner.password);
    await la.get('/catalog/admin/paths').expect(403);
    const admin = await makeUser(lms, { role: 'admin' });
    const agent = await signIn(lms, admin.email, admin.password);
    const page = await agent.get('/catalog/admin/paths?tier=decision-maker&level=regional').expect(200);
    expect(page.text).to.contain('<caption>');
    await agent
      .post('/catalog/admin/paths')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), tier: 'decision-maker', level: 'regional', courses: [OPTIONAL, BASICS] })
      .expect(200);
    expect(await lms.services.get('catalog.paths').requiredCourses('decision-maker', 'regional')).to.deep.equal([BASICS, DRAFT, OPTIONAL]);
    const bad = await agent
      .post('/catalog/admin/paths')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), tier: 'nobody', courses: [BASICS] });
    expect(bad.status).to.equal(400);
    // In the page's language (Spanish by default), naming the tier.
    expect(bad.text).to.contain('La función «nobody» no está configurada.');
    const badDue = await agent
      .post('/catalog/admin/paths')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), tier: 'all', courses: [BASICS], due: '31/12/2027' });
    expect(badDue.status).to.equal(400);
    expect(badDue.text).to.contain('«31/12/2027» no es una fecha');
    // Adding a tier: a bad code and a taken one, also in Spanish.
    const badCode = await agent
      .post('/catalog/admin/tiers')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), code: 'Bad Code!' });
    expect(badCode.status).to.equal(400);
    expect(badCode.text).to.contain('El código de función debe tener de 2 a 40 letras minúsculas');
    const taken = await agent
      .post('/catalog/admin/tiers')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), code: 'all' });
    expect(taken.status).to.equal(409);
    expect(taken.text).to.contain('La función «all» ya existe.');
    expect(taken.text).not.to.contain('already exists');
    await agent
      .post('/catalog/admin/paths')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), tier: 'all', courses: [BASICS], due: '2027-12-31' })
      .expect(200);
    expect((await lms.services.get('catalog.paths').deadlines('technical')).get(BASICS)?.toISOString()).to.equal(
      '2027-12-31T23:59:59.000Z',
    );
    // Saved again without a date field (another form, a command), the deadline stays.
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [BASICS] });
    expect((await lms.services.get('catalog.paths').deadlines()).get(BASICS)?.toISOString()).to.equal('2027-12-31T23:59:59.000Z');
    await agent
      .post('/catalog/admin/paths')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), tier: 'decision-maker', level: 'regional', action: 'remove-override' })
      .expect(200);
    expect(await lms.services.get('catalog.paths').getPath('decision-maker', 'regional')).to.equal(null);
  });

  for (const [lang, level, courses] of [
    ['es', 'Nivel de gobierno: «municipal» no es un nivel de gobierno.', 'Cursos: una ruta exige como máximo 500 cursos'],
    ['pt', 'Nível de governo: «municipal» não é um nível de governo.', 'Cursos: uma trilha exige no máximo 500 cursos'],
  ] as const) {
    it(`refuses a bad path in the page's language (${lang}), naming the field, and saves nothing`, async () => {
      const admin = await makeUser(lms, { role: 'admin', language: lang, name: 'Ana Prueba' });
      const agent = await signIn(lms, admin.email, admin.password);
      const token = csrfFrom((await agent.get('/catalog/admin/paths').expect(200)).text);
      const paths = lms.services.get('catalog.paths');
      const before = await paths.getPath('technical');
      const post = async (form: Record<string, unknown>, message: string) => {
        const res = await agent
          .post('/catalog/admin/paths')
          .type('form')
          .send({ _csrf: token, ...form });
        expect(res.status, message).to.equal(400);
        expect(res.text).to.contain(`<html lang="${lang}"`).and.contain(message);
        expect(englishInPage(res.text, lang), message).to.deep.equal([]);
      };
      await post({ tier: 'technical', level: 'municipal', courses: [BASICS] }, level);
      await post({ tier: 'technical', level: 'municipal', action: 'remove-override' }, level);
      await post({ tier: 'technical', courses: Array.from({ length: 501 }, (_, i) => `${BASICS}-${i}`) }, courses);
      expect(await paths.getPath('technical')).to.deep.equal(before);
      expect(await paths.getPath('technical', 'municipal')).to.equal(null);
    });
  }

  it('demo:seed puts the demo learner on a path with courses', async () => {
    const users = lms.services.get('accounts.users');
    const demo = await users.create({
      email: 'demo-learner@example.org',
      name: 'Demo',
      role: 'learner',
      tier: 'all',
      level: 'local',
      orgUnit: 'DEMO',
      password: 'correct horse battery',
    });
    const log = console.log;
    console.log = () => {};
    try {
      await lms.hooks.emit('accounts.demo.seed', { orgUnit: 'DEMO', users: [demo], at: new Date() });
      await settled(lms);
    } finally {
      console.log = log;
    }
    const progress = await lms.services.get('catalog').progressOf(demo.id, [BASICS, DRAFT]);
    expect(progress).to.have.length(2);
  });
});

async function expectStatus(p: Promise<unknown>, status: number) {
  try {
    await p;
  } catch (err) {
    expect((err as { status?: number }).status, (err as Error).message).to.equal(status);
    return;
  }
  expect.fail(`expected an error with status ${status}`);
}
