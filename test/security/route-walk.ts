import type { Application } from 'express';
import type { ServedRoute } from '../../server/core/routes';

/** A route as Express serves it, with its guard when a plugin's route table declares one. */
export interface WalkedRoute {
  method: string;
  path: string;
  /** From the route tables; `undefined` for routes mounted outside them (they check their own credentials). */
  guard?: ServedRoute['guard'];
  plugin?: string;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string | string[];
}

/**
 * Every route the app answers, read from Express's own router (not from the plugins' route tables,
 * which miss what a plugin mounts by hand: the SCORM runtime, the assessment API, cmi5's fetch URL,
 * CORS preflights, the core's pages). Mounted routers are walked with their mount path.
 */
export function walkRoutes(app: Application, tables: ServedRoute[]): WalkedRoute[] {
  const declared = new Map(tables.map((r) => [`${r.method} ${r.path}`, r]));
  const out = new Map<string, WalkedRoute>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const p of ([] as string[]).concat(layer.route.path))
          for (const method of Object.keys(layer.route.methods)) {
            const path = prefix + p;
            const known = declared.get(`${method} ${path}`);
            out.set(`${method} ${path}`, { method, path, guard: known?.guard, plugin: known?.plugin });
          }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...out.values()];
}
