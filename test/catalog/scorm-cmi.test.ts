import { expect } from 'chai';
import { outcomeOf } from '../../server/plugins/catalog/formats/scorm/cmi';

describe('catalog: SCORM 1.2 statuses as the LMS reads them', () => {
  const core = (c: Record<string, unknown>) => ({ core: c });

  it('a SCO that finishes a credit session without setting a status is completed (RTE 1.2 §3.4.4)', () => {
    expect(outcomeOf('1.2', core({ lesson_status: 'not attempted' }), { finished: true, normal: true }).completed).to.equal(true);
    expect(outcomeOf('1.2', core({}), { finished: true, normal: true }).completed).to.equal(true);
    // Not before it finishes, nor in Browse/Review.
    expect(outcomeOf('1.2', core({ lesson_status: 'not attempted' }), { finished: false, normal: true }).completed).to.equal(false);
    expect(outcomeOf('1.2', core({}), { finished: true, normal: false }).completed).to.equal(false);
    // With a mastery score, a reported raw score still decides.
    const judged = outcomeOf('1.2', core({ score: { raw: '50' } }), { finished: true, normal: true, masteryScore: 0.8 });
    expect(judged).to.include({ completed: true, success: 'failed' });
  });

  it('"failed" means finished and not passed (one status for both in 1.2)', () => {
    expect(outcomeOf('1.2', core({ lesson_status: 'failed' }), {})).to.include({ completed: true, success: 'failed' });
    expect(outcomeOf('1.2', core({ lesson_status: 'incomplete' }), {})).to.include({ completed: false });
  });
});
