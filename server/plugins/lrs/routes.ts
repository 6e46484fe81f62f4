/** The LRS's routes: the xAPI resources under /xapi, and the credentials admin pages under /lrs/admin. */
import type { RequestHandler } from 'express';
import type { Route } from '../../core/routes';
import type { Hooks } from '../../core/services';
import type { ActivitiesService } from './activities.service';
import type { CredentialsService } from './credentials.service';
import type { DocumentsService } from './documents.service';
import type { StatementsService } from './statements.service';
import { about, documentHandlers, getActivities, getAgents, RESOURCES } from './http/documents.handlers';
import { getStatements, postStatements, putStatement } from './http/statements.handlers';
import { requireScope } from './http/pipeline';
import { adminHandlers } from './http/admin.handlers';

export function xapiRoutes(s: {
  statements: StatementsService;
  documents: DocumentsService;
  activities: ActivitiesService;
  hooks: Hooks;
}): Route[] {
  const statements = requireScope(['statements/read', 'statements/read/mine'], ['statements/write']);
  const state = requireScope(['state'], ['state']);
  const profile = requireScope(['profile'], ['profile']);
  const define = requireScope(['profile', 'define'], ['define']);
  const st = documentHandlers(RESOURCES.state, s.documents, s.hooks);
  const ap = documentHandlers(RESOURCES.activityProfile, s.documents, s.hooks);
  const gp = documentHandlers(RESOURCES.agentProfile, s.documents, s.hooks);
  const r = (method: Route['method'], path: string, ...handler: RequestHandler[]): Route => ({ method, path, guard: 'public', handler });
  return [
    r('get', '/about', about),
    r('get', '/statements', statements, getStatements(s.statements)),
    r('put', '/statements', statements, putStatement(s.statements)),
    r('post', '/statements', statements, postStatements(s.statements)),
    r('get', '/activities/state', state, st.get),
    r('put', '/activities/state', state, st.put),
    r('post', '/activities/state', state, st.post),
    r('delete', '/activities/state', state, st.remove),
    r('get', '/activities/profile', profile, ap.get),
    r('put', '/activities/profile', profile, ap.put),
    r('post', '/activities/profile', profile, ap.post),
    r('delete', '/activities/profile', profile, ap.remove),
    r('get', '/agents/profile', profile, gp.get),
    r('put', '/agents/profile', profile, gp.put),
    r('post', '/agents/profile', profile, gp.post),
    r('delete', '/agents/profile', profile, gp.remove),
    r('get', '/agents', define, getAgents),
    r('get', '/activities', define, getActivities(s.activities)),
  ];
}

export function adminRoutes(credentials: CredentialsService, forms: RequestHandler[]): Route[] {
  const h = adminHandlers(credentials);
  return [
    { method: 'get', path: '/lrs/admin/clients', guard: 'lrs:manage', handler: h.list },
    { method: 'post', path: '/lrs/admin/clients', guard: 'lrs:manage', handler: [...forms, h.create] },
    { method: 'post', path: '/lrs/admin/clients/:key/revoke', guard: 'lrs:manage', handler: [...forms, h.revoke] },
  ];
}
