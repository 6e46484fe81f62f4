/**
 * SCORM runtime: a SCO is launched in the sandboxed content origin with the SCORM API of
 * scorm-again injected into its page (see content-inject.ts and player.js). The page starts its
 * session once through a one-time start URL (like cmi5's fetch URL, so no reusable secret sits in
 * the address bar), then commits its CMI data here with the session's key; commits are queued and
 * retried by the page and applied once each (by sequence number).
 *
 * Each commit is: turned into xAPI statements of ADL's SCORM profile (stored in our LRS), kept as
 * the attempt's state in the LRS state API (`attempt-state`, with the attempts list in
 * `activity-state`) so the next session — on any device — resumes it, and mapped to the AU's
 * progress (completed / passed / failed / score), where moveOn, "trained", certificates and
 * reports take over exactly as for cmi5.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../../../../core/errors';
import type { LrsDocuments, LrsStatements, XapiStatement } from '../../../../core/contracts/lrs';
import { learnerActor, lmsActivityId } from '../../launch/cmi5';
import { FETCH_TTL_MS, SCORM_FETCH_PREFIX } from '../../launch/launch.service';
import type { ScormSessionData, SessionDoc, SessionModels } from '../../launch/session.model';
import type { CourseReader } from '../../paths/course-reader';
import { findAu, pick } from '../../paths/course-reader';
import type { ProgressService } from '../../progress/progress.service';
import type { FormatRuntime, LaunchAnswer, LaunchRequest } from '../format';
import { FRAME_PATH, SCO_PARAM, START_PARAM, VERSION_PARAM } from './params';
import { cmiOf, launchData, merge, outcomeOf, resumeData, timespan, type ScormRuntimeVersion } from './cmi';
import {
  ACTIVITY_STATE,
  ATTEMPT_STATE,
  endStatements,
  initializedStatement,
  outcomeStatements,
  respondedStatement,
  resumedStatement,
  scoreOf,
} from './statements';

export interface ScormPorts {
  statements(): LrsStatements;
  documents(): LrsDocuments;
}

/** What the LMS keeps of an attempt (the profile's attempt-state object, plus what resuming needs). */
interface AttemptState {
  location?: string;
  suspend_data?: string;
  credit?: string;
  mode?: string;
  total_time?: string;
  preferences?: Record<string, unknown>;
  adl_data?: unknown[];
  /** Ours: total seconds, the last exit, whether the attempt was terminated, the SCO's data to resume. */
  totalSeconds?: number;
  /** The session whose time totalSeconds already holds: a terminate retried after a crash adds nothing. */
  timedSession?: string;
  exit?: string;
  terminated?: boolean;
  cmi?: Record<string, unknown>;
}

export interface CommitBody {
  key?: unknown;
  seq?: unknown;
  event?: unknown;
  at?: unknown;
  cmi?: unknown;
}

