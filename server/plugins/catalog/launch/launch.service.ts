/**
 * cmi5 launch (§8, §10, §11): sessions, launch tokens behind a one-time fetch URL, LMS.LaunchData,
 * learner preferences, `launched`/`abandoned`/`waived` statements, and the LRS hooks that enforce
 * the statement rules for AU credentials and turn stored statements into progress.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { stableId } from '../../../core/ids';
import { HttpError, localizedError } from '../../../core/errors';
import type { SessionUser } from '../../../core/permissions';
import type {
  LrsCredential,
  LrsCredentials,
  LrsDocuments,
  LrsStatements,
  StatementHookPayload,
  StoredStatement,
} from '../../../core/contracts/lrs';
import { SUPPORTED_LANGUAGES } from '../../../core/config';
import { findAu, type CourseReader } from '../paths/course-reader';
import type { PathsService } from '../paths/paths.service';
import type { ProgressService } from '../progress/progress.service';
import {
  CATEGORY_CMI5,
  EXT,
  LAUNCH_DATA,
  LEARNER_PREFERENCES,
  VERB,
  VERB_NAMES,
  WAIVE_REASONS,
  durationSeconds,
  isoDuration,
  launchModes,
  learnerActor,
  lmsActivityId,
  type LaunchMode,
} from './cmi5';
import { formatOf, type FormatId, type FormatRuntime } from '../formats/format';
import { PrerequisitesError, doneOf, isMet, titlesOf } from '../prerequisites';
import { checkBatch, type RuleState } from './rules';
import type { AssessmentService } from '../assessment/assessment.service';
import { SCORING_EXTENSION } from '../../../../content/runtime/scoring';
import type { SessionDoc, SessionModels } from './session.model';
import { abandonedStatement, launchedStatement, waivedStatement } from './statements';

export interface LrsPorts {
  statements(): LrsStatements;
  documents(): LrsDocuments;
  credentials(): LrsCredentials;
  /** Batches of a registration stored but not yet followed up here (still in the outbox). */
  undelivered(registration: string): Promise<Array<StatementHookPayload & { stored: StoredStatement[] }>>;
}

/** Fetch documents of SCORM sessions (their start URL) have ids with this prefix. */
export const SCORM_FETCH_PREFIX = 'scorm-';

/** How long an unused fetch URL stays valid (the AU calls it as soon as it loads). */
export const FETCH_TTL_MS = 10 * 60_000;
/** A launch token outlives no working day; a new launch abandons the session and revokes it earlier. */
const TOKEN_TTL_SECONDS = 12 * 3600;
/** Statement ids remembered per session for idempotent re-posts (a session sends a few dozen). */
const MAX_IDS = 2000;

export class LaunchService {
  constructor(
    private readonly m: SessionModels,
    private readonly courses: CourseReader,
    private readonly paths: PathsService,
    private readonly progress: ProgressService,
    private readonly assessments: AssessmentService,
    private readonly lrs: LrsPorts,
    private readonly baseUrl: string,
    /** The launch of package formats other than cmi5 (whose launch is this service's own). */
    private readonly runtimes: Partial<Record<Exclude<FormatId, 'cmi5'>, FormatRuntime>> = {},
  ) {}

