/**
 * The learner's course summary (catalog_learners, what "My path" reads) is one document per
 * learner that every enrolment and progress change rewrites: changes to several of their courses
 * at once must all end up in it.
 */
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { makeUser, settled, testApp } from '../helpers';
import { cmi5Xml, importXml } from './launch-fixtures';

describe('catalog: the learner course summary', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({ env: { PLUGINS: 'accounts,lrs,catalog' } });
  });
  after(() => lms.close());

  it('keeps every course when enrolments in several courses land at the same time', async () => {
    const courses: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = `https://courses.example.org/resumen-${i}`;
      await importXml(lms, cmi5Xml(id, `Curso ${i}`, [{ au: `${id}/au/1`, moveOn: 'Completed' }]));
      courses.push(id);
    }
    const learner = await makeUser(lms);
    const paths = lms.services.get('catalog.paths');
    await Promise.all(courses.map((c) => paths.enrol(learner, c, 'self')));
    await settled(lms);
    const doc = await lms.db.collection<{ _id: string; courses: string }>('catalog_learners').findOne({ _id: learner.id });
    const lines = JSON.parse(doc!.courses) as Array<{ courseId: string; status: string }>;
    expect(lines.map((l) => l.courseId).sort()).to.deep.equal([...courses].sort());
    expect(lines.every((l) => l.status === 'not-started')).to.equal(true);
  });
});
