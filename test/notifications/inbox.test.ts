/**
 * The in-app list of notifications, end to end: learners of two institutions complete a course,
 * the completion and certificate notices (the ones e-mailed, here to a real SMTP server) reach
 * each person's own list, newest first, in the language of the page, with the unread count in
 * the navigation; marking read works on one's own notices only.
 */
import { expect } from 'chai';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../server/app';
import { englishInPage } from '../english-detector';
import { csrfFrom, makeUser, settled, signIn, testApp } from '../helpers';
import { cmi5Xml, importXml } from '../catalog/launch-fixtures';
import { seedOrg } from '../reports/fixtures';
import type { startSmtp } from '../smtp';
import { completionWorld, type CompletionWorld } from './fixtures';

describe('notifications: the in-app list', function () {
  this.timeout(180_000);
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let lms: LmsApp;
  let course: string;
  let people: CompletionWorld['people'] = {};
  const agents: Record<string, TestAgent> = {};

  let complete: CompletionWorld['complete'];
  /** The headings of the list, in order. */
  const headings = (html: string) =>
    [...html.matchAll(/<h2 id="n-[^"]+" tabindex="-1">(.*?)<\/h2>/g)].map((m) => m[1].replace(/<[^>]+>/g, ''));
  const badge = (html: string) => /href="\/notifications\/inbox"[^>]*>[^<]*<span class="badge">([^<]*)<\/span>/.exec(html)?.[1];
  const notices = (userId: string) => lms.db.collection('notifications_inbox').find({ userId }).toArray();

  before(async () => {
    const world = await completionWorld({ ana: 'Ana Prueba', bia: 'Beatriz Lima', hr: 'Helena Souza' });
    ({ smtp, lms, course, complete, people } = world);
    for (const who of ['ana', 'bia']) agents[who] = await signIn(lms, people[who].email, people[who].password);
  });
  after(async () => {
    await lms?.close();
    await smtp?.close();
  });

  it('shows each person their own notices, newest first, with the unread count in the navigation (es)', async () => {
    const page = await agents.ana.get('/notifications/inbox').expect(200);
    expect(page.text).to.contain('<html lang="es"').and.contain('<h1>Sus notificaciones</h1>');
    // The certificate is issued after the course is satisfied: its notice comes first.
    expect(headings(page.text)).to.deep.equal([
      'Sin leer: Su certificado del curso «Información básica» está listo',
      'Sin leer: Completó el curso «Información básica»',
    ]);
    expect(page.text).to.contain('2 notificaciones, 2 sin leer.');
    expect(page.text).to.contain('href="/certificates/mine"').and.contain('href="/catalog/my-path"');
    expect(badge(page.text)).to.equal('2 sin leer');
    // Any page carries the count.
    expect(badge((await agents.ana.get('/accounts/profile').expect(200)).text)).to.equal('2 sin leer');
    expect(englishInPage(page.text, 'es')).to.deep.equal([]);
    // Nothing of Beatriz (institution B) on Ana's list, and the other way round.
    expect(page.text).not.to.contain('Você concluiu');
    const bia = await agents.bia.get('/notifications/inbox').expect(200);
    expect(headings(bia.text)).to.deep.equal([
      'Não lida: Seu certificado do curso “Información básica” está pronto',
      'Não lida: Você concluiu o curso “Información básica”',
    ]);
    expect(englishInPage(bia.text, 'pt')).to.deep.equal([]);
    // HR of institution A has none of their people's notices.
    const hr = await signIn(lms, people.hr.email, people.hr.password);
    const hrPage = await hr.get('/notifications/inbox').expect(200);
    expect(headings(hrPage.text)).to.deep.equal([]);
    expect(hrPage.text).to.contain('Você ainda não tem notificações.');
    expect(badge(hrPage.text)).to.equal(undefined);
  });

  it('reads in the language of the page, not the one the notice was sent in', async () => {
    await agents.ana.get('/lang/pt?next=/').expect(303);
    const pt = await agents.ana.get('/notifications/inbox').expect(200);
    expect(headings(pt.text)).to.deep.equal([
      'Não lida: Seu certificado do curso “Información básica” está pronto',
      'Não lida: Você concluiu o curso “Información básica”',
    ]);
    expect(englishInPage(pt.text, 'pt')).to.deep.equal([]);
    await agents.ana.get('/lang/en?next=/').expect(303);
    const en = await agents.ana.get('/notifications/inbox').expect(200);
    expect(headings(en.text)[1]).to.equal('Unread: You completed the course “Información básica (en)”');
    expect(badge(en.text)).to.equal('2 unread');
    await agents.ana.get('/lang/es?next=/').expect(303);
  });

  it("refuses to mark another person's notice read (404 in the page's language, nothing written)", async () => {
    const [theirs] = await notices(people.bia.id);
    const page = await agents.ana.get('/notifications/inbox').expect(200);
    const res = await agents.ana
      .post(`/notifications/inbox/${encodeURIComponent(String(theirs._id))}/read`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(404);
    expect(res.text).to.contain('Esta notificación no existe entre las suyas.');
    expect(englishInPage(res.text, 'es')).to.deep.equal([]);
    expect((await notices(people.bia.id)).every((n) => !n.readAt)).to.equal(true);
    // Without the form's token: refused too.
    await agents.ana
      .post(`/notifications/inbox/${encodeURIComponent(String(theirs._id))}/read`)
      .type('form')
      .send({})
      .expect(403);
  });

  it('marks one notice read, then all, and the count follows', async () => {
    let page = await agents.ana.get('/notifications/inbox').expect(200);
    const id = /<h2 id="n-([^"]+)"/.exec(page.text)![1];
    const read = await agents.ana
      .post(`/notifications/inbox/${encodeURIComponent(id)}/read`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303);
    expect(read.headers.location).to.equal(`/notifications/inbox?done=one#n-${encodeURIComponent(id)}`);
    page = await agents.ana.get(read.headers.location.split('#')[0]).expect(200);
    expect(page.text).to.contain('role="status">Notificación marcada como leída.');
    expect(headings(page.text)).to.deep.equal([
      'Su certificado del curso «Información básica» está listo',
      'Sin leer: Completó el curso «Información básica»',
    ]);
    expect(badge(page.text)).to.equal('1 sin leer');
    await agents.ana
      .post('/notifications/inbox/read-all')
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303);
    page = await agents.ana.get('/notifications/inbox').expect(200);
    expect(badge(page.text)).to.equal(undefined);
    expect(page.text).to.contain('2 notificaciones, 0 sin leer.').and.not.contain('Marcar todas como leídas');
    // Beatriz's are still unread.
    expect(badge((await agents.bia.get('/notifications/inbox').expect(200)).text)).to.equal('2 não lidas');
  });

  it('keeps one notice per occurrence when an event is delivered again, and none of a kind the institution switched off', async () => {
    const done = lms.db.collection('core_outbox_done');
    await done.deleteMany({});
    const progress = (await lms.services.get('catalog').progressOf(people.ana.id, [course]))[0];
    const summary = (await lms.services.get('catalog').getCourse(course))!;
    await lms.hooks.emit('catalog.course.satisfied', { userId: people.ana.id, course: summary, progress });
    await settled(lms);
    const ana = await notices(people.ana.id);
    expect(ana).to.have.length(2);
    expect(
      ana.every((n) => n.readAt),
      'a notice already read stays read',
    ).to.equal(true);
    // Institution A switches completion notices off: Eva (A2) gets only the certificate's, Caio (B2) both.
    await lms.db
      .collection('notifications_institutions')
      .updateOne({ _id: 'INST-A' as never }, { $set: { off: ['completion'] } }, { upsert: true });
    people.eva = await makeUser(lms, { email: 'eva@example.org', name: 'Eva', language: 'en', orgUnit: 'A2', tier: 'all' });
    people.caio = await makeUser(lms, { email: 'caio@example.org', name: 'Caio', language: 'pt', orgUnit: 'B2', tier: 'all' });
    await complete('eva');
    await complete('caio');
    expect((await notices(people.eva.id)).map((n) => n.kind)).to.deep.equal(['certificate']);
    expect((await notices(people.caio.id)).map((n) => n.kind).sort()).to.deep.equal(['certificate', 'completion']);
  });

  it('is part of the person’s data: erased with them, nobody else’s', async () => {
    const admin = await makeUser(lms, { role: 'admin' });
    await lms.services.get('privacy').erase(people.caio.id, { id: admin.id, via: 'admin' });
    expect(await notices(people.caio.id)).to.deep.equal([]);
    expect(await notices(people.bia.id)).to.have.length(2);
  });
});

