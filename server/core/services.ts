/**
 * Services one plugin provides to others. Plugins add their entries to this interface by
 * declaration merging, so `ctx.services.get('lrs.statements')` is typed and a plugin never
 * imports another plugin's files.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Services {}

export class ServiceRegistry {
  private readonly map = new Map<string, { owner: string; impl: unknown }>();

  provide<K extends keyof Services & string>(owner: string, name: K, impl: Services[K]): void {
    const existing = this.map.get(name);
    if (existing) throw new Error(`Service "${name}" is already provided by plugin "${existing.owner}".`);
    this.map.set(name, { owner, impl });
  }

  get<K extends keyof Services & string>(name: K): Services[K] {
    const entry = this.map.get(name);
    if (!entry) {
      throw new Error(`Service "${name}" is not available: is the plugin that provides it enabled and declared as a dependency?`);
    }
    return entry.impl as Services[K];
  }

  has(name: string): boolean {
    return this.map.has(name);
  }
}

/**
 * Hooks: named events whose handlers are awaited in registration order. A handler that throws
 * makes `emit` throw, so a "before" hook can veto (e.g. cmi5 rules rejecting a statement).
 * Plugins declare their events by merging into HookEvents.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface HookEvents {}

type Handler<T> = (payload: T) => void | Promise<void>;

export class Hooks {
  private readonly handlers = new Map<string, Handler<never>[]>();

  on<K extends keyof HookEvents & string>(event: K, handler: Handler<HookEvents[K]>): void {
    const list = this.handlers.get(event) ?? [];
    list.push(handler as Handler<never>);
    this.handlers.set(event, list);
  }

  async emit<K extends keyof HookEvents & string>(event: K, payload: HookEvents[K]): Promise<void> {
    for (const h of this.handlers.get(event) ?? []) await (h as Handler<HookEvents[K]>)(payload);
  }

  count(event: string): number {
    return this.handlers.get(event)?.length ?? 0;
  }
}