  /**
   * Launches an AU of the learner's registration: abandons an open session, creates the session,
   * its launch token and fetch URL, writes LMS.LaunchData and the learner preferences, records
   * `launched`, and returns the AU's URL with the launch parameters (§8.1).
   */
  async launch(
    user: Pick<SessionUser, 'id' | 'language'> & { name?: string },
    registration: string,
    auId: string,
    requestedMode?: LaunchMode,
  ): Promise<{ url: string; launchMethod: 'AnyWindow' | 'OwnWindow'; sessionId: string; launchMode: LaunchMode }> {
    const reg = await this.progress.registration(registration);
    if (!reg || reg.userId !== user.id) throw new HttpError(403, 'This registration is not yours', { key: 'core:errors.403.body' });
    const course = await this.courses.getCourse(reg.courseId);
    if (!course?.published) throw new HttpError(403, `Course ${reg.courseId} is not published`, { key: 'catalog:errors.unpublished' });
    const version = await this.courses.getVersion(reg.courseId, reg.courseVersion);
    const au = version && findAu(version.structure, auId);
    if (!version || !au) throw new HttpError(404, `No AU ${auId} in this course`, { key: 'core:errors.404.body' });

    return this.progress.serial(registration, async () => {
      const before = await this.progress.get(reg.userId, reg.courseId);
      // Shown on the course page but closed until its prerequisites are met (read inside the lock, as progress moves).
      if (au.prerequisites && !isMet(au.prerequisites, doneOf(before)))
        throw new PrerequisitesError(au.prerequisites, titlesOf(version.structure));
      const modes = launchModes(
        au.moveOn,
        before?.aus.find((a) => a.auId === au.id),
      );
      if (requestedMode && !modes.includes(requestedMode))
        throw new HttpError(409, `${requestedMode} is not available for this AU now; it can be opened in ${modes.join(', ')}`, {
          key: 'catalog:errors.launchMode',
          details: { allowed: modes },
        });
      const launchMode = requestedMode ?? modes[0];
      if (before?.activeSessionId) await this.abandon(before.activeSessionId);
      const format = formatOf(version);
      if (format !== 'cmi5') {
        const runtime = this.runtimes[format];
        if (!runtime) throw new HttpError(501, `This server cannot launch ${format} packages`);
        return runtime.launch({ user, registration, courseId: reg.courseId, version, au, launchMode });
      }
      const actor = learnerActor(this.baseUrl, user.id);
      const activityId = lmsActivityId(this.baseUrl, 'au', reg.courseId, au.id);
      const sessionId = randomUUID();
      const token = await this.lrs.credentials().createLaunchToken({
        name: `cmi5 session ${sessionId}`,
        ttlSeconds: TOKEN_TTL_SECONDS,
        launch: {
          actor,
          registration,
          activityId,
          sessionId,
          meta: { courseId: reg.courseId, auId: au.id, launchMode, masteryScore: au.masteryScore },
        },
      });
      const now = new Date();
      await this.m.sessions.create({
        _id: sessionId,
        registration,
        userId: user.id,
        courseId: reg.courseId,
        courseVersion: reg.courseVersion,
        auId: au.id,
        activityId,
        credentialId: token.id,
        launchMode,
        moveOn: au.moveOn,
        ...(au.masteryScore !== undefined ? { masteryScore: au.masteryScore } : {}),
        state: 'launched',
        verbs: [],
        statementIds: [],
        launchedAt: now,
      } satisfies SessionDoc);
      const fetchId = randomBytes(24).toString('base64url');
      await this.m.fetches.create({ _id: fetchId, sessionId, authToken: token.authToken, createdAt: now });

      // Back on the course page at this AU (`from`): it says how the AU went and offers the next one, with focus there.
      const returnURL = `${this.baseUrl}/catalog/course?id=${encodeURIComponent(reg.courseId)}&from=${encodeURIComponent(au.id)}#returned`;
      const scored = await this.assessments.scores(reg.courseId, reg.courseVersion, au.id);
      await this.lrs.documents().putState({
        activityId,
        agent: actor,
        stateId: LAUNCH_DATA,
        registration,
        body: {
          contextTemplate: { contextActivities: { grouping: [{ id: au.id }] }, extensions: { [EXT.sessionId]: sessionId } },
          launchMode,
          moveOn: au.moveOn,
          returnURL,
          ...(au.launchParameters ? { launchParameters: au.launchParameters } : {}),
          ...(au.masteryScore !== undefined ? { masteryScore: au.masteryScore } : {}),
          ...(au.entitlementKey ? { entitlementKey: { courseStructure: au.entitlementKey } } : {}),
          // Only for AUs the LMS scores: where the page draws and scores its attempts.
          ...(scored ? { [SCORING_EXTENSION]: this.assessments.scoringUrl } : {}),
        },
      });
      const langs = [user.language, ...SUPPORTED_LANGUAGES.filter((l) => l !== user.language)].join(',');
      await this.lrs
        .documents()
        .putAgentProfile({ agent: actor, profileId: LEARNER_PREFERENCES, body: { languagePreference: langs, audioPreference: 'on' } });

      const launchUrl = new URL(this.courses.contentUrl(version, au.url), this.baseUrl + '/');
      await this.lrs.statements().storeAsSystem([
        launchedStatement({
          actor,
          registration,
          sessionId,
          publisherId: au.id,
          activityId,
          launchMode,
          launchUrl: launchUrl.href,
          moveOn: au.moveOn,
          masteryScore: au.masteryScore,
          launchParameters: au.launchParameters,
        }),
      ]);
      await this.progress.change(registration, au.id, { launchedAt: now }, { sessionId, activeSessionId: sessionId });

      // The AU's own query parameters are kept; cmi5's are appended (§8.1).
      const params = launchUrl.searchParams;
      // No trailing slash: AUs append `/statements`, `/activities/state`… to it (as CATAPULT's do).
      params.set('endpoint', `${this.baseUrl}/xapi`);
      params.set('fetch', `${this.baseUrl}/catalog/fetch/${fetchId}`);
      params.set('actor', JSON.stringify(actor));
      params.set('registration', registration);
      params.set('activityId', activityId);
      return { url: launchUrl.href, launchMethod: au.launchMethod, sessionId, launchMode };
    });
  }

