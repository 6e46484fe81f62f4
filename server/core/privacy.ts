/**
 * Personal data (LGPD and the region's data-protection laws), after Moodle's privacy providers:
 * every plugin that keeps anything about a person declares what it keeps and how to export and
 * erase it, with `ctx.declarePersonalData(provider)`; a plugin that keeps nothing says so in its
 * manifest (`personalData: false`). The loader refuses to boot a plugin that does neither, so a
 * new plugin cannot forget. The `privacy` plugin calls the providers through this registry.
 */
import { createHash } from 'node:crypto';

/** The xAPI agent under which the LMS records a person's learning (its account on this server). */
export function personAgent(baseUrl: string, id: string, name?: string): Record<string, unknown> {
  return { objectType: 'Agent', ...(name ? { name } : {}), account: { homePage: baseUrl, name: id } };
}

/** Who an export or an erasure is about, as their account said when it began. */
export interface DataSubject {
  userId: string;
  email: string;
  name: string;
  /** Every xAPI agent that identifies the person: their account agent, their mbox and its SHA-1. */
  agents: Array<Record<string, unknown>>;
  /**
   * Erasure only: the opaque id that replaces the person wherever a record must stay for the
   * figures to remain true (statements, progress, the roster's anonymous row). Random, and the
   * link back to the person is deleted with the account.
   */
  pseudonym: string;
  /** `personAgent(baseUrl, pseudonym)`: the actor of the person's pseudonymised statements. */
  pseudonymAgent: Record<string, unknown>;
}

export function dataSubject(baseUrl: string, user: { id: string; email: string; name: string }, pseudonym: string): DataSubject {
  const mbox = `mailto:${user.email.toLowerCase()}`;
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    agents: [
      personAgent(baseUrl, user.id),
      { objectType: 'Agent', mbox },
      { objectType: 'Agent', mbox_sha1sum: createHash('sha1').update(mbox).digest('hex') },
    ],
    pseudonym,
    pseudonymAgent: personAgent(baseUrl, pseudonym),
  };
}

/** What an export writes into the person's archive; every name is placed under the plugin's folder. */
export interface ExportArchive {
  json(name: string, data: unknown): void;
  file(name: string, data: Buffer): void;
}

/** One kind of record a plugin holds about people (Moodle's get_metadata), shown to the person and admins. */
export interface PersonalDataItem {
  /** Collection (or other store) holding it. */
  store: string;
  /** Locale key describing what it is and why it is kept. */
  purpose: string;
  /** What erasure does to it. */
  onErase: 'deleted' | 'pseudonymised' | 'anonymised' | 'withdrawn';
}

export interface PersonalDataProvider {
  holds: PersonalDataItem[];
  /** Adds everything the plugin holds about the person to the archive, and nothing about anyone else. */
  export(subject: DataSubject, archive: ExportArchive): Promise<void>;
  /**
   * Removes or pseudonymises it. Must be idempotent: an erasure interrupted at any point is
   * completed by running every step again, with the same pseudonym.
   */
  erase(subject: DataSubject): Promise<void>;
}

export class PersonalDataRegistry {
  private readonly providers = new Map<string, PersonalDataProvider>();

  provide(plugin: string, provider: PersonalDataProvider): void {
    if (this.providers.has(plugin)) throw new Error(`Plugin "${plugin}" declared its personal data twice.`);
    this.providers.set(plugin, provider);
  }

  has(plugin: string): boolean {
    return this.providers.has(plugin);
  }

  /** In registration order (the core's own first, then each plugin after those it depends on). */
  list(): Array<[string, PersonalDataProvider]> {
    return [...this.providers.entries()];
  }
}
