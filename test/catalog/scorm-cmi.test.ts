import { expect } from 'chai';
import { outcomeOf } from '../../server/plugins/catalog/formats/scorm/cmi';

describe('catalog: SCORM 1.2 and 2004 statuses as the LMS reads them', () => {
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

  it('SCORM 2004: an attempt that ends with completion and success unknown is completed and satisfied by the LMS (SN UP.4, delivery controls false)', () => {
    const ended = { finished: true, normal: true };
    const unknown = { completion_status: 'unknown', success_status: 'unknown', exit: '' };
    expect(outcomeOf('2004', unknown, ended)).to.include({ completed: true, success: 'passed' });
    expect(outcomeOf('2004', {}, ended)).to.include({ completed: true, success: 'passed' });
    // What the SCO said stands.
    expect(outcomeOf('2004', { completion_status: 'incomplete', success_status: 'failed' }, ended)).to.include({
      completed: false,
      success: 'failed',
    });
    // Not before it ends, not for a suspended attempt, nor in Browse/Review.
    expect(outcomeOf('2004', unknown, { finished: false, normal: true })).to.include({ completed: false, success: undefined });
    expect(outcomeOf('2004', { ...unknown, exit: 'suspend' }, ended)).to.include({ completed: false, success: undefined });
    expect(outcomeOf('2004', unknown, { finished: true, normal: false })).to.include({ completed: false, success: undefined });
    // The package gives the SCO the word (delivery controls true), or the objective is satisfied by measure.
    expect(outcomeOf('2004', unknown, { ...ended, completionSetByContent: true, objectiveSetByContent: true })).to.include({
      completed: false,
      success: undefined,
    });
    expect(outcomeOf('2004', unknown, { ...ended, masteryScore: 0.8 })).to.include({ completed: true, success: undefined });
  });
});