  /**
   * The fetch URL (§8.2): the token once, then error 1; unknown ids get error 2. One atomic
   * `_id` update both reads and clears the token, so two racing calls cannot both get it.
   */
  async fetchToken(fetchId: string): Promise<Record<string, string>> {
    // A SCORM session's one-time start URL is not a cmi5 fetch URL (and is not used up by one).
    if (fetchId.startsWith(SCORM_FETCH_PREFIX)) return { 'error-code': '2', 'error-text': 'Unknown fetch URL.' };
    const before = await this.m.fetches
      .findOneAndUpdate({ _id: fetchId }, { $unset: { authToken: 1 }, $set: { usedAt: new Date() } }, { returnDocument: 'before' })
      .lean();
    if (!before) return { 'error-code': '2', 'error-text': 'Unknown fetch URL.' };
    if (!before.authToken) return { 'error-code': '1', 'error-text': 'The authorization token has already been returned.' };
    const session = await this.m.sessions.findById(before.sessionId).lean<SessionDoc>();
    if (
      Date.now() - before.createdAt.getTime() > FETCH_TTL_MS ||
      !session ||
      session.state === 'terminated' ||
      session.state === 'abandoned'
    ) {
      return { 'error-code': '1', 'error-text': 'The AU session has expired.' };
    }
    return { 'auth-token': before.authToken };
  }

  /** Ends an open session abnormally (§9.3.6): `abandoned` with the session's duration, token revoked. */
  async abandon(sessionId: string): Promise<boolean> {
    const s = await this.m.sessions.findById(sessionId).lean<SessionDoc>();
    if (!s || s.state === 'terminated' || s.state === 'abandoned') return false;
    // Its "terminated" may be stored and still waiting in the outbox to be followed up: it has ended.
    if (await this.terminatedInOutbox(s)) return false;
    const end = s.lastStatementAt ?? new Date();
    const seconds = (end.getTime() - s.launchedAt.getTime()) / 1000;
    await this.m.sessions.updateOne({ _id: sessionId }, { $set: { state: 'abandoned', endedAt: new Date() } });
    if (s.format === 'scorm') {
      // Its commits (in the attempt state) stand; the next launch resumes the attempt it left open.
      await this.progress.change(s.registration, undefined, {}, { sessionId, activeSessionId: null });
      return true;
    }
    if (s.credentialId) await this.lrs.credentials().revoke(s.credentialId);
    await this.lrs.statements().storeAsSystem([
      abandonedStatement({
        actor: learnerActor(this.baseUrl, s.userId),
        registration: s.registration,
        sessionId,
        publisherId: s.auId,
        activityId: s.activityId,
        durationIso: isoDuration(seconds),
      }),
    ]);
    await this.progress.change(s.registration, undefined, {}, { sessionId, addSeconds: seconds, activeSessionId: null });
    return true;
  }

