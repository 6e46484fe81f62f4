/**
 * The world of the completion tests: a real SMTP server, two institutions (A1 under INST-A, B1),
 * one cmi5 course, learners Ana (es, A1) and Beatriz (pt, B1) and an HR officer, and `complete`,
 * which enrols a person and has HR waive the course's one AU, then waits for the after-events.
 */
import type { LmsApp } from '../../server/app';
import { makeUser, settled, testApp } from '../helpers';
import { cmi5Xml, importXml } from '../catalog/launch-fixtures';
import { seedOrg } from '../reports/fixtures';
import { startSmtp } from '../smtp';

type Person = Awaited<ReturnType<typeof makeUser>>;

export interface CompletionWorld {
  smtp: Awaited<ReturnType<typeof startSmtp>>;
  lms: LmsApp;
  course: string;
  /** Ana and Beatriz have completed the course; tests add people of their own. */
  people: Record<string, Person>;
  complete(who: string): Promise<void>;
  close(): Promise<void>;
}

export async function completionWorld(names: { ana: string; bia: string; hr: string }): Promise<CompletionWorld> {
  const smtp = await startSmtp();
  const lms = await testApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'aprende@example.org', CONTENT_LIBRARY: 'off' } });
  await seedOrg(lms);
  const course = await importXml(
    lms,
    cmi5Xml('https://ex.org/c/basics', 'Información básica', [{ au: 'https://ex.org/c/basics/au1', moveOn: 'Completed' }]),
  );
  const people: Record<string, Person> = {
    ana: await makeUser(lms, { email: 'ana@example.org', name: names.ana, language: 'es', orgUnit: 'A1', tier: 'all' }),
    bia: await makeUser(lms, { email: 'bia@example.org', name: names.bia, language: 'pt', orgUnit: 'B1', tier: 'all' }),
    hr: await makeUser(lms, { role: 'hr', email: 'hr@example.org', name: names.hr, language: 'pt', orgUnit: 'INST-A' }),
  };
  const complete = async (who: string) => {
    const enrolment = await lms.services.get('catalog.paths').enrol(people[who], course, 'path');
    await lms.services.get('catalog.launch').waive(enrolment.registration, 'https://ex.org/c/basics/au1', 'Tested Out', {
      comment: 'Passed the equivalent exam',
      by: people.hr.id,
    });
    await settled(lms);
  };
  await complete('ana');
  await complete('bia');
  return {
    smtp,
    lms,
    course,
    people,
    complete,
    close: async () => {
      await lms.close();
      await smtp.close();
    },
  };
}
