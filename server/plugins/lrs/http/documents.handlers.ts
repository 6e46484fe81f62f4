/** activities/state, activities/profile, agents/profile, agents, activities and about (xAPI Communication 2.3–2.8). */
import type { Request, Response } from 'express';
import { HttpError } from '../../../core/errors';
import type { Hooks } from '../../../core/services';
import type { ActivitiesService } from '../activities.service';
import type { DocumentKind, DocumentScope } from '../document.model';
import { isJsonType, type DocumentsService, type Preconditions } from '../documents.service';
import { actor, ifiKey } from '../validate/actor';
import { iri, isUuid, timestamp, type Obj } from '../validate/primitives';
import { xapi, type XapiContext } from './pipeline';
import { stringifyExact } from '../exact-json';

const param = (field: string, why: string) => new HttpError(400, `${field}: ${why}`, { details: { field } });

interface ResourceSpec {
  kind: DocumentKind;
  hook: 'state' | 'activityProfile' | 'agentProfile';
  idParam: 'stateId' | 'profileId';
  needsActivity: boolean;
  needsAgent: boolean;
  registration: boolean;
}

export const RESOURCES: Record<DocumentKind, ResourceSpec> = {
  state: { kind: 'state', hook: 'state', idParam: 'stateId', needsActivity: true, needsAgent: true, registration: true },
  activityProfile: {
    kind: 'activityProfile',
    hook: 'activityProfile',
    idParam: 'profileId',
    needsActivity: true,
    needsAgent: false,
    registration: false,
  },
  agentProfile: {
    kind: 'agentProfile',
    hook: 'agentProfile',
    idParam: 'profileId',
    needsActivity: false,
    needsAgent: true,
    registration: false,
  },
};

function parseAgent(text: string): { json: Obj; key: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw param('agent', 'is not valid JSON');
  }
  const a = actor(v, 'agent');
  const key = ifiKey(a);
  if (!key) throw param('agent', 'must be identified (mbox, mbox_sha1sum, openid or account)');
  return { json: a, key };
}

function scopeOf(spec: ResourceSpec, x: XapiContext, method: string) {
  const p = x.params;
  const allowed = [
    spec.idParam,
    'since',
    ...(spec.needsActivity ? ['activityId'] : []),
    ...(spec.needsAgent ? ['agent'] : []),
    ...(spec.registration ? ['registration'] : []),
  ];
  for (const k of Object.keys(p)) if (!allowed.includes(k)) throw param(k, `is not a parameter of this resource`);
  const scope: DocumentScope = { kind: spec.kind };
  let agentJson: Obj | undefined;
  if (spec.needsActivity) {
    if (p.activityId === undefined) throw param('activityId', 'is required');
    scope.activityId = iri(p.activityId, 'activityId');
  }
  if (spec.needsAgent) {
    if (p.agent === undefined) throw param('agent', 'is required');
    const a = parseAgent(p.agent);
    scope.agent = a.key;
    agentJson = a.json;
  }
  if (p.registration !== undefined) {
    if (!isUuid(p.registration)) throw param('registration', 'must be a UUID');
    scope.registration = p.registration.toLowerCase();
  }
  const docId = p[spec.idParam];
  if (p.since !== undefined && (method !== 'GET' || docId !== undefined))
    throw param('since', `is only allowed when listing ids (GET without ${spec.idParam})`);
  const since = p.since !== undefined ? timestamp(p.since, 'since', x.family) : undefined;
  confineLaunch(x, scope, method);
  return { scope, docId, since, agentJson };
}

/**
 * A launch credential (cmi5 fetch token) stands for one learner in one AU session: it reaches the
 * documents of its own actor only, state of its own registration only, and writes activity
 * profiles of its own activity only. Without this any learner could read and overwrite another's
 * preferences and state by guessing their agent.
 */
function confineLaunch(x: XapiContext, scope: DocumentScope, method: string): void {
  if (x.credential?.kind !== 'launch') return;
  const launch = x.credential.launch;
  const deny = (why: string) => new HttpError(403, `This launch credential ${why}`);
  if (!launch) throw deny('is not bound to a session');
  if (scope.agent !== undefined && scope.agent !== ifiKey(launch.actor)) throw deny('reaches only the documents of its own actor');
  if (scope.kind === 'state' && scope.registration !== launch.registration.toLowerCase())
    throw deny(`reaches only the state of its own registration (registration=${launch.registration})`);
  if (scope.kind === 'activityProfile' && method !== 'GET' && scope.activityId !== launch.activityId)
    throw deny('writes only the profile of its own activity');
}

function preconditions(x: XapiContext, requireForOverwrite: boolean, requireAlways = false): Preconditions {
  return { ifMatch: x.headers['if-match'], ifNoneMatch: x.headers['if-none-match'], requireForOverwrite, requireAlways };
}

