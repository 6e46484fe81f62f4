import type { RequestHandler, Router } from 'express';
import type { Permissions } from './permissions';

/**
 * A plugin's routes as a flat, readable table. `guard` is 'public', 'user' (any signed-in user)
 * or a permission name declared in a manifest.
 */
export interface Route {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  guard: 'public' | 'user' | `${string}:${string}`;
  handler: RequestHandler | RequestHandler[];
}

export function mountRoutes(router: Router, permissions: Permissions, routes: Route[]): void {
  for (const r of routes) {
    const handlers = Array.isArray(r.handler) ? r.handler : [r.handler];
    const guards = r.guard === 'public' ? [] : [permissions.guard(r.guard === 'user' ? undefined : r.guard)];
    router[r.method](r.path, ...guards, ...handlers);
  }
}