  /**
   * Waives an AU (§9.3.7) with one of the spec's reasons: one `waived` per AU and registration,
   * under a new session id, then moveOn is evaluated (satisfied statements use that session id).
   */
  /** An AU waived for a learner (§9.3.7): a reason of the spec's, a comment saying why, and who decided. */
  async waive(registration: string, auId: string, reason: string, decision: { comment: string; by: string }): Promise<void> {
    if (!(WAIVE_REASONS as readonly string[]).includes(reason))
      throw localizedError(400, 'catalog:waive.errors.reason', { allowed: WAIVE_REASONS.join(', ') });
    const comment = decision.comment.trim();
    if (!comment || comment.length > 500) throw localizedError(400, 'catalog:waive.errors.comment');
    const reg = await this.progress.registration(registration);
    if (!reg) throw new HttpError(404, `No registration ${registration}`);
    const version = await this.courses.getVersion(reg.courseId, reg.courseVersion);
    const au = version && findAu(version.structure, auId);
    if (!au) throw new HttpError(404, `No AU ${auId} in this course`);
    await this.progress.serial(registration, async () => {
      const p = await this.progress.get(reg.userId, reg.courseId);
      if (p?.aus.find((a) => a.auId === auId)?.waived) throw localizedError(409, 'catalog:waive.errors.already', { auId });
      const sessionId = randomUUID();
      await this.lrs.statements().storeAsSystem([
        waivedStatement({
          actor: learnerActor(this.baseUrl, reg.userId),
          registration,
          sessionId,
          publisherId: au.id,
          activityId: lmsActivityId(this.baseUrl, 'au', reg.courseId, au.id),
          reason,
        }),
      ]);
      await this.progress.change(
        registration,
        auId,
        { waived: true, waiveReason: reason, waiveComment: comment, waivedBy: decision.by },
        { sessionId },
      );
    });
  }

  private async ruleState(credential: LrsCredential): Promise<{ session: SessionDoc; state: RuleState }> {
    const launch = credential.launch;
    const session = launch && (await this.m.sessions.findById(launch.sessionId).lean<SessionDoc>());
    if (!launch || !session) throw new HttpError(403, 'cmi5: this launch token has no open AU session');
    // Independent reads, at once: this runs inside every AU statement request.
    const [p, scored] = await Promise.all([
      this.progress.get(session.userId, session.courseId),
      this.assessments.scores(session.courseId, session.courseVersion, session.auId),
    ]);
    const au = p?.aus.find((a) => a.auId === session.auId);
    return {
      session,
      state: {
        sessionId: session._id,
        registration: session.registration,
        activityId: session.activityId,
        auId: session.auId,
        actor: launch.actor,
        launchMode: session.launchMode,
        masteryScore: session.masteryScore,
        state: session.state,
        verbs: session.verbs,
        preferencesRead: !!session.preferencesRead,
        completed: !!au?.completed,
        passed: !!au?.passed,
        ...(scored ? { scoredAttempts: await this.assessments.resultsOf(session._id) } : {}),
      },
    };
  }

  /**
   * The rule state as it will be once every batch already stored for this registration is
   * followed up: those still in the outbox are replayed on the session's recorded state.
   */
  private async currentState(
    credential: LrsCredential,
  ): Promise<{ session: SessionDoc; state: RuleState; known: Set<string>; terminatedBy?: string }> {
    // The outbox is read beside the session (the token names its registration), not after it.
    const named = credential.launch?.registration;
    const [{ session, state: recorded }, early] = await Promise.all([
      this.ruleState(credential),
      named ? this.lrs.undelivered(named) : Promise.resolve(undefined),
    ]);
    let state = recorded;
    let terminatedBy = session.terminatedBy;
    const known = new Set(session.statementIds ?? []);
    const batches = named === session.registration && early ? early : await this.lrs.undelivered(session.registration);
    for (const batch of batches) {
      const sameSession = batch.credential.launch?.sessionId === session._id;
      for (const { id, statement } of batch.stored) {
        if (known.has(id.toLowerCase())) continue;
        known.add(id.toLowerCase());
        if (sameSession) {
          try {
            state = checkBatch(state, [statement]);
            if (state.state === 'terminated') terminatedBy ??= id.toLowerCase();
          } catch {
            // Conflicting: it will be voided when followed up, and does not count.
          }
        } else if ((statement.object as { id?: string } | undefined)?.id === session.activityId) {
          const name = VERB_NAMES.get(String((statement.verb as { id?: string } | undefined)?.id));
          if (name === 'completed') state = { ...state, completed: true };
          if (name === 'passed') state = { ...state, passed: true };
        }
      }
    }
    return { session, state, known, terminatedBy };
  }

