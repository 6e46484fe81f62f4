/**
 * SCORM prerequisites with manifests of our own: SCORM 1.2 `adlcp:prerequisites` (the AICC
 * script's identifiers with &, |, ~ and parentheses, a module's gating its units) and the SCORM
 * 2004 pre-condition rule that says the same (disabled until another item's global objective is
 * satisfied). A unit whose prerequisites are not met is on the course page with the reason in the
 * learner's language and no launch form, its launch is refused (409), and it opens once the
 * learner completes what it needs. Manifests whose prerequisites cannot be run are refused (422
 * naming the rule) with nothing stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { HttpError } from '../../server/core/errors';
import type { AuNode } from '../../server/plugins/catalog/course.model';
import { PREREQ_RULE_12 } from '../../server/plugins/catalog/formats/scorm/prerequisites';
import { allAus } from '../../server/plugins/catalog/paths/course-reader';
import { csrfFrom, makeUser, settled, signIn, testApp } from '../helpers';
import { scormZip, type ManifestSpec } from './fixtures/scorm-packages';

/** Golf-sample style SCORM 2004 sequencing: this item is disabled until `previous` writes its objective as satisfied. */
const seq2004 = (own: string, previous?: string, action = 'disabled') => `<imsss:sequencing>
  ${
    previous
      ? `<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions conditionCombination="any">
    <imsss:ruleCondition referencedObjective="previous_satisfied" operator="not" condition="satisfied"/>
    <imsss:ruleCondition referencedObjective="previous_satisfied" operator="not" condition="objectiveStatusKnown"/>
  </imsss:ruleConditions><imsss:ruleAction action="${action}"/></imsss:preConditionRule></imsss:sequencingRules>`
      : ''
  }
  <imsss:objectives>
    <imsss:primaryObjective objectiveID="${own}_satisfied"><imsss:mapInfo targetObjectiveID="g.${own}" readSatisfiedStatus="true" writeSatisfiedStatus="true"/></imsss:primaryObjective>
    ${previous ? `<imsss:objective objectiveID="previous_satisfied"><imsss:mapInfo targetObjectiveID="g.${previous}" readSatisfiedStatus="true" writeSatisfiedStatus="false"/></imsss:objective>` : ''}
  </imsss:objectives>
</imsss:sequencing>`;