const MODES = { Normal: 'normal', Browse: 'browse', Review: 'review' } as const;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class ScormRuntime implements FormatRuntime {
  constructor(
    private readonly m: SessionModels,
    private readonly courses: CourseReader,
    private readonly progress: ProgressService,
    private readonly lrs: ScormPorts,
    private readonly baseUrl: string,
    /** CONTENT_ORIGIN: SCOs then run in a frame of our frame page, on that origin with their files (frame.ts). */
    private readonly contentOrigin?: string,
  ) {}

  private scoActivity(courseId: string, auId: string) {
    return lmsActivityId(this.baseUrl, 'au', courseId, auId);
  }

  /** Runs inside the registration's lock (LaunchService.launch), after any open session was abandoned. */
  async launch(r: LaunchRequest): Promise<LaunchAnswer> {
    const { user, registration, courseId, version, au, launchMode } = r;
    const actor = learnerActor(this.baseUrl, user.id);
    const activityId = this.scoActivity(courseId, au.id);
    const sessionId = randomUUID();
    const now = new Date();
    const scormVersion: ScormRuntimeVersion = version.formatVersion === '1.2' ? '1.2' : '2004';
    const url = new URL(this.courses.contentUrl(version, au.url, 'scorm'), this.baseUrl + '/');
    const isSco = au.scorm?.scormType !== 'asset';

    // The last attempt of this SCO in this registration; a suspended or interrupted one is resumed.
    const docs = this.lrs.documents();
    const attempts =
      ((await docs.getState({ activityId, agent: actor, stateId: ACTIVITY_STATE, registration })) as { attempts?: string[] } | undefined)
        ?.attempts ?? [];
    const last = attempts.at(-1);
    const lastState = last
      ? ((await docs.getState({ activityId: last, agent: actor, stateId: ATTEMPT_STATE, registration })) as AttemptState | undefined)
      : undefined;
    const open = !!lastState && (lastState.exit === 'suspend' || !lastState.terminated);
    let attemptIri: string;
    let entry: ScormSessionData['entry'];
    let resumeFrom: string | undefined;
    // cmi.core.entry / cmi.entry (RTE 1.2 §3.4.2.1.4, 2004 §4.2.11) says whether the SCO gets earlier
    // data: "resume" when it reads back a suspended (or interrupted) attempt, "ab-initio" when it
    // starts with none, "" when it reads an attempt that ended normally.
    if (launchMode !== 'Normal') {
      // Browse and Review record nothing towards completion: an attempt of their own, not listed; Review shows the last one.
      attemptIri = `${activityId}?attemptId=${randomUUID()}`;
      if (launchMode === 'Review' && last) resumeFrom = last;
      entry = !resumeFrom ? 'ab-initio' : open ? 'resume' : '';
    } else if (open && last) {
      attemptIri = last;
      entry = 'resume';
      resumeFrom = last;
    } else {
      // A new attempt starts with no data of the last one, whichever version (as Moodle and SCORM Cloud do).
      attemptIri = `${activityId}?attemptId=${randomUUID()}`;
      entry = 'ab-initio';
      if (isSco)
        await docs.putState({
          activityId,
          agent: actor,
          stateId: ACTIVITY_STATE,
          registration,
          body: { attempts: [...attempts, attemptIri] },
        });
    }

    const secret = randomBytes(24).toString('base64url');
    await this.m.sessions.create({
      _id: sessionId,
      registration,
      userId: user.id,
      courseId,
      courseVersion: version.version,
      auId: au.id,
      activityId,
      launchMode,
      moveOn: au.moveOn,
      ...(au.masteryScore !== undefined ? { masteryScore: au.masteryScore } : {}),
      state: isSco ? 'launched' : 'terminated',
      verbs: [],
      statementIds: [],
      launchedAt: now,
      ...(isSco ? {} : { endedAt: now }),
      format: 'scorm',
      scorm: { version: scormVersion, attemptIri, entry, ...(resumeFrom ? { resumeFrom } : {}), commitKeyHash: sha256(secret), lastSeq: 0 },
    } satisfies SessionDoc);
    if (!isSco) {
      // An asset has no API to talk to: opening it is all there is (it is satisfied at registration).
      await this.progress.change(registration, au.id, { launchedAt: now }, { sessionId });
      return { url: url.href, launchMethod: au.launchMethod, sessionId, launchMode };
    }
    const fetchId = SCORM_FETCH_PREFIX + randomBytes(24).toString('base64url');
    await this.m.fetches.create({ _id: fetchId, sessionId, authToken: `${sessionId}.${secret}`, createdAt: now });
    await this.progress.change(registration, au.id, { launchedAt: now }, { sessionId, activeSessionId: sessionId });
    const launchUrl = this.contentOrigin ? new URL(`${this.contentOrigin}${FRAME_PATH}`) : url;
    if (this.contentOrigin) {
      launchUrl.searchParams.set(SCO_PARAM, url.href);
      launchUrl.searchParams.set('lang', user.language);
    }
    launchUrl.searchParams.set(START_PARAM, fetchId);
    launchUrl.searchParams.set(VERSION_PARAM, scormVersion);
    return { url: launchUrl.href, launchMethod: au.launchMethod, sessionId, launchMode };
  }

  /**
   * The one-time start URL (called by the injected player before the SCO's own scripts run):
   * the session's commit key, the SCORM version and the data the SCO starts with.
   */
  async start(fetchId: string, learnerName: (userId: string) => Promise<string>): Promise<Record<string, unknown>> {
    if (!fetchId.startsWith(SCORM_FETCH_PREFIX)) throw new HttpError(404, 'Unknown SCORM start URL');
    const before = await this.m.fetches
      .findOneAndUpdate({ _id: fetchId }, { $unset: { authToken: 1 }, $set: { usedAt: new Date() } }, { returnDocument: 'before' })
      .lean();
    if (!before) throw new HttpError(404, 'Unknown SCORM start URL');
    if (!before.authToken)
      throw new HttpError(410, 'This SCORM start URL has already been used; launch the lesson again from the course page');
    const s = await this.m.sessions.findById(before.sessionId).lean<SessionDoc>();
    if (!s?.scorm || Date.now() - before.createdAt.getTime() > FETCH_TTL_MS || s.state === 'terminated' || s.state === 'abandoned')
      throw new HttpError(410, 'This SCORM session has expired; launch the lesson again from the course page');
    const version = await this.courses.getVersion(s.courseId, s.courseVersion);
    const au = version && findAu(version.structure, s.auId);
    if (!au) throw new HttpError(404, 'The lesson is no longer in this course');
    const actor = learnerActor(this.baseUrl, s.userId);
    const previous = s.scorm.resumeFrom
      ? ((await this.lrs
          .documents()
          .getState({ activityId: s.scorm.resumeFrom, agent: actor, stateId: ATTEMPT_STATE, registration: s.registration })) as
          AttemptState | undefined)
      : undefined;
    const lms = launchData(s.scorm.version, {
      learnerId: s.userId,
      learnerName: await learnerName(s.userId),
      mode: MODES[s.launchMode],
      entry: s.scorm.entry,
      totalSeconds: s.scorm.entry === 'resume' ? (previous?.totalSeconds ?? 0) : 0,
      launchData: au.scorm?.launchData,
      masteryScore: au.masteryScore,
      completionThreshold: au.scorm?.completionThreshold,
    });
    const cmi = previous?.cmi ? merge(resumeData(s.scorm.version, previous.cmi), lms) : lms;
    return {
      key: before.authToken,
      version: s.scorm.version,
      commitUrl: `${this.baseUrl}/catalog/scorm/commit`,
      cmi,
      title: pick(au.title, 'es'),
    };
  }

  /** One commit of a SCO (initialize, commit or terminate), applied once whatever the retries. */
  async commit(body: CommitBody): Promise<{ result: 'true'; applied: boolean }> {
    const key = typeof body.key === 'string' ? body.key : '';
    const dot = key.indexOf('.');
    const seq = Number(body.seq);
    const event = body.event;
    if (dot < 1) throw new HttpError(401, 'SCORM commit: missing or malformed session key');
    if (!Number.isSafeInteger(seq) || seq < 1) throw new HttpError(400, 'SCORM commit: seq must be a positive integer');
    if (event !== 'initialize' && event !== 'commit' && event !== 'terminate')
      throw new HttpError(400, 'SCORM commit: event must be initialize, commit or terminate');
    const sessionId = key.slice(0, dot);
    const first = await this.m.sessions.findById(sessionId).lean<SessionDoc>();
    const given = Buffer.from(sha256(key.slice(dot + 1)));
    if (!first?.scorm || !timingSafeEqual(given, Buffer.from(first.scorm.commitKeyHash)))
      throw new HttpError(401, 'SCORM commit: unknown session key');
    return this.progress.serial(first.registration, async () => {
      const s = (await this.m.sessions.findById(sessionId).lean<SessionDoc>())!;
      const sc = s.scorm!;
      // A retry of a commit already applied (its answer was lost on the way back).
      if (seq <= sc.lastSeq) return { result: 'true' as const, applied: false };
      if (s.state === 'terminated' || s.state === 'abandoned')
        throw new HttpError(409, 'SCORM commit: this session has ended; launch the lesson again from the course page');
      const version = await this.courses.getVersion(s.courseId, s.courseVersion);
      const au = version && findAu(version.structure, s.auId);
      if (!au) throw new HttpError(409, 'SCORM commit: the lesson is no longer in this course');
      const cmi = cmiOf(body.cmi);
      const outcome = outcomeOf(sc.version, cmi, {
        masteryScore: au.masteryScore,
        completionThreshold: au.scorm?.completionThreshold,
        completionSetByContent: au.scorm?.completionSetByContent,
        objectiveSetByContent: au.scorm?.objectiveSetByContent,
        finished: event === 'terminate',
        normal: s.launchMode === 'Normal',
      });
      const at = commitTime(body.at, s.launchedAt);
      const actor = learnerActor(this.baseUrl, s.userId);
      const c = {
        actor,
        registration: s.registration,
        sessionId,
        scoActivityId: s.activityId,
        scoTitle: pick(au.title, 'es'),
        attemptIri: sc.attemptIri,
        courseActivityId: lmsActivityId(this.baseUrl, 'course', s.courseId, s.courseId),
        at,
      };
      const k = `seq${seq}`;
      const out: XapiStatement[] = [];
      const initializing = !sc.initialized;
      if (initializing) {
        out.push(initializedStatement(c, k));
        // A Review reads the suspended attempt back but is an attempt of its own: nothing was resumed.
        if (sc.entry === 'resume' && s.launchMode === 'Normal') out.push(resumedStatement(c, k));
      }
      if (event !== 'initialize') {
        out.push(...outcomeStatements(c, k, sc, outcome));
        outcome.interactions
          .slice(sc.interactions ?? 0)
          .forEach((i, n) => out.push(respondedStatement(c, k, (sc.interactions ?? 0) + n, i)));
      }
      const ending = event === 'terminate';
      if (ending) out.push(...endStatements(c, k, outcome));

      const normal = s.launchMode === 'Normal';
      const docs = this.lrs.documents();
      const prior = ((await docs.getState({
        activityId: sc.attemptIri,
        agent: actor,
        stateId: ATTEMPT_STATE,
        registration: s.registration,
      })) ?? {}) as AttemptState;
      const baseSeconds = prior.totalSeconds ?? 0;
      // Counted once: the state may hold this session's time already (written before a crash, the commit then retried).
      const counted = prior.timedSession === sessionId;
      const totalSeconds = ending && !counted ? baseSeconds + (outcome.sessionSeconds ?? 0) : baseSeconds;
      if (event !== 'initialize' || !prior.cmi) {
        const view = sc.version === '1.2' ? ((cmi.core as Record<string, unknown> | undefined) ?? {}) : cmi;
        await docs.putState({
          activityId: sc.attemptIri,
          agent: actor,
          stateId: ATTEMPT_STATE,
          registration: s.registration,
          body: {
            location: String(view[sc.version === '1.2' ? 'lesson_location' : 'location'] ?? ''),
            suspend_data: String(cmi.suspend_data ?? ''),
            credit: normal ? 'credit' : 'no-credit',
            mode: MODES[s.launchMode],
            total_time: sc.version === '1.2' ? timespan(totalSeconds) : `PT${Math.round(totalSeconds * 100) / 100}S`,
            preferences: ((sc.version === '1.2' ? cmi.student_preference : cmi.learner_preference) ?? {}) as Record<string, unknown>,
            adl_data: [],
            totalSeconds,
            ...(ending || prior.timedSession ? { timedSession: ending ? sessionId : prior.timedSession } : {}),
            exit: outcome.exit,
            terminated: ending,
            cmi: event === 'initialize' ? (prior.cmi ?? {}) : cmi,
          } satisfies AttemptState,
        });
      }
      const score = scoreOf(outcome);
      const scoreKey = score ? JSON.stringify(score) : sc.scoreKey;
      const next: ScormSessionData = {
        ...sc,
        lastSeq: seq,
        initialized: true,
        ...(event !== 'initialize'
          ? {
              completed: sc.completed || outcome.completed,
              ...(outcome.success ? { success: outcome.success } : {}),
              ...(scoreKey ? { scoreKey } : {}),
              interactions: Math.max(sc.interactions ?? 0, outcome.interactions.length),
              exit: outcome.exit,
            }
          : {}),
      };
      // Browse and Review sessions record nothing towards completion (as in cmi5).
      const delta =
        normal && event !== 'initialize'
          ? {
              attempted: true,
              ...(outcome.completed ? { completed: true } : {}),
              ...(outcome.success === 'passed' ? { passed: true } : {}),
              ...(outcome.success === 'failed' ? { failed: true } : {}),
              ...(outcome.scaled !== undefined && outcome.success ? { score: outcome.scaled } : {}),
            }
          : normal
            ? { attempted: true }
            : {};
      // The commit's statements go with the progress change, in one LRS write before the
      // `satisfied` statements they lead to: the LRS keeps a batch's order in `stored`
      // (suspended before terminated). If anything after fails, the retried commit re-sends the
      // same ids, and the statements already stored are not stored again.
      await this.progress.change(s.registration, s.auId, delta, {
        sessionId,
        statements: out,
        ...(ending ? { addSeconds: outcome.sessionSeconds ?? 0, activeSessionId: null } : {}),
      });
      // Last: until the session records this sequence number, a retried commit is applied again
      // (statements and state are idempotent; progress flags are too).
      await this.m.sessions.updateOne(
        { _id: sessionId },
        {
          $set: {
            scorm: next,
            state: ending ? 'terminated' : 'initialized',
            lastStatementAt: new Date(),
            ...(ending ? { endedAt: new Date() } : {}),
          },
        },
      );
      return { result: 'true' as const, applied: true };
    });
  }
}

/** The time the page says it made the commit, if believable; otherwise now. */
function commitTime(at: unknown, launchedAt: Date): string {
  const t = typeof at === 'string' ? Date.parse(at) : NaN;
  const now = Date.now();
  if (Number.isFinite(t) && t >= launchedAt.getTime() - 60_000 && t <= now + 60_000) return new Date(t).toISOString();
  return new Date(now).toISOString();
}
