/**
 * The two institutions the access sweep works in. Institution B has a learner who launched a cmi5
 * lesson (LaunchData, preferences, a bookmark state, statements) and a SCORM lesson (a session with
 * committed data), a certificate, a pending roster import, an HR officer and an API token. Institution
 * A has a learner with their own launch credential and SCORM session key, an HR officer and a token.
 * Everything is made through the real services and HTTP flows, on the real database.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { makeUser, signIn } from '../helpers';
import { HEADER, importRoster, reportsOf, seedOrg, tmpFile } from '../reports/fixtures';
import { course, satisfied } from '../certificates/helpers';
import { AuClient, cmi5Xml, importXml, launchAu } from '../catalog/launch-fixtures';
import { scormZip } from '../catalog/fixtures/scorm-packages';

export const CMI5_COURSE = 'https://courses.example.org/barrido';
export const CMI5_AU = `${CMI5_COURSE}/au/uno`;

export const B_NAME = 'Beatriz Secretísima';
export const B_EMAIL = 'beatriz.secreta@b.example';
export const B_HR_EMAIL = 'hugo.rrhh@b.example';
/** Strings only B's own documents hold: an answer that contains one shows B's data. */
export const B_BOOKMARK = 'marcador-secreto-de-beatriz';
export const B_SUSPEND = 'suspension-secreta-de-beatriz';

export interface World {
  b: {
    userId: string;
    hrId: string;
    actor: Record<string, unknown>;
    registration: string;
    activityId: string;
    statementId: string;
    scormSession: string;
    cmi5Session: string;
    scormRegistration: string;
    code: string;
    importId: string;
    tokenId: string;
  };
  a: {
    learner: { email: string; password: string; id: string };
    hr: { email: string; password: string; id: string };
    token: string;
    launchToken: string;
    /** The secret half of A's SCORM session key (`<session>.<secret>`). */
    scormSecret: string;
  };
}

const scormStart = async (lms: LmsApp, userEmail: string, courseId: string) => {
  const user = (await lms.services.get('accounts.users').findByEmail(userEmail))!;
  const registration = (await lms.services.get('catalog.paths').enrollment(user.id, courseId))!.registration;
  const launched = await lms.services.get('catalog.launch').launch(user, registration, `${courseId}/item_sco1`);
  const startId = new URL(launched.url).searchParams.get('lms-scorm');
  const res = await supertest(lms.app).post(`/catalog/scorm/start/${startId}`).set('Content-Type', 'text/plain').send('');
  if (res.status !== 200) throw new Error(`SCORM start: ${res.status} ${res.text}`);
  const key = (res.body as { key: string }).key;
  return { key, registration };
};

const scormCommit = (lms: LmsApp, body: unknown) =>
  supertest(lms.app).post('/catalog/scorm/commit').set('Content-Type', 'text/plain').send(JSON.stringify(body));

/** A learner signed in, enrolled by opening their path, who launched the cmi5 lesson and started it as its AU would. */
async function cmi5Session(lms: LmsApp, email: string, password: string): Promise<AuClient> {
  const agent = await signIn(lms, email, password);
  await agent.get('/catalog/my-path').expect(200);
  return new AuClient(lms, await launchAu(agent, CMI5_COURSE, CMI5_AU), CMI5_AU).start();
}

export async function makeWorld(lms: LmsApp): Promise<World> {
  await seedOrg(lms);
  await importXml(lms, cmi5Xml(CMI5_COURSE, 'Barrido', [{ au: CMI5_AU, moveOn: 'Completed' }]));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'security-sweep-'));
  const courses = lms.services.get('catalog.courses');
  const { courseId: scormCourse } = await courses.importPackage({
    filePath: await scormZip(dir, 'sweep.zip', { identifier: 'org.example.sweep', title: 'Barrido SCORM', items: [{ id: 'sco1' }] }),
  });
  await courses.setPublished(scormCourse, true);
  await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [CMI5_COURSE, scormCourse] });

  // Institution B.
  const learnerB = await makeUser(lms, { name: B_NAME, email: B_EMAIL, orgUnit: 'B1', tier: 'all', level: 'local' });
  await importRoster(lms, 'INST-B', [HEADER, `B7,${B_NAME},${B_EMAIL},B1,,all,,no,yes`].join('\n'));
  const hrB = await makeUser(lms, { role: 'hr', orgUnit: 'INST-B', email: B_HR_EMAIL });
  const auB = await cmi5Session(lms, B_EMAIL, learnerB.password);
  const initialized = auB.statement('initialized');
  if ((await auB.send(initialized)).status !== 200) throw new Error('B could not send initialized');
  const bookmark = new URLSearchParams({
    activityId: auB.launch.params.activityId,
    agent: JSON.stringify(auB.launch.params.actor),
    registration: auB.launch.params.registration,
    stateId: 'bookmark',
  });
  await auB.xapi('put', `/xapi/activities/state?${bookmark}`).send({ page: B_BOOKMARK }).expect(204);
  const scormB = await scormStart(lms, B_EMAIL, scormCourse);
  await scormCommit(lms, { key: scormB.key, seq: 1, event: 'initialize', at: new Date().toISOString() }).expect(200);
  await scormCommit(lms, {
    key: scormB.key,
    seq: 2,
    event: 'commit',
    at: new Date().toISOString(),
    cmi: { cmi: { core: { lesson_location: 'p3', lesson_status: 'incomplete' }, suspend_data: B_SUSPEND } },
  }).expect(200);
  const issued = await lms.services.get('certificates').issueForCourse(satisfied(learnerB.id, course()));
  const pending = await reportsOf(lms).roster.preview({
    file: tmpFile([HEADER, `B8,${B_NAME} Dos,b8@b.example,B2,,all,,no,yes`].join('\n')),
    fileName: 'b.csv',
    institution: 'INST-B',
    userId: hrB.id,
  });
  const tokenB = await reportsOf(lms).tokens.create(hrB.id, 'B token');

  // Institution A.
  const learnerA = await makeUser(lms, { orgUnit: 'A1', tier: 'all', level: 'national' });
  const hrA = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
  const auA = await cmi5Session(lms, learnerA.email, learnerA.password);
  const scormA = await scormStart(lms, learnerA.email, scormCourse);

  return {
    b: {
      userId: learnerB.id,
      hrId: hrB.id,
      actor: auB.launch.params.actor,
      registration: auB.launch.params.registration,
      activityId: auB.launch.params.activityId,
      statementId: initialized.id,
      scormSession: scormB.key.split('.')[0],
      cmi5Session: auB.sessionId,
      scormRegistration: scormB.registration,
      code: issued!.certificate._id,
      importId: pending._id,
      tokenId: tokenB.doc._id as string,
    },
    a: {
      learner: learnerA,
      hr: hrA,
      token: (await reportsOf(lms).tokens.create(hrA.id, 'A token')).token,
      launchToken: auA.token,
      scormSecret: scormA.key.slice(scormA.key.indexOf('.') + 1),
    },
  };
}