describe('notifications: the in-app list without a mail server', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  after(() => lms?.close());

  it('lists the deadline reminders and the HR digest, once however often the jobs run, to their own people', async () => {
    lms = await testApp({ env: { CONTENT_LIBRARY: 'off' } });
    await seedOrg(lms);
    const basics = await importXml(
      lms,
      cmi5Xml('https://ex.org/c/basics', 'Información básica', [{ au: 'https://ex.org/c/basics/au1', moveOn: 'Completed' }]),
    );
    const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [basics], due: day(3) });
    const ana = await makeUser(lms, { name: 'Ana Prueba', language: 'es', orgUnit: 'A1', tier: 'all' });
    const bruno = await makeUser(lms, { name: 'Bruno Lima', language: 'pt', orgUnit: 'B1', tier: 'all' });
    const hr = await makeUser(lms, { role: 'hr', name: 'Helena Souza', language: 'es', orgUnit: 'INST-A' });
    for (let i = 0; i < 2; i++) {
      await lms.jobs.run('notifications.reminders');
      await lms.jobs.run('notifications.digest');
    }
    const kinds = async (userId: string) =>
      (await lms.db.collection('notifications_inbox').find({ userId }).toArray()).map((n) => n.kind).sort();
    expect(await kinds(ana.id)).to.deep.equal(['reminders']);
    expect(await kinds(bruno.id)).to.deep.equal(['reminders']);
    // HR officers follow paths too: their own reminder, and the digest of their institution.
    expect(await kinds(hr.id)).to.deep.equal(['digest', 'reminders']);
    const agent = await signIn(lms, ana.email, ana.password);
    const page = await agent.get('/notifications/inbox').expect(200);
    expect(page.text).to.match(/Recordatorio: sus cursos obligatorios vencen el/);
    expect(page.text).to.contain('Información básica').and.contain('href="/catalog/my-path"');
    expect(englishInPage(page.text, 'es')).to.deep.equal([]);
    expect(await lms.db.collection('notifications_deliveries').countDocuments({}), 'no e-mail was sent').to.equal(0);
  });
});
