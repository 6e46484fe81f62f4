import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { HttpError } from '../../server/core/errors';
import { CATEGORY_CMI5, CATEGORY_MOVEON, EXT, VERB, durationSeconds, type VerbName } from '../../server/plugins/catalog/launch/cmi5';
import { checkBatch, type RuleState } from '../../server/plugins/catalog/launch/rules';
import { evaluate } from '../../server/plugins/catalog/launch/move-on';
import type { CourseNode } from '../../server/plugins/catalog/paths/course-reader';

const actor = { objectType: 'Agent', account: { homePage: 'http://lms.example', name: 'u1' } };
const base: RuleState = {
  sessionId: 's-1',
  registration: 'r-1',
  activityId: 'http://lms.example/catalog/activities/au/x',
  auId: 'https://pub.example/au/1',
  actor,
  launchMode: 'Normal',
  masteryScore: 0.8,
  state: 'launched',
  verbs: [],
  preferencesRead: true,
  completed: false,
  passed: false,
};

function st(verb: VerbName, result?: Record<string, unknown>, over: Record<string, unknown> = {}) {
  const moveOn = result && ('success' in result || 'completion' in result);
  const judged = (verb === 'passed' || verb === 'failed') && typeof (result?.score as { scaled?: unknown })?.scaled === 'number';
  return {
    id: randomUUID(),
    actor,
    verb: { id: VERB[verb] },
    object: { id: base.activityId },
    result,
    context: {
      registration: base.registration,
      contextActivities: { category: [{ id: CATEGORY_CMI5 }, ...(moveOn ? [{ id: CATEGORY_MOVEON }] : [])], grouping: [{ id: base.auId }] },
      extensions: { [EXT.sessionId]: base.sessionId, ...(judged ? { [EXT.masteryScore]: base.masteryScore } : {}) },
    },
    timestamp: new Date().toISOString(),
    ...over,
  };
}
const rejects = (s: RuleState, batch: Array<Record<string, unknown>>, rule: RegExp) => {
  try {
    checkBatch(s, batch);
  } catch (err) {
    expect(err).to.be.instanceOf(HttpError);
    expect((err as HttpError).status).to.equal(403);
    expect((err as HttpError).message).to.match(rule);
    return;
  }
  expect.fail(`batch was accepted, expected ${rule}`);
};