describe('catalog: SCORM prerequisites (1.2 adlcp:prerequisites, 2004 pre-condition rules)', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  let dir: string;
  let course12: string;
  let course2004: string;
  const users: Record<'es' | 'pt' | 'en', Awaited<ReturnType<typeof makeUser>>> = {} as never;

  const au12 = (id: string) => `${course12}/item_${id}`;
  const structureOf = async (courseId: string) => {
    const courses = lms.services.get('catalog.courses');
    const v = await courses.getVersion(courseId, (await courses.getCourse(courseId))!.currentVersion);
    return new Map(allAus(v!.structure).map((a: AuNode) => [a.id, a]));
  };
  const registrationOf = async (userId: string, courseId: string) =>
    (await lms.services.get('catalog.paths').enrollment(userId, courseId))!.registration;
  /** A learner's session of one SCO through the SCORM runtime (start URL, initialize, terminate with a status). */
  const complete = async (user: Express.User, courseId: string, auId: string) => {
    const r = await lms.services.get('catalog.launch').launch(user, await registrationOf(user.id, courseId), auId);
    const url = new URL(r.url);
    const start = await supertest(lms.app)
      .post(`/catalog/scorm/start/${url.searchParams.get('lms-scorm')}`)
      .send('')
      .expect(200);
    const send = (body: unknown) =>
      supertest(lms.app).post('/catalog/scorm/commit').set('Content-Type', 'text/plain').send(JSON.stringify(body)).expect(200);
    const at = new Date().toISOString();
    await send({ key: start.body.key, seq: 1, event: 'initialize', at });
    const cmi =
      start.body.version === '1.2'
        ? { core: { lesson_status: 'completed', exit: '', session_time: '00:01:00' } }
        : { completion_status: 'completed', success_status: 'passed', exit: 'normal', session_time: 'PT1M' };
    await send({ key: start.body.key, seq: 2, event: 'terminate', at, cmi: { cmi } });
    await settled(lms);
  };
  const coursePage = async (lang: 'es' | 'pt' | 'en', courseId: string) => {
    const agent = await signIn(lms, users[lang].email, users[lang].password);
    const res = await agent.get(`/catalog/course?id=${encodeURIComponent(courseId)}`).expect(200);
    return { agent, html: res.text };
  };
  const launchForms = (html: string, auId: string) => html.split(`name="auId" value="${auId}"`).length - 1;
  const lockedReasons = (html: string) => [...html.matchAll(/<p class="hint prerequisites">([^<]*)<\/p>/g)].map((m) => m[1]);

  before(async () => {
    lms = await testApp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'scorm-prereq-'));
    const courses = lms.services.get('catalog.courses');
    course12 = (
      await courses.importPackage({
        filePath: await scormZip(dir, 'p12.zip', {
          identifier: 'org.example.prereq12',
          title: 'Firma digital',
          items: [
            {
              module: 'm1',
              title: 'Módulo 1',
              items: [
                { id: 'intro', title: 'Introducción' },
                // Named further down the manifest than the script that names it.
                { id: 'quiz', title: 'Cuestionario', prerequisites: 'item_intro & (item_practice | ~item_practice)' },
                // A practice open until the quiz is done.
                { id: 'practice', title: 'Práctica', prerequisites: '~item_quiz' },
              ],
            },
            // The module's prerequisites gate each of its units.
            { module: 'm2', title: 'Módulo 2', prerequisites: 'item_quiz', items: [{ id: 'final', title: 'Cierre' }] },
          ],
        }),
      })
    ).courseId;
    course2004 = (
      await courses.importPackage({
        filePath: await scormZip(dir, 'p2004.zip', {
          edition: '2004 3rd Edition',
          identifier: 'org.example.prereq2004',
          title: 'Datos abiertos',
          items: [
            { id: 'a', title: 'Primera', sequencing: seq2004('a') },
            { id: 'b', title: 'Segunda', sequencing: seq2004('b', 'a') },
            // Skipping is flow navigation, which this server does not run: no prerequisite.
            { id: 'c', title: 'Tercera', sequencing: seq2004('c', 'b', 'skip') },
          ],
        }),
      })
    ).courseId;
    for (const c of [course12, course2004]) await courses.setPublished(c, true);
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [course12, course2004] });
    for (const lang of ['es', 'pt', 'en'] as const) {
      users[lang] = await makeUser(lms, { tier: 'all', level: 'local', language: lang, name: `Persona ${lang}` });
      await lms.services.get('catalog.paths').syncPath(users[lang] as unknown as Express.User, new Set());
    }
  });
  after(async () => {
    await lms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads SCORM 1.2 prerequisites as expressions over the course’s units and modules, a module’s gating its units', async () => {
    const aus = await structureOf(course12);
    expect(aus.get(au12('intro'))!.prerequisites).to.equal(undefined);
    expect(aus.get(au12('quiz'))!.prerequisites).to.deep.equal({
      all: [{ item: au12('intro') }, { any: [{ item: au12('practice') }, { not: { item: au12('practice') } }] }],
    });
    expect(aus.get(au12('practice'))!.prerequisites).to.deep.equal({ not: { item: au12('quiz') } });
    expect(aus.get(au12('final'))!.prerequisites).to.deep.equal({ item: au12('quiz') });
  });

  it('reads the SCORM 2004 rule "disabled until the previous item’s objective is satisfied"; other sequencing is not run', async () => {
    const aus = await structureOf(course2004);
    expect(aus.get(`${course2004}/item_a`)!.prerequisites).to.equal(undefined);
    expect(aus.get(`${course2004}/item_b`)!.prerequisites).to.deep.equal({ item: `${course2004}/item_a` });
    expect(aus.get(`${course2004}/item_c`)!.prerequisites).to.equal(undefined);
  });

  it('shows a unit whose prerequisites are not met with the reason in es/pt/en, refuses its launch, and opens it once they are', async () => {
    const es = await coursePage('es', course12);
    expect(launchForms(es.html, au12('intro'))).to.equal(1);
    expect(launchForms(es.html, au12('quiz'))).to.equal(0);
    expect(launchForms(es.html, au12('final'))).to.equal(0);
    expect(launchForms(es.html, au12('practice'))).to.equal(1);
    const reasons = lockedReasons(es.html);
    expect(reasons).to.have.length(2);
    expect(reasons[0]).to.equal(
      'Todavía no disponible: se abre cuando hayas completado «Introducción» y (hayas completado «Práctica» o no hayas completado «Práctica»).',
    );
    expect(reasons[1]).to.equal('Todavía no disponible: se abre cuando hayas completado «Cuestionario».');
    expect(lockedReasons((await coursePage('pt', course12)).html)[1]).to.equal(
      'Ainda não disponível: abre quando você tiver concluído “Cuestionario”.',
    );
    expect(lockedReasons((await coursePage('en', course12)).html)[1]).to.equal(
      'Not available yet: it opens when you have completed “Cuestionario”.',
    );

    // The launch form posted anyway (an old page, a crafted request): 409 with the reason, nothing opened.
    const reg = await registrationOf(users.es.id, course12);
    const sessions = () => lms.db.collection('catalog_sessions').countDocuments({ userId: users.es.id });
    const before = await sessions();
    const form = await es.agent
      .post('/catalog/launch')
      .type('form')
      .send({ _csrf: csrfFrom(es.html), registration: reg, auId: au12('quiz') });
    expect(form.status).to.equal(409);
    expect(form.text).to.contain('se abre cuando hayas completado «Introducción»');
    const json = await es.agent
      .post('/catalog/launch')
      .set('Accept', 'application/json')
      .type('form')
      .send({ _csrf: csrfFrom(es.html), registration: reg, auId: au12('final') });
    expect(json.status).to.equal(409);
    expect(json.body.error.message).to.equal('Not available yet: it opens when you have completed “Cuestionario”.');
    expect(await sessions()).to.equal(before);

    const ana = users.es as unknown as Express.User;
    await complete(ana, course12, au12('intro'));
    let page = (await coursePage('es', course12)).html;
    expect(launchForms(page, au12('quiz'))).to.equal(1);
    expect(launchForms(page, au12('final'))).to.equal(0);
    await complete(ana, course12, au12('quiz'));
    page = (await coursePage('es', course12)).html;
    expect(launchForms(page, au12('final'))).to.equal(1);
    // "~": the practice closes once the quiz is done.
    expect(launchForms(page, au12('practice'))).to.equal(0);
    expect(lockedReasons(page)).to.deep.equal(['Todavía no disponible: se abre cuando no hayas completado «Cuestionario».']);
    await complete(ana, course12, au12('final'));
    // The other learners' progress is theirs: still closed for them.
    expect(launchForms((await coursePage('pt', course12)).html, au12('quiz'))).to.equal(0);

    // SCORM 2004: the second opens once the first is satisfied.
    expect(launchForms((await coursePage('es', course2004)).html, `${course2004}/item_b`)).to.equal(0);
    await complete(ana, course2004, `${course2004}/item_a`);
    expect(launchForms((await coursePage('es', course2004)).html, `${course2004}/item_b`)).to.equal(1);
  });

  describe('prerequisites that cannot be run are refused, naming the rule, with nothing stored', () => {
    const counts = async () => {
      const n = (c: string) => lms.db.collection(c).countDocuments({});
      return {
        courses: await n('catalog_courses'),
        versions: await n('catalog_course_versions'),
        files: await n('catalog_packages.files'),
      };
    };
    const refused = async (name: string, items: ManifestSpec['items'], pattern: RegExp) => {
      const file = await scormZip(dir, name, { identifier: `org.example.${name}`, items });
      const before = await counts();
      let err: unknown;
      try {
        await lms.services.get('catalog.courses').importPackage({ filePath: file, originalName: `${name}.zip` });
      } catch (e) {
        err = e;
      }
      expect(err, 'import should fail').to.be.instanceOf(HttpError);
      expect((err as HttpError).status, (err as Error).message).to.equal(422);
      expect((err as HttpError).message).to.contain(PREREQ_RULE_12);
      expect((err as HttpError).message).to.match(pattern);
      expect(await counts()).to.deep.equal(before);
    };

    it('scripts that are not the simple subset: broken syntax, comparisons and sets, unknown items, too long', async () => {
      await refused('dangling', [{ id: 'a' }, { id: 'b', prerequisites: 'item_a &' }], /cannot be read at character 9/);
      await refused('unclosed', [{ id: 'a' }, { id: 'b', prerequisites: '(item_a | ~item_a' }], /cannot be read at character 18/);
      await refused('compare', [{ id: 'a' }, { id: 'b', prerequisites: 'item_a=passed' }], /uses "="/);
      await refused('set', [{ id: 'a' }, { id: 'b', prerequisites: '2*{item_a,item_b}' }], /cannot be read at character 1/);
      await refused('setinner', [{ id: 'a' }, { id: 'b', prerequisites: 'item_a & {item_a}' }], /uses "\{"/);
      await refused('unknown', [{ id: 'a' }, { id: 'b', prerequisites: 'item_a | res_a' }], /names "res_a", which is no item/);
      await refused('long', [{ id: 'a' }, { id: 'b', prerequisites: Array(400).fill('item_a').join(' & ') }], /longer than 2000/);
      await refused('deep', [{ id: 'a' }, { id: 'b', prerequisites: '~'.repeat(40) + 'item_a' }], /cannot be read/);
    });

    it('prerequisites in a circle (which would keep their units closed for ever), a module’s naming its own unit included', async () => {
      await refused(
        'circle',
        [
          { id: 'a', prerequisites: 'item_b' },
          { id: 'b', prerequisites: 'item_a' },
        ],
        /go round in a circle[^:]*: item_a → item_b → item_a/,
      );
      await refused(
        'circle3',
        [
          { id: 'a', prerequisites: 'item_c | item_b & item_c' },
          { id: 'b', prerequisites: 'item_a' },
          { id: 'c', prerequisites: '(item_b)' },
        ],
        /circle[^:]*: item_a → item_c → item_b → item_a/,
      );
      await refused('self', [{ id: 'a', prerequisites: 'item_a | item_a & ~item_a' }], /circle[^:]*: item_a → item_a/);
      await refused('module', [{ module: 'm', prerequisites: 'item_a', items: [{ id: 'a' }, { id: 'b' }] }], /circle/);
    });
  });
});
