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

/** Each router's route tables, so the app can list every route it serves (the access sweep test reads it). */
const tables = new WeakMap<Router, Route[]>();

export function routesOf(router: Router): Route[] {
  return tables.get(router) ?? [];
}

export function mountRoutes(router: Router, permissions: Permissions, routes: Route[]): void {
  tables.set(router, [...routesOf(router), ...routes]);
  for (const r of routes) {
    const handlers = Array.isArray(r.handler) ? r.handler : [r.handler];
    const guards = r.guard === 'public' ? [] : [permissions.guard(r.guard === 'user' ? undefined : r.guard)];
    router[r.method](r.path, ...guards, ...handlers);
  }
}

/** A route as served: its full path (mount prefix included), its method and guard, and the plugin. */
export interface ServedRoute {
  plugin: string;
  method: Route['method'];
  path: string;
  guard: Route['guard'];
}

/**
 * The routes of `router` mounted at `prefix`, including routers it mounts without a path of their
 * own (e.g. the LRS's xAPI router inside its plugin router).
 */
export function servedRoutes(plugin: string, prefix: string, router: Router): ServedRoute[] {
  const nested = (router.stack as Array<{ handle: unknown }>).map((l) => l.handle as Router).filter((h) => tables.has(h));
  return [router, ...nested].flatMap((r) =>
    routesOf(r).map((route) => ({ plugin, method: route.method, path: prefix + route.path, guard: route.guard })),
  );
}
