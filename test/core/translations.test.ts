import { expect } from 'chai';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../server/app';
import { englishIn, englishInPage, plainTexts } from '../english-detector';
import { csrfFrom, signIn, testApp } from '../helpers';
import { certificateFor, completionFor } from '../../server/plugins/notifications/completion';
import { digestFor } from '../../server/plugins/notifications/digest';
import { remindersFor } from '../../server/plugins/notifications/reminders';
import { crawl, ROLES, routePaths, seedDemoSite, type DemoSite, type Role } from '../site-pages';

/** Every page of every role, in Spanish and Portuguese, has no English left in it. */
describe('core: no English in Spanish and Portuguese pages', function () {
  this.timeout(600_000);
  let lms: LmsApp;
  let site: DemoSite;
  before(async () => {
    lms = await testApp();
    site = await seedDemoSite(lms);
  });
  after(() => lms.close());

  async function as(role: Role, lang: 'es' | 'pt'): Promise<TestAgent> {
    const agent = role === 'anonymous' ? supertest.agent(lms.app) : await signIn(lms, site.users[role].email, site.users[role].password);
    await agent.get(`/lang/${lang}?next=/`).expect(303);
    return agent;
  }

  for (const lang of ['es', 'pt'] as const)
    for (const role of ROLES)
      it(`as ${role}, in ${lang}`, async () => {
        const agent = await as(role, lang);
        const problems: string[] = [];
        const visited = await crawl(routePaths(lms, site), async (url) => {
          const res = await agent
            .get(url)
            .redirects(5)
            .ok(() => true);
          if (!String(res.headers['content-type'] ?? '').startsWith('text/html')) return undefined;
          expect(res.text, url).to.contain(`<html lang="${lang}"`);
          for (const p of englishInPage(res.text, lang)) problems.push(`${url}: ${p}`);
          return res.text;
        });
        expect(problems, problems.join('\n')).to.deep.equal([]);
        expect(visited.length).to.be.greaterThan(role === 'anonymous' ? 3 : 8);
      });

  /** The pages people reach when something is wrong, in their language too. */
  for (const lang of ['es', 'pt'] as const)
    describe(`error paths, in ${lang}`, () => {
      it('roster row errors, one error in the singular, and file errors', async () => {
        const hr = await as('hr', lang);
        const page = await hr.get('/reports/roster').expect(200);
        const institution = /<select id="institution" name="institution"[^>]*>\s*<option value="([^"]+)"/.exec(page.text)![1];
        const upload = (body: string, name = 'r.csv') =>
          hr
            .post('/reports/roster')
            .field('_csrf', csrfFrom(page.text))
            .field('institution', institution)
            .attach('file', Buffer.from(body), name);
        const header = 'employee_id,name,email,unit,level,tier,position,decision_maker,active';
        const one = await upload(`${header}\nE1,Uno,not-an-email,${institution},,all,,no,yes\n`).expect(303);
        const preview = await hr.get(one.headers.location).expect(200);
        expect(preview.text).to.contain(lang === 'es' ? 'El archivo tiene 1 error.' : 'O arquivo tem 1 erro.');
        const many = await upload(
          [
            header,
            `E1,Uno,uno@x.example,NOPE,,all,,maybe,yes`,
            `E1,Dos,,${institution},,wizard,,no,yes`,
            `E3,Tres,tres@x.example,${institution},galactic,all,,no,yes`,
          ].join('\n'),
        ).expect(303);
        const rows = await hr.get(many.headers.location).expect(200);
        const problems = englishInPage(rows.text, lang);
        for (const bad of ['not-a-roster.exe', 'columns']) {
          const res = bad === 'columns' ? await upload('id,name\n1,x\n') : await upload('MZ', bad);
          expect(res.status).to.be.within(400, 499);
          problems.push(...englishInPage(res.text, lang).map((p) => `${bad}: ${p}`));
        }
        expect(problems, problems.join('\n')).to.deep.equal([]);
        // The table names each problem (one per broken value).
        expect(rows.text.match(/<tr><th scope="row">/g)!.length).to.equal(4);
      });

      it('forms that refuse their input (org unit, "trained" rule, baseline, LRS client)', async () => {
        const admin = await as('admin', lang);
        const problems: string[] = [];
        const check = async (url: string, form: Record<string, string>) => {
          const page = await admin.get(url.replace(/\/(rule|baseline)$/, '')).expect(200);
          const res = await admin
            .post(url)
            .type('form')
            .send({ _csrf: csrfFrom(page.text), ...form });
          expect(res.status, url).to.be.within(400, 499);
          expect(res.text).to.contain('role="alert"');
          problems.push(...englishInPage(res.text, lang).map((p) => `${url}: ${p}`));
        };
        await check('/reports/org', { code: 'U-X', name: 'x', parent: 'NOPE', kind: 'unit' });
        await check('/reports/org', { code: 'bad code!', name: '', parent: '', kind: 'unit' });
        await check('/reports/settings/rule', { minHours: '-3', validityYears: '0' });
        await check('/reports/settings/baseline', { date: '2999-01-01' });
        await check('/reports/settings/baseline', { date: 'yesterday' });
        await check('/lrs/admin/clients', { name: 'BI' });
        expect(problems, problems.join('\n')).to.deep.equal([]);
      });

      it('the notification e-mails (reminders before and after a deadline, the HR digest), text and HTML', async () => {
        const mailer = lms.services.get('notifications');
        const catalog = lms.services.get('catalog');
        const paths = lms.services.get('catalog.paths');
        const all = (await paths.getPath('all'))!;
        const due = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
        await paths.setPath({ tier: 'all', courses: all.courses, due });
        const person = { ...(await lms.services.get('accounts.users').findById(site.users.hr.id))!, language: lang };
        const settings = {
          beforeMs: 7 * 86_400_000,
          overdueEveryMs: 7 * 86_400_000,
          timeZone: lms.config.timeZone,
          baseUrl: lms.config.baseUrl,
        };
        const messages = [
          ...(await remindersFor(person, catalog, mailer, settings)),
          ...(await remindersFor(person, catalog, mailer, settings, new Date(Date.now() + 20 * 86_400_000))),
          await digestFor(person, person.orgUnit!, lms.services.get('reports.figures'), mailer, lms.config.baseUrl, 1),
          await digestFor(person, '*', lms.services.get('reports.figures'), mailer, lms.config.baseUrl, 1),
          completionFor(
            person,
            (await catalog.getCourse(all.courses[0]))!,
            { registration: 'r1', updatedAt: new Date() },
            mailer,
            settings,
          ),
          ...(['course', 'path'] as const).map((kind) =>
            certificateFor(
              person,
              {
                code: 'C0DE',
                kind,
                userId: person.id,
                subjectId: all.courses[0],
                title: 'Información básica',
                hours: 4,
                issuedAt: new Date(),
                status: 'valid',
              },
              undefined,
              mailer,
              settings,
            ),
          ),
        ];
        expect(messages.map((m) => m.key.split(':').slice(0, 3).join(':'))).to.deep.equal([
          `reminder:${person.id}:soon`,
          `reminder:${person.id}:overdue`,
          `digest:${person.id}:1`,
          `digest:${person.id}:1`,
          `completion:${person.id}:r1`,
          'certificate:C0DE',
          'certificate:C0DE',
        ]);
        const problems: string[] = [];
        for (const m of messages) {
          const { text, html } = await mailer.render(m);
          expect(html).to.contain(`<html lang="${lang}">`);
          const texts = plainTexts([m.subject, text].join('\n').replace(/\S+@\S+|https?:\/\/\S+/g, ''));
          problems.push(...englishIn(texts, lang).map((p) => `${m.key} (text): ${p}`));
          problems.push(...englishInPage(html, lang).map((p) => `${m.key} (html): ${p}`));
        }
        expect(problems, problems.join('\n')).to.deep.equal([]);
      });

      it('the people export has headers, values and course titles in the language', async () => {
        const hr = await as('hr', lang);
        const csv = await hr.get('/reports/export/people.csv?status=all').expect(200);
        const [head] = csv.text.split('\n');
        expect(head).to.contain(lang === 'es' ? 'Cursos pendientes' : 'Cursos pendentes');
        expect(csv.text).not.to.match(/https?:\/\/\S+\/courses\//);
        const found = englishIn(plainTexts(csv.text.replace(/\S+@\S+/g, '')), lang);
        expect(found, found.join('\n')).to.deep.equal([]);
      });
    });
});
