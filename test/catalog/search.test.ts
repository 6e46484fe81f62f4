/**
 * Finding things: the catalogue's free-text search (title, description, topics in the person's
 * language; accent- and case-insensitive; paged) and HR's people search (name, employee id,
 * e-mail), which never shows a person outside the officer's org subtree.
 */
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { makeUser, signIn, testApp } from '../helpers';
import { cmi5Xml, importXml } from './launch-fixtures';
import { HEADER, importRoster, seedOrg } from '../reports/fixtures';

describe('search: courses in the catalogue and people for HR', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({ env: { CONTENT_LIBRARY: 'off' } });
    await importXml(
      lms,
      cmi5Xml('https://ex.org/c/info', 'Acceso a la información pública', [{ au: 'https://ex.org/c/info/au', moveOn: 'Completed' }]),
    );
    await importXml(lms, cmi5Xml('https://ex.org/c/sig', 'Firma electrónica', [{ au: 'https://ex.org/c/sig/au', moveOn: 'Completed' }]));
    // Enough courses for two pages (20 a page), all matching "curso".
    for (let i = 1; i <= 21; i++)
      await importXml(
        lms,
        cmi5Xml(`https://ex.org/c/n${i}`, `Curso número ${i}`, [{ au: `https://ex.org/c/n${i}/au`, moveOn: 'Completed' }]),
      );
    await seedOrg(lms);
    await importRoster(
      lms,
      'INST-A',
      [
        HEADER,
        'E-101,José Ñúñez da Conceição,jose@example.org,A1,,all,,no,yes',
        'E-102,María Gómez,maria@example.org,A2,,all,,no,yes',
      ].join('\n'),
    );
    await importRoster(lms, 'INST-B', [HEADER, 'E-201,Josefa Núñez,josefa@example.org,B1,,all,,no,yes'].join('\n'));
  });
  after(() => lms.close());

  const titles = (html: string) => [...html.matchAll(/<a href="\/catalog\/course\?id=[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);

  it('finds a course without its accents or capitals, by title words in any order, and names the count', async () => {
    const learner = await makeUser(lms, { language: 'es' });
    const agent = await signIn(lms, learner.email, learner.password);
    const page = await agent.get('/catalog/courses?q=PUBLICA%20informacion').expect(200);
    expect(titles(page.text)).to.deep.equal(['Acceso a la información pública']);
    expect(page.text).to.contain('Se muestran 1 de 23 cursos');
    expect(page.text).to.match(/<input id="f-q" name="q" type="search" value="PUBLICA informacion"/);
    expect(titles((await agent.get('/catalog/courses?q=firma%20informacion').expect(200)).text)).to.deep.equal([]);
    expect(titles((await agent.get('/catalog/courses?q=electronica').expect(200)).text)).to.deep.equal(['Firma electrónica']);
  });

  it('pages the results, keeping the query in the page links', async () => {
    const learner = await makeUser(lms, { language: 'en' });
    const agent = await signIn(lms, learner.email, learner.password);
    const first = await agent.get('/catalog/courses?q=curso').expect(200);
    expect(titles(first.text)).to.have.length(20);
    expect(first.text).to.contain('Page 1 of 2');
    expect(first.text).to.contain('href="/catalog/courses?q=curso&amp;page=2"');
    const second = await agent.get('/catalog/courses?q=curso&page=2').expect(200);
    expect(titles(second.text)).to.have.length(1);
    expect(new Set([...titles(first.text), ...titles(second.text)]).size).to.equal(21);
    // A page past the end shows the last one; a page that is no number, the first.
    expect(titles((await agent.get('/catalog/courses?q=curso&page=99').expect(200)).text)).to.have.length(1);
    expect(titles((await agent.get('/catalog/courses?q=curso&page=1e400').expect(200)).text)).to.have.length(20);
  });

  const people = (html: string) => [...html.matchAll(/<th scope="row">([^<]+)/g)].map((m) => m[1].trim());

  it('finds people for HR by name without accents, by employee id and by e-mail, inside their institution only', async () => {
    const hrA = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    const a = await signIn(lms, hrA.email, hrA.password);
    expect(people((await a.get('/reports/people?status=all&q=nunez').expect(200)).text)).to.deep.equal(['José Ñúñez da Conceição']);
    expect(people((await a.get('/reports/people?status=all&q=E-102').expect(200)).text)).to.deep.equal(['María Gómez']);
    expect(people((await a.get('/reports/people?status=all&q=MARIA%40example').expect(200)).text)).to.deep.equal(['María Gómez']);
    expect(people((await a.get('/reports/people?status=all&q=josefa').expect(200)).text), 'another institution').to.deep.equal([]);
    // Asking for the other institution's unit is refused, query or not.
    await a.get('/reports/people?status=all&unit=INST-B&q=josefa').expect(403);
    const hrB = await makeUser(lms, { role: 'hr', orgUnit: 'INST-B' });
    const b = await signIn(lms, hrB.email, hrB.password);
    expect(people((await b.get('/reports/people?status=all&q=n%C3%BA%C3%B1ez').expect(200)).text)).to.deep.equal(['Josefa Núñez']);
    const api = await b.get('/reports/api/people?status=all&q=josefa').expect(200);
    expect(api.body.total).to.equal(1);
  });

  it('keeps the search in the status filter links and shows unit names, not codes', async () => {
    const hrA = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    const a = await signIn(lms, hrA.email, hrA.password);
    const page = (await a.get('/reports/people?status=all&q=maria').expect(200)).text;
    for (const s of ['untrained', 'trained', 'all'])
      expect(page).to.contain(`href="/reports/people?unit=INST-A&amp;status=${s}&amp;q=maria"`);
    expect(page).to.contain('<td>Unidad A2</td>');
    expect(page).not.to.contain('<td>A2</td>');
    // The API keeps the stable code.
    expect((await a.get('/reports/api/people?status=all&q=maria').expect(200)).body.people[0].unit).to.equal('A2');
  });

  it("finds people to act for on the waiver page by name without accents, in the officer's subtree only, with unit names", async () => {
    await makeUser(lms, { name: 'Joaquín Pérez', email: 'jp-waiver@example.org', orgUnit: 'A1' });
    await makeUser(lms, { name: 'Joaquina Ruiz', email: 'jr-waiver@example.org', orgUnit: 'B1' });
    const hrA = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A', language: 'es' });
    const a = await signIn(lms, hrA.email, hrA.password);
    const names = (html: string) => [...html.matchAll(/<a href="\/catalog\/people\/[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);
    const found = (await a.get('/catalog/people?q=JOAQUIN%20perez').expect(200)).text;
    expect(names(found)).to.deep.equal(['Joaquín Pérez']);
    expect(found).to.contain('<td>Unidad A1</td>');
    expect(names((await a.get('/catalog/people?q=joaquina').expect(200)).text), 'another institution').to.deep.equal([]);
    expect(names((await a.get('/catalog/people?q=jp-waiver%40example').expect(200)).text)).to.deep.equal(['Joaquín Pérez']);
    const admin = await makeUser(lms, { role: 'admin', language: 'en' });
    const ad = await signIn(lms, admin.email, admin.password);
    expect(names((await ad.get('/catalog/people?q=joaqu').expect(200)).text).sort()).to.deep.equal(['Joaquina Ruiz', 'Joaquín Pérez']);
  });
});
