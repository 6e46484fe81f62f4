/**
 * A cmi5 AU written the way third-party AUs are (CATAPULT's among them): no cmi5 library, plain
 * `fetch`, every xAPI URL built by appending a resource path to the `endpoint` launch parameter,
 * the token from one POST to the fetch URL. It knows nothing of this server but the launch URL.
 */
import { randomUUID } from 'node:crypto';

type Json = Record<string, unknown>;

export const CMI5_CATEGORY = { id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' };
export const MOVEON_CATEGORY = { id: 'https://w3id.org/xapi/cmi5/context/categories/moveon' };
export const MASTERY_EXT = 'https://w3id.org/xapi/cmi5/context/extensions/masteryscore';
const VERBS = {
  initialized: 'http://adlnet.gov/expapi/verbs/initialized',
  completed: 'http://adlnet.gov/expapi/verbs/completed',
  passed: 'http://adlnet.gov/expapi/verbs/passed',
  failed: 'http://adlnet.gov/expapi/verbs/failed',
  terminated: 'http://adlnet.gov/expapi/verbs/terminated',
  experienced: 'http://adlnet.gov/expapi/verbs/experienced',
} as const;

export interface Reply {
  status: number;
  text: string;
}

export class ThirdPartyAu {
  readonly endpoint: string;
  readonly fetchUrl: string;
  readonly actor: string;
  readonly registration: string;
  readonly activityId: string;
  auth = '';
  launchData: Json & { contextTemplate?: Json; launchMode?: string; masteryScore?: number } = {};

  constructor(launchUrl: string) {
    const q = new URL(launchUrl).searchParams;
    this.endpoint = q.get('endpoint')!;
    this.fetchUrl = q.get('fetch')!;
    this.actor = q.get('actor')!;
    this.registration = q.get('registration')!;
    this.activityId = q.get('activityId')!;
  }

  async request(method: string, resource: string, params: Record<string, string>, body?: unknown, contentType = 'application/json') {
    const headers: Record<string, string> = { 'X-Experience-API-Version': '1.0.3', Authorization: this.auth };
    if (body !== undefined) headers['Content-Type'] = contentType;
    const res = await fetch(`${this.endpoint}/${resource}?${new URLSearchParams(params)}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() } satisfies Reply;
  }

  /** POST to the fetch URL (§8.2) for the auth token. */
  async fetchToken(): Promise<Json> {
    const res = await fetch(this.fetchUrl, { method: 'POST' });
    const body = (await res.json()) as Json;
    if (typeof body['auth-token'] === 'string') this.auth = `Basic ${body['auth-token']}`;
    return body;
  }

  state(method: string, stateId: string, body?: unknown): Promise<Reply> {
    return this.request(
      method,
      'activities/state',
      { stateId, activityId: this.activityId, agent: this.actor, registration: this.registration },
      body,
    );
  }

  async loadLaunchData(): Promise<void> {
    const r = await this.state('GET', 'LMS.LaunchData');
    if (r.status !== 200) throw new Error(`LMS.LaunchData: ${r.status} ${r.text}`);
    this.launchData = JSON.parse(r.text);
  }

  preferences(method: string, agent: string | undefined = this.actor, body?: unknown, contentType?: string): Promise<Reply> {
    return this.request(method, 'agents/profile', { profileId: 'cmi5LearnerPreferences', ...(agent ? { agent } : {}) }, body, contentType);
  }

  /** Launch handshake of a conformant AU: token, LaunchData, learner preferences (§8.2, §10, §11). */
  async start(): Promise<this> {
    await this.fetchToken();
    await this.loadLaunchData();
    const p = await this.preferences('GET');
    if (p.status !== 200 && p.status !== 404) throw new Error(`learner preferences: ${p.status}`);
    return this;
  }

  /** A statement from the contextTemplate (§9.6); `defined` adds the cmi5 category (and moveOn for success/completion). */
  statement(verb: keyof typeof VERBS, result?: Json, defined = verb !== 'experienced'): Json & { id: string; context: Json } {
    const context = JSON.parse(JSON.stringify(this.launchData.contextTemplate ?? {})) as Json & {
      contextActivities?: { category?: unknown[] };
      extensions?: Json;
    };
    context.registration = this.registration;
    context.contextActivities = context.contextActivities ?? {};
    const category = (context.contextActivities.category = context.contextActivities.category ?? []);
    if (defined) category.push(CMI5_CATEGORY);
    if (defined && result && ('success' in result || 'completion' in result)) category.push(MOVEON_CATEGORY);
    const score = result?.score as { scaled?: number } | undefined;
    if ((verb === 'passed' || verb === 'failed') && typeof score?.scaled === 'number' && this.launchData.masteryScore !== undefined)
      context.extensions = { ...context.extensions, [MASTERY_EXT]: this.launchData.masteryScore };
    return {
      id: randomUUID(),
      timestamp: new Date().toISOString(),
      actor: JSON.parse(this.actor),
      verb: { id: VERBS[verb], display: { en: verb } },
      object: { id: this.activityId },
      ...(result ? { result } : {}),
      context,
    };
  }

  /** PUT with the statement's id, as CATAPULT's AUs send them; POST when it has none. */
  send(st: Json): Promise<Reply> {
    return typeof st.id === 'string'
      ? this.request('PUT', 'statements', { statementId: st.id }, st)
      : this.request('POST', 'statements', {}, st);
  }
}