export function documentHandlers(spec: ResourceSpec, docs: DocumentsService, hooks: Hooks) {
  const validateHook = async (
    x: XapiContext,
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    scope: DocumentScope,
    docId: string | undefined,
    agentJson: Obj | undefined,
  ) =>
    hooks.emit('lrs.document.validate', {
      resource: spec.hook,
      method,
      activityId: scope.activityId,
      agent: agentJson,
      ...(spec.idParam === 'stateId' ? { stateId: docId } : { profileId: docId }),
      registration: scope.registration,
      credential: x.credential!,
    });

  return {
    async get(_req: Request, res: Response) {
      const x = xapi(res);
      const { scope, docId, since, agentJson } = scopeOf(spec, x, 'GET');
      await validateHook(x, 'GET', scope, docId, agentJson);
      if (docId === undefined) {
        const ids = await docs.ids(scope, since);
        return void res.status(200).json(ids);
      }
      const doc = await docs.get(scope, docId);
      if (!doc) throw new HttpError(404, `No document ${spec.idParam}=${docId} here`);
      res.set({
        ETag: `"${doc.etag}"`,
        'Last-Modified': doc.updated.toUTCString(),
        'Content-Type': doc.contentType || 'application/octet-stream',
      });
      res.status(200).end(doc.content);
    },

    async put(_req: Request, res: Response) {
      const x = xapi(res);
      const { scope, docId, agentJson } = scopeOf(spec, x, 'PUT');
      if (docId === undefined) throw param(spec.idParam, 'is required');
      const body = x.body ?? Buffer.alloc(0);
      const contentType = x.contentType ?? 'application/octet-stream';
      if (isJsonType(contentType)) checkJson(body);
      await validateHook(x, 'PUT', scope, docId, agentJson);
      // Profiles always; state too since 2.0 (1.0.3 lets a PUT overwrite state unconditionally).
      const etag = await docs.put(
        scope,
        docId,
        body,
        contentType,
        preconditions(x, spec.kind !== 'state' || x.family === '2.0', spec.kind !== 'state' && x.family === '1.0'),
      );
      res.set('ETag', `"${etag}"`).status(204).end();
    },

    async post(_req: Request, res: Response) {
      const x = xapi(res);
      const { scope, docId, agentJson } = scopeOf(spec, x, 'POST');
      if (docId === undefined) throw param(spec.idParam, 'is required');
      const body = x.body ?? Buffer.alloc(0);
      const contentType = x.contentType ?? 'application/octet-stream';
      if (isJsonType(contentType)) checkJson(body);
      await validateHook(x, 'POST', scope, docId, agentJson);
      const etag = await docs.merge(scope, docId, body, contentType, preconditions(x, false));
      res.set('ETag', `"${etag}"`).status(204).end();
    },

    async remove(_req: Request, res: Response) {
      const x = xapi(res);
      const { scope, docId, agentJson } = scopeOf(spec, x, 'DELETE');
      await validateHook(x, 'DELETE', scope, docId, agentJson);
      if (docId === undefined) {
        if (spec.kind !== 'state') throw param(spec.idParam, 'is required');
        await docs.removeAll(scope);
      } else await docs.remove(scope, docId, preconditions(x, false));
      res.status(204).end();
    },
  };
}

function checkJson(body: Buffer): void {
  try {
    JSON.parse(body.toString('utf8'));
  } catch {
    throw param('body', 'the Content-Type says application/json but the body is not valid JSON');
  }
}

/** GET /agents: the Person object (every identifier the LRS knows for this agent). */
export async function getAgents(_req: Request, res: Response) {
  const x = xapi(res);
  for (const k of Object.keys(x.params)) if (k !== 'agent') throw param(k, 'is not a parameter of GET /agents');
  if (x.params.agent === undefined) throw param('agent', 'is required');
  const { json } = parseAgent(x.params.agent);
  if (json.objectType === 'Group') throw param('agent', 'must be an Agent, not a Group');
  const person: Obj = { objectType: 'Person' };
  if (typeof json.name === 'string') person.name = [json.name];
  for (const k of ['mbox', 'mbox_sha1sum', 'openid', 'account']) if (json[k] !== undefined) person[k] = [json[k]];
  res.status(200).json(person);
}

export function getActivities(activities: ActivitiesService) {
  return async (_req: Request, res: Response) => {
    const x = xapi(res);
    for (const k of Object.keys(x.params)) if (k !== 'activityId') throw param(k, 'is not a parameter of GET /activities');
    if (x.params.activityId === undefined) throw param('activityId', 'is required');
    res
      .status(200)
      .type('application/json')
      .send(stringifyExact(await activities.get(iri(x.params.activityId, 'activityId'))));
  };
}

export function about(_req: Request, res: Response) {
  res.status(200).json({ version: ['1.0.3', '2.0.0'], extensions: {} });
}
