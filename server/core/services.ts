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
 * Events between plugins (checks and after-events, see events/hooks.ts). Plugins declare their
 * payloads by merging into HookEvents, and the events themselves in their manifests.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface HookEvents {}

export { Hooks } from './events/hooks';