describe('catalog: cmi5 statement rules (§9)', () => {
  it('accepts a whole normal session and tracks its state', () => {
    const after = checkBatch(base, [
      st('initialized'),
      st('completed', { completion: true, duration: 'PT1M' }),
      st('passed', { success: true, duration: 'PT2M', score: { scaled: 0.9 } }),
      st('terminated', { duration: 'PT3M' }),
    ]);
    expect(after.state).to.equal('terminated');
    expect(after.completed && after.passed).to.equal(true);
    expect(after.verbs).to.deep.equal(['initialized', 'completed', 'passed', 'terminated']);
  });

  it('requires initialized first, also before "cmi5 allowed" statements', () => {
    rejects(base, [st('completed', { completion: true, duration: 'PT1M' })], /first statement .* "initialized"/);
    const allowed = { ...st('initialized'), verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' } };
    (allowed.context.contextActivities as { category: unknown[] }).category = [];
    rejects(base, [allowed], /first statement/);
    expect(checkBatch(base, [st('initialized'), allowed]).state).to.equal('initialized');
  });

  it('rejects anything after terminated or in an abandoned session', () => {
    rejects(
      base,
      [st('initialized'), st('terminated', { duration: 'PT1S' }), st('completed', { completion: true, duration: 'PT1S' })],
      /terminated/,
    );
    rejects({ ...base, state: 'abandoned' }, [st('initialized')], /abandoned/);
  });

  it('rejects duplicate verbs in a session and per registration', () => {
    const running = { ...base, state: 'initialized' as const, verbs: ['initialized'] };
    rejects(running, [st('initialized')], /already sent in this session/);
    rejects(
      { ...running, completed: true },
      [st('completed', { completion: true, duration: 'PT1S' })],
      /already recorded in this registration/,
    );
    rejects({ ...running, passed: true }, [st('passed', { success: true, duration: 'PT1S' })], /already recorded in this registration/);
    rejects({ ...running, passed: true }, [st('failed', { success: false, duration: 'PT1S' })], /may not follow "passed"/);
    rejects(
      running,
      [st('failed', { success: false, duration: 'PT1S' }), st('passed', { success: true, duration: 'PT1S' })],
      /only one of "passed" and "failed"/,
    );
  });

  it('enforces masteryScore on passed and failed', () => {
    const running = { ...base, state: 'initialized' as const, verbs: ['initialized'] };
    rejects(running, [st('passed', { success: true, duration: 'PT1S', score: { scaled: 0.5 } })], /below the masteryScore/);
    rejects(running, [st('failed', { success: false, duration: 'PT1S', score: { scaled: 0.85 } })], /at or above the masteryScore/);
    expect(checkBatch(running, [st('failed', { success: false, duration: 'PT1S', score: { scaled: 0.5 } })].slice()).verbs).to.include(
      'failed',
    );
  });

  it('enforces the result rules (score, success, completion, duration, moveOn category)', () => {
    const running = { ...base, state: 'initialized' as const, verbs: ['initialized'] };
    rejects(running, [st('completed', { completion: true, duration: 'PT1S', score: { scaled: 1 } })], /score/);
    rejects(running, [st('completed', { duration: 'PT1S' })], /completion true/);
    rejects(running, [st('passed', { success: false, duration: 'PT1S' })], /success true/);
    rejects(running, [st('completed', { completion: true })], /duration/);
    rejects(running, [st('terminated', { duration: 'PT1S', success: true })], /may not have result.success/);
    const noMoveOn = st('completed', { completion: true, duration: 'PT1S' });
    (noMoveOn.context.contextActivities as { category: unknown[] }).category = [{ id: CATEGORY_CMI5 }];
    rejects(running, [noMoveOn], /moveOn category/);
  });

  it('allows only initialized and terminated in Browse and Review modes', () => {
    for (const launchMode of ['Browse', 'Review'] as const) {
      const s = { ...base, launchMode };
      rejects(s, [st('initialized'), st('completed', { completion: true, duration: 'PT1S' })], new RegExp(`${launchMode} mode`));
      expect(checkBatch(s, [st('initialized'), st('terminated', { duration: 'PT1S' })]).state).to.equal('terminated');
    }
  });

  it('rejects the wrong actor, registration, session, object and verbs the LMS owns, and voiding', () => {
    rejects(
      base,
      [st('initialized', undefined, { actor: { objectType: 'Agent', account: { homePage: 'http://lms.example', name: 'u2' } } })],
      /actor/,
    );
    const wrongReg = st('initialized');
    (wrongReg.context as Record<string, unknown>).registration = 'r-2';
    rejects(base, [wrongReg], /registration/);
    const wrongSession = st('initialized');
    (wrongSession.context.extensions as Record<string, unknown>)[EXT.sessionId] = 's-2';
    rejects(base, [wrongSession], /sessionid/);
    rejects(base, [st('initialized', undefined, { object: { id: base.auId } })], /activityId/);
    rejects({ ...base, state: 'initialized', verbs: ['initialized'] }, [st('satisfied')], /not a cmi5 defined verb an AU may send/);
    rejects(base, [{ ...st('initialized'), verb: { id: VERB.voided }, object: { objectType: 'StatementRef', id: 'x' } }], /void/);
  });

  it('requires an id on every statement (§9.1)', () => {
    const running = { ...base, state: 'initialized' as const, verbs: ['initialized'] };
    const { id: _id, ...noId } = { ...st('initialized'), verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' } };
    (noId.context.contextActivities as { category: unknown[] }).category = [];
    rejects(running, [noId], /must have an id \(§9\.1\)/);
    const { id: _id2, ...initNoId } = st('initialized');
    rejects(base, [initNoId], /§9\.1/);
  });

  it('requires a UTC timestamp on every statement, cmi5 allowed ones too (§9.7)', () => {
    const running = { ...base, state: 'initialized' as const, verbs: ['initialized'] };
    const allowed = { ...st('initialized'), verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' } };
    (allowed.context.contextActivities as { category: unknown[] }).category = [];
    const { timestamp: _t, ...noTimestamp } = allowed;
    rejects(running, [noTimestamp], /must have a timestamp \(§9\.7\)/);
    rejects(running, [{ ...allowed, timestamp: '2026-03-01T10:00:00.000-06:00' }], /UTC \(§9\.7\)/);
    expect(checkBatch(running, [{ ...allowed, timestamp: '2026-03-01T10:00:00.000+00:00' }]).state).to.equal('initialized');
  });

  it('requires min and max with a raw score (§9.5.1)', () => {
    const running = { ...base, state: 'initialized' as const, verbs: ['initialized'] };
    rejects(
      running,
      [st('passed', { success: true, duration: 'PT1S', score: { scaled: 0.9, raw: 9, max: 10 } })],
      /"min" and "max" \(§9\.5\.1\)/,
    );
    rejects(running, [st('failed', { success: false, duration: 'PT1S', score: { scaled: 0.1, raw: 1, min: 0 } })], /§9\.5\.1/);
    expect(
      checkBatch(running, [st('passed', { success: true, duration: 'PT1S', score: { scaled: 0.9, raw: 9, min: 0, max: 10 } })]).passed,
    ).to.equal(true);
  });

  it('rejects the moveOn category on a statement without the cmi5 category (§9.6.2.2)', () => {
    const running = { ...base, state: 'initialized' as const, verbs: ['initialized'] };
    const allowed = { ...st('initialized'), verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' } };
    (allowed.context.contextActivities as { category: unknown[] }).category = [{ id: CATEGORY_MOVEON }];
    rejects(running, [allowed], /moveOn category \(§9\.6\.2\.2\)/);
  });

  it('requires the masteryScore extension on passed/failed judged by it (§9.6.3.2)', () => {
    const running = { ...base, state: 'initialized' as const, verbs: ['initialized'] };
    const passed = st('passed', { success: true, duration: 'PT1S', score: { scaled: 0.9 } });
    delete (passed.context.extensions as Record<string, unknown>)[EXT.masteryScore];
    rejects(running, [passed], /masteryscore extension \(§9\.6\.3\.2\)/);
    (passed.context.extensions as Record<string, unknown>)[EXT.masteryScore] = 0.5;
    rejects(running, [passed], /§9\.6\.3\.2/);
  });

  it('rejects "initialized" before the AU has read its learner preferences (§11.0)', () => {
    rejects({ ...base, preferencesRead: false }, [st('initialized')], /cmi5LearnerPreferences .* \(§11\.0\)/);
  });

  it('parses ISO 8601 durations', () => {
    expect(durationSeconds('PT1H2M3.5S')).to.equal(3723.5);
    expect(durationSeconds('P1DT1S')).to.equal(86401);
    expect(durationSeconds('PT')).to.equal(undefined);
    expect(durationSeconds('1 hour')).to.equal(undefined);
  });
});

describe('catalog: moveOn evaluation (§9.3.9)', () => {
  const au = (id: string, moveOn: string): CourseNode => ({
    type: 'au',
    id,
    title: [],
    description: [],
    url: 'a.html',
    launchMethod: 'AnyWindow',
    moveOn: moveOn as never,
  });
  const structure: CourseNode[] = [
    { type: 'block', id: 'B', title: [], description: [], children: [au('p', 'Passed'), au('c', 'Completed')] },
    au('cap', 'CompletedAndPassed'),
    au('cop', 'CompletedOrPassed'),
    au('na', 'NotApplicable'),
  ];
  it('satisfies AUs, blocks and the course under each moveOn value, and waivers count', () => {
    const flags = new Map<string, { completed?: boolean; passed?: boolean; waived?: boolean }>();
    const run = () => evaluate(structure, (a) => flags.get(a.id) ?? {});
    let r = run();
    expect([...r.aus]).to.deep.equal(['na']);
    expect(r.course).to.equal(false);
    flags.set('p', { completed: true });
    expect(run().aus.has('p')).to.equal(false);
    flags.set('p', { passed: true });
    flags.set('c', { completed: true });
    r = run();
    expect(r.blocks.has('B')).to.equal(true);
    flags.set('cap', { passed: true });
    expect(run().aus.has('cap')).to.equal(false);
    flags.set('cap', { passed: true, completed: true });
    flags.set('cop', { waived: true });
    r = run();
    expect(r.course).to.equal(true);
    expect([...r.aus].sort()).to.deep.equal(['c', 'cap', 'cop', 'na', 'p']);
  });
  it('a course of NotApplicable AUs is satisfied at once', () => {
    expect(evaluate([au('x', 'NotApplicable')], () => ({})).course).to.equal(true);
  });
});