  /** `lrs.statements.validate`: statements sent with an AU's launch token must follow cmi5 §9. */
  async validateStatements({ statements, credential }: StatementHookPayload): Promise<void> {
    if (credential.kind !== 'launch') return;
    const { state, known, terminatedBy } = await this.currentState(credential);
    // A re-post of statements already accepted (a network retry) stores nothing new in the LRS.
    // Once the session has ended nothing more is accepted (§9.3.8), re-posts of earlier statements
    // included; only a retry of the request that carried "terminated" is still that same request.
    const open = state.state === 'launched' || state.state === 'initialized';
    const retryOfEnd =
      !!terminatedBy &&
      statements.some((s) => s.id?.toLowerCase() === terminatedBy) &&
      statements.every((s) => typeof s.id === 'string' && known.has(s.id.toLowerCase()));
    if (!open && retryOfEnd) return;
    if (!open) return void checkBatch(state, statements);
    checkBatch(
      state,
      statements.filter((s) => !(typeof s.id === 'string' && known.has(s.id.toLowerCase()))),
    );
  }

  /**
   * `lrs.document.validate` for launch tokens: LMS.LaunchData is read-only to the AU (§10.2.1);
   * the learner preferences are the LMS's (the learner sets their language in their profile), so
   * the AU reads them and its writes are refused with the 403 that §11.0 provides for; the read
   * is recorded, since "initialized" must come after it; an ended session reads nothing more.
   */
  async validateDocument(p: {
    resource: string;
    method: string;
    stateId?: string;
    profileId?: string;
    credential: LrsCredential;
  }): Promise<void> {
    if (p.credential.kind !== 'launch') return;
    const write = p.method !== 'GET';
    if (write && p.resource === 'state' && p.stateId === LAUNCH_DATA)
      throw new HttpError(403, 'cmi5: LMS.LaunchData is read-only to the AU (§10.2.1)');
    if (p.resource === 'state' && p.method === 'DELETE' && p.stateId === undefined)
      throw new HttpError(
        403,
        'cmi5: deleting every state document would delete LMS.LaunchData, read-only to the AU (§10.2.1): delete by stateId',
      );
    const preferences = p.resource === 'agentProfile' && p.profileId === LEARNER_PREFERENCES;
    if (write && preferences)
      throw new HttpError(403, 'cmi5: the learner preferences are kept by the LMS; an AU may read them but not change them (§11.0)');
    // Counts the session's batches still in the outbox: a terminated one ends it already.
    const { session, state } = await this.currentState(p.credential);
    if (state.state === 'terminated' || state.state === 'abandoned') throw new HttpError(403, 'cmi5: this AU session has ended (§9.3.8)');
    if (preferences && !session.preferencesRead) await this.m.sessions.updateOne({ _id: session._id }, { $set: { preferencesRead: true } });
  }

