/**
 * Assessments the LMS scores (the built-in library's): attempts drawn from an item bank, options
 * shuffled, answers scored here, so the key never reaches the page and a result cannot be made
 * up by posting a statement — the cmi5 rules accept `passed`/`failed` for such an AU only as one
 * of its session's attempts was scored (rules.ts).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { HttpError } from '../../../core/errors';
import type { LrsCredential } from '../../../core/contracts/lrs';
import type { SessionModels } from '../launch/session.model';
import {
  drawQuestions,
  questionsView,
  scoreAnswers,
  type AttemptView,
  type Drawn,
  type ScoredView,
} from '../../../../content/runtime/scoring';
import type { BankItem, ItemBank } from '../../../../content/tools/item-bank';
import { bankId, type AssessmentModels, type AttemptDoc, type ItemBankDoc } from './assessment.model';

/** Attempts one AU session may draw: plenty for practice, not a way to fill the database. */
export const MAX_ATTEMPTS_PER_SESSION = 30;

export interface ScoredAttempt {
  passed: boolean;
  scaled: number;
  raw: number;
}

export class AssessmentService {
  constructor(
    private readonly m: AssessmentModels,
    private readonly sessions: SessionModels['sessions'],
    private readonly baseUrl: string,
  ) {}

  /** Where pages draw and score attempts (LMS.LaunchData of a scored AU names it). */
  get scoringUrl(): string {
    return `${this.baseUrl}/catalog/api/assessment`;
  }

  /** Stores the bank of an installed course version (the library installer; idempotent). */
  async installBank(courseId: string, version: number, bank: ItemBank, digest: string): Promise<void> {
    if (bank.items.length < 2 * bank.ask) throw new Error(`item bank of ${courseId}: ${bank.items.length} items for ${bank.ask} asked`);
    const _id = bankId(courseId, version, bank.auId);
    const doc: ItemBankDoc = {
      _id,
      courseId,
      version,
      auId: bank.auId,
      ask: bank.ask,
      masteryScore: bank.masteryScore,
      languages: bank.languages,
      items: JSON.stringify(bank.items),
      digest,
      installedAt: new Date(),
    };
    const before = await this.m.banks.findById(_id, { digest: 1 }).lean();
    if (before?.digest !== digest) await this.m.banks.replaceOne({ _id }, doc, { upsert: true });
  }

  /** Whether the LMS scores this AU of this course version. */
  async scores(courseId: string, version: number, auId: string): Promise<boolean> {
    return !!(await this.m.banks.exists({ _id: bankId(courseId, version, auId) }));
  }

  /** The scored attempts of a session: what its `passed`/`failed` may report. */
  async resultsOf(sessionId: string): Promise<ScoredAttempt[]> {
    const docs = await this.m.attempts.find({ sessionId }, { result: 1 }).lean<AttemptDoc[]>();
    return docs.flatMap((d) => (d.result ? [{ passed: d.result.passed, scaled: d.result.scaled, raw: d.result.raw }] : []));
  }

  private async openSession(credential: LrsCredential | undefined) {
    if (!credential) throw new HttpError(401, 'The launch credential of the AU session is required (HTTP Basic)');
    const sessionId = credential?.kind === 'launch' ? credential.launch?.sessionId : undefined;
    const session = sessionId ? await this.sessions.findById(sessionId).lean() : null;
    if (!session) throw new HttpError(403, 'Attempts are drawn with the launch credential of an open AU session');
    if (session.state === 'terminated' || session.state === 'abandoned') throw new HttpError(403, 'This AU session has ended');
    return session;
  }

  private async bank(id: string): Promise<{ doc: ItemBankDoc; items: BankItem[] }> {
    const doc = await this.m.banks.findById(id).lean<ItemBankDoc>();
    if (!doc) throw new HttpError(404, 'This AU is not scored by the LMS');
    return { doc, items: JSON.parse(doc.items) as BankItem[] };
  }

