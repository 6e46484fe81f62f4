/**
 * Notifications end to end with a real SMTP server started here (smtp-server): deadlines on two
 * paths, the reminders and digest jobs running on short timers in a started server, and then the
 * server used as a person would — the e-mails read back, their unsubscribe link followed, the
 * preferences page saved — and the jobs running on without sending anything twice.
 */
import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, settled, signIn, testApp } from '../helpers';
import { cmi5Xml, importXml } from '../catalog/launch-fixtures';
import { HEADER, importRoster, seedOrg, tmpFile } from '../reports/fixtures';
import { startSmtp, type Mail } from '../smtp';

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const until = async (what: () => boolean, ms = 20_000) => {
  for (const end = Date.now() + ms; !what();) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((ok) => setTimeout(ok, 50));
  }
};

describe('notifications: deadline reminders and the HR digest by e-mail', function () {
  this.timeout(120_000);
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let inbox: Mail[] = [];
  let lms: LmsApp;
  let refuse = '';
  const people: Record<string, Awaited<ReturnType<typeof makeUser>>> = {};

  before(async () => {
    // A mailbox the server refuses: the delivery is recorded as failed and retried.
    smtp = await startSmtp((address) => refuse !== '' && address === refuse);
    inbox = smtp.inbox;
    lms = await testApp({
      env: {
        SMTP_URL: smtp.url,
        MAIL_FROM: 'aprende@example.org',
        NOTIFY_REMINDERS_INTERVAL: '300ms',
        NOTIFY_DIGEST_INTERVAL: '1h',
        NOTIFY_REMIND_BEFORE: '7d',
        NOTIFY_OVERDUE_EVERY: '7d',
        CONTENT_LIBRARY: 'off',
      },
    });
    await seedOrg(lms);
    const basics = await importXml(
      lms,
      cmi5Xml('https://ex.org/c/basics', 'Información básica', [{ au: 'https://ex.org/c/basics/au1', moveOn: 'Completed' }]),
    );
    const tech = await importXml(
      lms,
      cmi5Xml('https://ex.org/c/tech', 'Interoperabilidad', [{ au: 'https://ex.org/c/tech/au1', moveOn: 'Completed' }]),
    );
    const paths = lms.services.get('catalog.paths');
    // Everyone's path is due in 3 days (within the 7-day notice); the technical path was due yesterday.
    await paths.setPath({ tier: 'all', courses: [basics], due: day(3) });
    await paths.setPath({ tier: 'technical', courses: [tech], due: day(-1) });
    people.ana = await makeUser(lms, { email: 'ana@example.org', name: 'Ana', language: 'es', orgUnit: 'A1', tier: 'technical' });
    people.joao = await makeUser(lms, { email: 'joao@example.org', name: 'João', language: 'pt', orgUnit: 'A1', tier: 'all' });
    people.done = await makeUser(lms, { email: 'done@example.org', name: 'Dana', language: 'en', orgUnit: 'A2', tier: 'all' });
    people.hr = await makeUser(lms, { role: 'hr', email: 'hr@example.org', name: 'Helena', language: 'pt', orgUnit: 'INST-A' });
    people.admin = await makeUser(lms, { role: 'admin', email: 'admin@example.org', name: 'Admin', language: 'en' });
    await importRoster(
      lms,
      'INST-A',
      [
        HEADER,
        'E1,Ana,ana@example.org,A1,,technical,,no,yes',
        'E2,João,joao@example.org,A1,,all,,no,yes',
        'E3,Dana,done@example.org,A2,,all,,no,yes',
      ].join('\n'),
    );
    // Dana has satisfied her path (the activity waived by HR): no reminder for her.
    const enrolment = await paths.enrol(people.done, basics, 'path');
    await lms.services.get('catalog.launch').waive(enrolment.registration, 'https://ex.org/c/basics/au1', 'Tested Out', {
      comment: 'Passed the equivalent exam',
      by: people.hr.id,
    });
    await settled(lms);
    lms.jobs.start();
    await until(() => lms.jobs.list().find((j) => j.name === 'notifications.reminders')!.runs >= 3);
    // From here on the tests run the jobs themselves, so each sees exactly the runs it makes.
    lms.jobs.stop();
    await lms.jobs.idle();
    // The digest's period is its interval (an hour here): run now, it is sent once in the period.
    await lms.jobs.run('notifications.digest');
    await lms.jobs.run('notifications.digest');
  });
  after(async () => {
    await lms?.close();
    await smtp?.close();
  });

  const mailsTo = (addr: string) => inbox.filter((m) => m.to.includes(addr));

  it('reminds each person once per deadline and stage, in their language, with text and HTML', () => {
    const ana = mailsTo('ana@example.org').filter((m) => !/Informe|Relatório|report/i.test(m.subject));
    expect(ana.map((m) => m.subject).sort()).to.deep.equal(
      [
        `Recordatorio: sus cursos obligatorios vencen el ${ana.find((m) => m.subject.startsWith('Recordatorio'))?.subject.split(' el ')[1]}`,
        `Vencido: sus cursos obligatorios vencían el ${ana.find((m) => m.subject.startsWith('Vencido'))?.subject.split(' el ')[1]}`,
      ].sort(),
    );
    const soon = ana.find((m) => m.subject.startsWith('Recordatorio'))!;
    expect(soon.text).to.contain('Hola, Ana:').and.contain('Información básica').and.contain('dentro de 3 días');
    expect(soon.text).to.contain('/catalog/my-path');
    expect(soon.html)
      .to.match(/<html lang="es">/)
      .and.contain('Información básica');
    const overdue = ana.find((m) => m.subject.startsWith('Vencido'))!;
    expect(overdue.text).to.contain('Interoperabilidad').and.not.contain('Información básica');
    const joao = mailsTo('joao@example.org');
    expect(joao).to.have.length(1);
    expect(joao[0].subject).to.match(/^Lembrete: seus cursos obrigatórios vencem em /);
    expect(joao[0].html).to.match(/<html lang="pt">/);
    // (Her completion and certificate are told in their own e-mails: completion.test.ts.)
    const reminders = mailsTo('done@example.org').filter((m) => /^(Reminder|Overdue)/.test(m.subject));
    expect(reminders, 'a satisfied path is not reminded').to.have.length(0);
  });

  it('sends HR the trained figures of their institution against the 80 % target, and the country to admins', () => {
    const hr = mailsTo('hr@example.org').filter((m) => m.subject.startsWith('Relatório'));
    expect(hr).to.have.length(1);
    expect(hr[0].subject).to.equal('Relatório de capacitação: Ministerio A');
    expect(hr[0].text).to.contain('Ministerio A: 1 de 3 servidores capacitados (33,3').and.contain('Meta de 80');
    expect(hr[0].text).to.contain('são necessários 3 capacitados; faltam 2');
    expect(hr[0].text).to.contain('/reports?unit=INST-A');
    const admin = mailsTo('admin@example.org').filter((m) => m.subject.startsWith('Training'));
    expect(admin).to.have.length(1);
    expect(admin[0].subject).to.equal('Training report: the whole country');
    expect(admin[0].text).to.contain('1 of 3 servants trained (33.3');
  });

  it('offers one-click unsubscribe; the link turns that kind off and nothing more is sent of it', async () => {
    const mail = mailsTo('joao@example.org')[0];
    // mailparser reads the List-* headers (RFC 2369, RFC 8058) into one `list` header.
    const list = mail.headers.get('list') as { unsubscribe: { url: string }; 'unsubscribe-post': { name: string } };
    expect(list['unsubscribe-post'].name).to.equal('List-Unsubscribe=One-Click');
    const link = list.unsubscribe.url;
    expect(mail.text).to.contain(link);
    const path = new URL(link).pathname;
    const anon = supertest(lms.app);
    const page = await anon.get(path).set('Accept-Language', 'pt').expect(200);
    expect(page.text).to.contain('Deixar de receber');
    await anon.post(path).type('form').send({ 'List-Unsubscribe': 'One-Click' }).expect(200);
    expect(await lms.services.get('notifications').isOff(people.joao.id, 'reminders')).to.equal(true);
    await anon.get(path.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))).expect(404);
    // A new deadline is reminded to the others on the path (Ana, and Helena of HR), not to João.
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: ['https://ex.org/c/basics'], due: day(2) });
    const before = inbox.length;
    await lms.jobs.run('notifications.reminders');
    const fresh = inbox.slice(before);
    expect(fresh.map((m) => m.to).sort()).to.deep.equal(['ana@example.org', 'hr@example.org']);
  });

  it('keeps preferences on the person’s page', async () => {
    const agent = await signIn(lms, people.hr.email, people.hr.password);
    const page = await agent.get('/notifications/preferences').expect(200);
    expect(page.text).to.contain('Relatório semanal de capacitação');
    await agent
      .post('/notifications/preferences')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), on: 'reminders' })
      .expect(200);
    const svc = lms.services.get('notifications');
    expect(await svc.isOff(people.hr.id, 'digest')).to.equal(true);
    expect(await svc.isOff(people.hr.id, 'reminders')).to.equal(false);
  });

  it('records a refused delivery as failed and sends it at a later run', async () => {
    refuse = 'ana@example.org';
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: ['https://ex.org/c/basics'], due: day(1) });
    await lms.jobs.run('notifications.reminders');
    const failures = await lms.services.get('notifications').failures();
    expect(failures.count).to.equal(1);
    expect(failures.recent[0].to).to.equal('ana@example.org');
    // The administrator's home page says so first, linking to the list of failing e-mails; and a
    // roster preview left unconfirmed is there too.
    await lms.services.get('reports.internal').roster.preview({
      file: tmpFile([HEADER, 'E9,Nueva,nueva@example.org,A1,,all,,no,yes'].join('\n')),
      fileName: 'roster.csv',
      institution: 'INST-A',
      userId: people.admin.id,
    });
    const admin = await signIn(lms, people.admin.email, people.admin.password);
    const home = await admin.get('/').expect(200);
    expect(home.text).to.contain('Needs attention');
    expect(home.text).to.match(/<a href="\/notifications\/admin\/failed"><strong>1 e-mail could not be delivered<\/strong><\/a>/);
    expect(home.text).to.match(/<a href="\/reports\/roster"><strong>1 roster import is waiting for confirmation<\/strong><\/a>/);
    expect(home.text).to.contain('At a glance').and.contain('3 servants on the rosters');
    const list = await admin.get('/notifications/admin/failed').expect(200);
    expect(list.text).to.contain('ana@example.org').and.contain('550');
    const hrHome = await (await signIn(lms, people.hr.email, people.hr.password)).get('/').expect(200);
    expect(hrHome.text, 'HR gets their links, not the administrator’s figures').not.to.contain('Requer atenção');
    refuse = '';
    const before = inbox.length;
    await lms.jobs.run('notifications.reminders');
    expect(inbox.slice(before).map((m) => m.to)).to.deep.equal(['ana@example.org']);
    expect((await lms.services.get('notifications').failures()).count).to.equal(0);
    expect((await admin.get('/').expect(200)).text).not.to.contain('could not be delivered');
  });
});