  /** `lrs.statements.stored`: session state and progress follow the AU's statements. */
  async statementsStored({ credential, stored }: StatementHookPayload & { stored: StoredStatement[] }): Promise<void> {
    if (credential.kind !== 'launch' || !credential.launch || !stored.length) return;
    const registration = credential.launch.registration;
    await this.progress.serial(registration, async () => {
      const { session, state } = await this.ruleState(credential);
      // Replayed one by one on the session as it is now: a statement that passed validation only
      // because another batch was being stored at the same time breaks the rules here, and is
      // voided by the LMS instead of counting (§6.3: conflicting statements not rejected are voided).
      let after = state;
      const conflicting: string[] = [];
      const delta: { attempted?: boolean; completed?: boolean; passed?: boolean; failed?: boolean; score?: number } = {};
      let seconds = 0;
      let terminatedBy: string | undefined;
      // Statements the session already holds were judged by an earlier delivery of this batch that
      // stopped before the progress write (a crash): its judgement stands, its progress is redone.
      const judged = new Set(session.statementIds ?? []);
      const voided = new Set(session.conflictIds ?? []);
      for (const { id, statement } of stored) {
        const key = id.toLowerCase();
        if (judged.has(key)) {
          if (voided.has(key)) conflicting.push(id);
        } else {
          try {
            after = checkBatch(after, [statement]);
          } catch {
            conflicting.push(id);
          }
        }
        if (conflicting.includes(id)) continue;
        const ctx = statement.context as { contextActivities?: { category?: Array<{ id?: string }> } } | undefined;
        if (!ctx?.contextActivities?.category?.some((c) => c.id === CATEGORY_CMI5)) continue;
        const name = VERB_NAMES.get(String((statement.verb as { id?: string })?.id));
        const result = statement.result as { score?: { scaled?: number }; duration?: string } | undefined;
        if (name === 'initialized') delta.attempted = true;
        if (name === 'completed') delta.completed = true;
        if (name === 'passed') delta.passed = true;
        if (name === 'failed') delta.failed = true;
        if ((name === 'passed' || name === 'failed') && typeof result?.score?.scaled === 'number') delta.score = result.score.scaled;
        if (name === 'terminated') {
          seconds += durationSeconds(result?.duration) ?? 0;
          terminatedBy = key;
        }
      }
      if (conflicting.length) {
        // Named by the statement they void: stored once, however often the batch is followed up.
        await this.lrs.statements().storeAsSystem(
          conflicting.map((id) => voidingStatement(this.baseUrl, id)),
          { once: true },
        );
      }
      const ended = after.state === 'terminated';
      const fresh = stored.map((x) => x.id.toLowerCase()).filter((k) => !judged.has(k));
      if (fresh.length)
        await this.m.sessions.updateOne(
          { _id: session._id },
          {
            $set: {
              state: after.state,
              verbs: after.verbs,
              statementIds: [...(session.statementIds ?? []), ...fresh].slice(-MAX_IDS),
              ...(conflicting.length ? { conflictIds: [...voided, ...conflicting.map((c) => c.toLowerCase())].slice(-MAX_IDS) } : {}),
              lastStatementAt: new Date(),
              ...(ended ? { endedAt: new Date() } : {}),
              ...(terminatedBy ? { terminatedBy } : {}),
            },
          },
        );
      // Flags and the session's time (counted once per session) make a repeated change harmless.
      await this.progress.change(registration, session.auId, session.launchMode === 'Normal' ? delta : {}, {
        sessionId: session._id,
        addSeconds: seconds,
        ...(ended ? { activeSessionId: null } : {}),
      });
      // The token stays valid so that late statements get the rules' 403 (§9.3.8), not a 401.
    });
  }

  private async terminatedInOutbox(s: SessionDoc): Promise<boolean> {
    for (const batch of await this.lrs.undelivered(s.registration)) {
      if (batch.credential.launch?.sessionId !== s._id) continue;
      if (batch.stored.some(({ statement }) => (statement.verb as { id?: string } | undefined)?.id === VERB.terminated)) return true;
    }
    return false;
  }

  /** Sessions of one learner, newest first (history page). */
  async sessionsOf(userId: string, limit = 50): Promise<SessionDoc[]> {
    return this.m.sessions.find({ userId }).sort({ launchedAt: -1 }).limit(limit).lean<SessionDoc[]>();
  }

  /** Drops fetch documents older than a day (no TTL indexes on FerretDB). */
  async cleanFetches(): Promise<void> {
    await this.m.fetches.deleteMany({ createdAt: { $lt: new Date(Date.now() - 86400_000) } });
  }
}

/** The LMS voids an AU statement that conflicts with the cmi5 rules (§6.3). */
function voidingStatement(baseUrl: string, id: string): Record<string, unknown> {
  return {
    id: stableId('voided', id), // once, however often the batch is followed up
    actor: { objectType: 'Agent', account: { homePage: baseUrl, name: 'lms' } },
    verb: { id: VERB.voided, display: { 'en-US': 'voided' } },
    object: { objectType: 'StatementRef', id },
    timestamp: new Date().toISOString(),
  };
}
