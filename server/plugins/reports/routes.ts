import type { Route } from '../../core/routes';
import type { Reports } from './bundle';
import { dashboardHandlers } from './dashboard.handlers';
import { rosterHandlers } from './roster.handlers';
import { adminHandlers } from './admin.handlers';
import { tokensHandlers } from './tokens.handlers';

/** Routes under /reports. */
export function reportRoutes(r: Reports): Route[] {
  const d = dashboardHandlers(r);
  const ro = rosterHandlers(r);
  const a = adminHandlers(r);
  const tk = tokensHandlers(r);
  return [
    { method: 'get', path: '/', guard: 'reports:view', handler: d.page },
    { method: 'get', path: '/people', guard: 'reports:view', handler: d.people },
    { method: 'get', path: '/export/:file', guard: 'reports:view', handler: d.exportFile },
    { method: 'get', path: '/api/dashboard', guard: 'reports:view', handler: d.api },
    { method: 'get', path: '/api/people', guard: 'reports:view', handler: d.peopleApi },
    { method: 'get', path: '/tokens', guard: 'reports:view', handler: tk.page },
    { method: 'post', path: '/tokens', guard: 'reports:view', handler: tk.create },
    { method: 'post', path: '/tokens/:id/revoke', guard: 'reports:view', handler: tk.revoke },
    { method: 'get', path: '/roster', guard: 'reports:import', handler: ro.page },
    { method: 'get', path: '/roster/invitations.csv', guard: 'reports:import', handler: ro.invitesCsv },
    { method: 'get', path: '/roster/:id', guard: 'reports:import', handler: ro.show },
    { method: 'post', path: '/roster/:id/confirm', guard: 'reports:import', handler: ro.confirm },
    { method: 'get', path: '/org', guard: 'reports:org', handler: a.orgPage },
    { method: 'post', path: '/org', guard: 'reports:org', handler: a.saveUnit },
    { method: 'get', path: '/settings', guard: 'reports:settings', handler: a.settingsPage },
    { method: 'post', path: '/settings/rule', guard: 'reports:settings', handler: a.saveRule },
    { method: 'post', path: '/settings/baseline', guard: 'reports:settings', handler: a.saveBaseline },
    { method: 'post', path: '/settings/recompute', guard: 'reports:settings', handler: a.recompute },
    { method: 'get', path: '/api/job', guard: 'reports:settings', handler: a.job },
    { method: 'get', path: '/audit', guard: 'reports:audit', handler: a.audit },
    { method: 'get', path: '/invite/:token', guard: 'public', handler: a.showInvite },
    { method: 'post', path: '/invite/:token', guard: 'public', handler: a.acceptInvite },
  ];
}

/**
 * Multipart uploads, mounted at the root router (outside the shared body parsers, which would
 * refuse them before the CSRF field is read); they check the CSRF token themselves.
 */
export function uploadRoutes(r: Reports): Route[] {
  const ro = rosterHandlers(r);
  const a = adminHandlers(r);
  return [
    { method: 'post', path: '/reports/roster', guard: 'reports:import', handler: ro.upload },
    { method: 'post', path: '/reports/org/import', guard: 'reports:org', handler: a.importUnits },
  ];
}
