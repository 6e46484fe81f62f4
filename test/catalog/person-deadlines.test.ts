/**
 * A deadline per person, set by HR: only for their own institution's people, shown to the person
 * (My path) and on HR's list of people (overdue marked), and used by the deadline reminders.
 * Two institutions: HR of A cannot touch B's people.
 */
import { expect } from 'chai';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../server/app';
import { englishInPage } from '../english-detector';
import { csrfFrom, makeUser, signIn, testApp } from '../helpers';
import { cmi5Xml, importXml } from './launch-fixtures';
import { HEADER, importRoster, seedOrg } from '../reports/fixtures';

const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

describe('catalog: a deadline per person, set by HR', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  const people: Record<string, Awaited<ReturnType<typeof makeUser>>> = {};
  let hrA: TestAgent;
  let hrB: TestAgent;
  const stored = (userId: string) => lms.db.collection('catalog_person_deadlines').findOne({ _id: userId as never });
  const post = async (agent: TestAgent, userId: string, due: string) => {
    const page = await agent.get('/catalog/people').expect(200);
    return agent
      .post(`/catalog/people/${userId}/deadline`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), due });
  };

  before(async () => {
    lms = await testApp({ env: { CONTENT_LIBRARY: 'off' } });
    await seedOrg(lms);
    const basics = await importXml(
      lms,
      cmi5Xml('https://ex.org/c/basics', 'Información básica', [{ au: 'https://ex.org/c/basics/au1', moveOn: 'Completed' }]),
    );
    // The path is due in 30 days: no reminder yet for anyone who follows it.
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [basics], due: day(30) });
    people.ana = await makeUser(lms, { name: 'Ana Prueba', language: 'es', orgUnit: 'A1', tier: 'all' });
    people.bruno = await makeUser(lms, { name: 'Bruno Lima', language: 'pt', orgUnit: 'B1', tier: 'all' });
    const a = await makeUser(lms, { role: 'hr', name: 'Helena Souza', language: 'es', orgUnit: 'INST-A' });
    const b = await makeUser(lms, { role: 'hr', name: 'Beatriz Rocha', language: 'pt', orgUnit: 'INST-B' });
    hrA = await signIn(lms, a.email, a.password);
    hrB = await signIn(lms, b.email, b.password);
  });
  after(() => lms?.close());

  it("refuses another institution's person (403 in the page's language) and a day that does not exist (400), writing nothing", async () => {
    const other = await post(hrA, people.bruno.id, day(-2));
    expect(other.status).to.equal(403);
    expect(other.text).to.contain('Solo puede fijar fechas límite a personas de su propia institución.');
    expect(englishInPage(other.text, 'es')).to.deep.equal([]);
    expect((await post(hrB, people.ana.id, day(-2))).text).to.contain(
      'Você só pode definir prazos para pessoas da sua própria instituição.',
    );
    for (const [agent, who, lang, message] of [
      [hrA, people.ana.id, 'es', 'La fecha límite «2026-02-30» no es una fecha (AAAA-MM-DD).'],
      [hrB, people.bruno.id, 'pt', 'O prazo «2026-02-30» não é uma data (AAAA-MM-DD).'],
    ] as const) {
      const bad = await post(agent, who, '2026-02-30');
      expect(bad.status).to.equal(400);
      expect(bad.text).to.contain(message);
      expect(englishInPage(bad.text.replace(/<td>[^<]*@example\.org<\/td>/g, ''), lang)).to.deep.equal([]);
    }
    expect(await stored(people.ana.id)).to.equal(null);
    expect(await stored(people.bruno.id)).to.equal(null);
  });

  it('sets the deadline: the person sees it, HR sees it overdue on the list, the reminders use it', async () => {
    const saved = await post(hrA, people.ana.id, day(-2));
    expect(saved.status).to.equal(303);
    expect(saved.headers.location).to.equal(`/catalog/people/${people.ana.id}?deadline=set#deadline`);
    expect(await stored(people.ana.id)).to.include({ institution: 'INST-A' });
    const person = await hrA.get(saved.headers.location.split('#')[0]).expect(200);
    expect(person.text)
      .to.contain('Fecha límite guardada.')
      .and.contain(`value="${day(-2)}"`);
    expect(englishInPage(person.text, 'es')).to.deep.equal([]);
    // HR's list: Ana overdue (her course is not done), in A's list only.
    const list = await hrA.get('/catalog/people').expect(200);
    expect(list.text).to.match(/Ana Prueba<\/a><\/th>[\s\S]*?<strong class="overdue">Vencido desde el /);
    expect(list.text).not.to.contain('Bruno Lima');
    expect(englishInPage(list.text.replace(/<td>[^<]*@example\.org<\/td>/g, ''), 'es')).to.deep.equal([]);
    expect((await hrB.get('/catalog/people').expect(200)).text).not.to.contain('Ana Prueba');
    // Ana's own path: the date HR set, overdue, instead of the path's.
    const ana = await signIn(lms, people.ana.email, people.ana.password);
    const path = await ana.get('/catalog/my-path').expect(200);
    expect(path.text).to.contain('Su unidad de recursos humanos le fijó como fecha límite el');
    expect(path.text).to.contain('<strong class="overdue">Vencido desde el');
    expect(englishInPage(path.text, 'es')).to.deep.equal([]);
    // The reminders: Ana is overdue by her own date; Bruno's path is 30 days away, nothing for him.
    await lms.jobs.run('notifications.reminders');
    const notices = (userId: string) => lms.db.collection('notifications_inbox').find({ userId }).toArray();
    const [reminder] = await notices(people.ana.id);
    expect(String(reminder?._id)).to.match(new RegExp(`^reminder:${people.ana.id}:overdue:${day(-2)}:`));
    expect(reminder.text.es.subject).to.contain('Vencido');
    expect(await notices(people.bruno.id)).to.deep.equal([]);
  });

  it('clearing it brings back the path’s date', async () => {
    expect((await post(hrA, people.ana.id, '')).status).to.equal(303);
    expect(await stored(people.ana.id)).to.equal(null);
    const ana = await signIn(lms, people.ana.email, people.ana.password);
    const path = await ana.get('/catalog/my-path').expect(200);
    expect(path.text).not.to.contain('Su unidad de recursos humanos le fijó').and.not.contain('class="overdue"');
    const due = await lms.services.get('catalog').deadlinesFor(people.ana);
    expect([...due.values()].map((d) => d.toISOString().slice(0, 10))).to.deep.equal([day(30)]);
  });

  it("HR's people export has the personal deadline and whether it is overdue, for their institution only", async () => {
    await importRoster(lms, 'INST-A', [HEADER, 'A-901,Carla Núñez,carla@a.gov,A1,national,all,,no,yes'].join('\n'));
    await importRoster(lms, 'INST-B', [HEADER, 'B-901,Diego Prado,diego@b.gov,B1,local,all,,no,yes'].join('\n'));
    const users = lms.services.get('accounts.users');
    const carla = (await users.findByEmail('carla@a.gov'))!;
    const diego = (await users.findByEmail('diego@b.gov'))!;
    expect((await post(hrA, carla.id, day(-1))).status).to.equal(303);
    expect((await post(hrB, diego.id, day(10))).status).to.equal(303);
    const csv = (await hrA.get('/reports/export/people.csv?status=all').expect(200)).text;
    const [head, ...rows] = csv.trim().split('\n');
    expect(head).to.match(/Fecha límite personal,Vencida\s*$/);
    expect(rows.find((r) => r.includes('carla@a.gov'))).to.match(new RegExp(`,${day(-1)},sí\\s*$`));
    expect(csv).not.to.contain('diego@b.gov');
    const pt = (await hrB.get('/reports/export/people.csv?status=all').expect(200)).text;
    expect(pt.trim().split('\n')[0]).to.match(/Prazo pessoal,Vencido\s*$/);
    expect(pt.split('\n').find((r) => r.includes('diego@b.gov'))).to.match(new RegExp(`,${day(10)},não\\s*$`));
  });
});
