import type { SessionData } from 'express-session';
import type { RequestHandler, Router } from 'express';
import type { Connection } from 'mongoose';
import type { i18n } from 'i18next';
import type { PassportStatic } from 'passport';
import type { Config } from './config';
import type { Logger } from './log';
import type { PermissionSpec, Permissions, SessionUser } from './permissions';
import type { Jobs } from './jobs';
import type { PersonalDataProvider, PersonalDataRegistry } from './privacy';
import type { Hooks, ServiceRegistry } from './services';
import type { EventDeclarations } from './events/hooks';
import type { Outbox } from './events/outbox';
import type { EventWorker } from './events/worker';
import type { Locks } from './locks';

/** The core's major version; a plugin declares the one it was written for. */
export const CORE_VERSION = 1;

export interface PluginManifest {
  /** Also the URL prefix, view folder, collection prefix, locale namespace and permission prefix. */
  name: string;
  version: string;
  /** Core major version the plugin was written for. */
  core: number;
  description?: string;
  /** Plugins that must be enabled and registered first. */
  dependencies?: string[];
  /** URL prefix; defaults to `/<name>`. */
  prefix?: string;
  permissions?: Record<string, PermissionSpec>;
  /**
   * Whether the plugin's router parses urlencoded/JSON bodies and checks CSRF tokens (default true).
   * The LRS turns this off: it reads its own bodies (limits, multipart/mixed) and uses Basic auth.
   */
  forms?: boolean;
  /**
   * `false` for a plugin that keeps nothing about people. Every other plugin must declare its
   * personal data with `ctx.declarePersonalData(provider)` in register (checked at start-up).
   */
  personalData?: false;
  /** Events this plugin emits (after-events with their natural keys, checks) and handles. */
  events?: EventDeclarations;
}

export interface NavItem {
  href: string;
  /** Locale key of the label. */
  label: string;
  /** Shown only to users holding this permission; without it, to every signed-in user. */
  permission?: string;
  order?: number;
  /** Where the link is shown: the main navigation (default) or the person's profile page. */
  place?: 'main' | 'profile';
  /**
   * A count shown beside the link when above zero (unread notifications), read for the signed-in
   * person on each page; `label` is a locale key taking `{{count}}` (what the number means).
   */
  count?: { of(user: SessionUser): Promise<number>; label: string };
}

/**
 * One line of the administrator's home page: something that needs attention (failed e-mails,
 * imports waiting for confirmation, training about to expire) or a count, linking to the page
 * where it is dealt with. Read when the home page is shown, by the people holding `permission`.
 */
export interface HomeFigure {
  permission: string;
  kind: 'attention' | 'count';
  /** Locale key taking `{{count}}` (with plural forms). */
  label: string;
  href: string;
  order?: number;
  count(): Promise<number>;
}

/** What a running server (or CLI command) has once every plugin is registered. */
export interface Runtime {
  config: Readonly<Config>;
  log: Logger;
  db: Connection;
  services: ServiceRegistry;
  hooks: Hooks;
  /** Periodic jobs: register in `register(ctx)`; their timers run only in a started server. */
  jobs: Jobs;
  /** The outbox of after-events and this process's delivery worker. */
  events: { outbox: Outbox; worker: EventWorker; settled(): Promise<void> };
  /** Leases in the database: what must not interleave across the processes sharing it. */
  locks: Locks;
  i18n: i18n;
  mode: 'server' | 'cli' | 'test';
  /** What each plugin declared about the personal data it keeps (see privacy.ts). */
  personalData: PersonalDataRegistry;
  /** Signed-in sessions (browser cookies), kept by the core. */
  sessions: {
    endFor(userId: string, exceptSid?: string): Promise<number>;
    endWhere(match: (session: SessionData, sid: string) => boolean): Promise<number>;
  };
}

export interface PluginContext extends Runtime {
  name: string;
  /** Mounted at the plugin's prefix. */
  router: Router;
  /** Mounted at `/`, for the few public paths outside the prefix (e.g. /verify/:code). */
  root: Router;
  permissions: Permissions;
  /** Guard: requires a signed-in user holding `permission` (or any signed-in user without one). */
  can(permission?: string): RequestHandler;
  /** Body parsers + CSRF check, for plugins with `forms: false` that still have some HTML forms. */
  forms: RequestHandler[];
  passport: PassportStatic;
  nav(item: NavItem): void;
  /** Adds a line to the administrator's home page. */
  homeFigure(figure: HomeFigure): void;
  /** Declares the personal data this plugin keeps and how to export and erase it. */
  declarePersonalData(provider: PersonalDataProvider): void;
  /** Runs when the server or command stops, in reverse registration order. */
  onClose(fn: () => Promise<void> | void): void;
}

export interface CliOption {
  flags: string;
  description: string;
  default?: string | boolean;
}

export interface CliCommand {
  name: string;
  description: string;
  /** Positional arguments in commander syntax, e.g. '<file>'. */
  args?: string;
  options?: CliOption[];
  /** Returns the exit status (default 0). */
  run(rt: Runtime, opts: Record<string, unknown>, args: string[]): Promise<number | void>;
}

export interface Plugin {
  manifest: PluginManifest;
  register(ctx: PluginContext): Promise<void>;
  /** Server only, after every plugin is registered: first-start tasks and background jobs. */
  start?(rt: Runtime): Promise<void>;
  commands?: CliCommand[];
}

/**
 * Chooses the enabled plugins and orders them so that each comes after its dependencies.
 * Checked before anything boots: an unknown name, a missing or disabled dependency, a cycle
 * or a core-version mismatch stops start-up with a message naming the plugin.
 */
export function resolvePlugins(available: Plugin[], enabled?: string[]): Plugin[] {
  const byName = new Map<string, Plugin>();
  for (const p of available) {
    if (!/^[a-z][a-z0-9-]*$/.test(p.manifest.name)) throw new Error(`Plugin name "${p.manifest.name}" is not kebab-case.`);
    if (byName.has(p.manifest.name)) throw new Error(`Two plugins are named "${p.manifest.name}".`);
    byName.set(p.manifest.name, p);
  }
  const wanted = enabled ?? [...byName.keys()];
  for (const name of wanted) {
    if (!byName.has(name)) throw new Error(`PLUGINS names an unknown plugin "${name}" (available: ${[...byName.keys()].join(', ')}).`);
  }
  const chosen = new Set(wanted);
  const ordered: Plugin[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`Plugin dependency cycle: ${[...path, name].join(' → ')}.`);
    state.set(name, 'visiting');
    const plugin = byName.get(name)!;
    if (plugin.manifest.core !== CORE_VERSION) {
      throw new Error(`Plugin "${name}" was written for core ${plugin.manifest.core}, this is core ${CORE_VERSION}.`);
    }
    for (const dep of plugin.manifest.dependencies ?? []) {
      if (!byName.has(dep)) throw new Error(`Plugin "${name}" depends on "${dep}", which does not exist.`);
      if (!chosen.has(dep)) throw new Error(`Plugin "${name}" depends on "${dep}", which is not enabled (add it to PLUGINS).`);
      visit(dep, [...path, name]);
    }
    state.set(name, 'done');
    ordered.push(plugin);
  };
  for (const name of wanted) visit(name, []);
  return ordered;
}