  /** A new attempt: `ask` questions of the bank in random order, each with its options shuffled. */
  async draw(credential: LrsCredential | undefined): Promise<AttemptView> {
    const session = await this.openSession(credential);
    const id = bankId(session.courseId, session.courseVersion, session.auId);
    const { doc, items } = await this.bank(id);
    if ((await this.m.attempts.countDocuments({ sessionId: session._id })) >= MAX_ATTEMPTS_PER_SESSION)
      throw new HttpError(429, `At most ${MAX_ATTEMPTS_PER_SESSION} attempts per session: exit and open the assessment again`);
    const drawn = drawQuestions(items, doc.ask, (n) => randomInt(n));
    const masteryScore = session.masteryScore ?? doc.masteryScore;
    const attempt = randomBytes(18).toString('base64url');
    await this.m.attempts.create({
      _id: attempt,
      sessionId: session._id,
      userId: session.userId,
      registration: session.registration,
      bankId: id,
      drawn: JSON.stringify(drawn),
      masteryScore,
      createdAt: new Date(),
    } satisfies AttemptDoc);
    return {
      attempt,
      masteryScore,
      questions: questionsView(drawn, items),
    };
  }

  /** Scores an attempt once. `body` is `{ answers: { q1: [shown option index, …], … } }`. */
  async score(credential: LrsCredential | undefined, attemptId: string, body: unknown): Promise<ScoredView> {
    const session = await this.openSession(credential);
    const attempt = await this.m.attempts.findOne({ _id: attemptId, sessionId: session._id }).lean<AttemptDoc>();
    if (!attempt) throw new HttpError(404, 'No such attempt in this AU session');
    if (attempt.scoredAt) throw new HttpError(409, 'This attempt has already been scored: draw a new one');
    const { items } = await this.bank(attempt.bankId);
    const drawn = JSON.parse(attempt.drawn) as Drawn[];
    const answers = parseAnswers(body, drawn, items);

    const scored = scoreAnswers(drawn, items, answers, attempt.masteryScore);
    const result = { raw: scored.raw, max: scored.max, scaled: scored.scaled, passed: scored.passed };
    // Conditional on not being scored yet: two racing submissions cannot both be scored.
    const set = await this.m.attempts.updateOne(
      { _id: attempt._id, scoredAt: { $exists: false } },
      { $set: { scoredAt: new Date(), result } },
    );
    if (set.modifiedCount !== 1) throw new HttpError(409, 'This attempt has already been scored: draw a new one');
    return scored;
  }
}

/** Every question shown answered with valid, distinct option indexes; one for a single-answer question. */
function parseAnswers(body: unknown, drawn: Drawn[], items: BankItem[]): Record<string, number[]> {
  const answers = (body as { answers?: unknown } | undefined)?.answers;
  if (!answers || typeof answers !== 'object' || Array.isArray(answers))
    throw new HttpError(400, 'answers: expected an object { q1: [option index, …], … }');
  const ids = drawn.map((_, qi) => `q${qi + 1}`);
  const unknown = Object.keys(answers).filter((k) => !ids.includes(k));
  if (unknown.length) throw new HttpError(400, `answers: no question ${unknown.slice(0, 3).join(', ')} in this attempt`);
  const out: Record<string, number[]> = {};
  drawn.forEach((d, qi) => {
    const id = ids[qi];
    const v = (answers as Record<string, unknown>)[id];
    const n = d.options.length;
    if (!Array.isArray(v) || !v.length || !v.every((x) => Number.isInteger(x) && x >= 0 && x < n) || new Set(v).size !== v.length)
      throw new HttpError(400, `answers.${id}: expected the indexes (0 to ${n - 1}) of the options chosen, each once`);
    if (!items[d.item].multiple && v.length !== 1) throw new HttpError(400, `answers.${id}: this question takes exactly one answer`);
    out[id] = v as number[];
  });
  return out;
}
