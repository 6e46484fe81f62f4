/**
 * Exports and erasures of a person's data, through every plugin's declared provider (see
 * core/privacy.ts), and the retention rule that erases people deactivated long ago. No express here.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import yazl from 'yazl';
import { isDuplicateKey } from '../../core/db/connect';
import { HttpError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { dataSubject, type DataSubject, type PersonalDataRegistry } from '../../core/privacy';
import type { Erasure, PrivacyAuditEntry, PrivacyModels } from './privacy.model';

/** What the service needs of the accounts plugin (its `accounts.users` service). */
export interface Accounts {
  findById(id: string): Promise<{ id: string; email: string; name: string } | undefined>;
  setActive(id: string, active: boolean): Promise<void>;
  deactivatedBefore(cutoff: Date, limit?: number): Promise<Array<{ id: string }>>;
}

export interface RetentionPolicy {
  /** Deactivated accounts are erased this many days after deactivation; 0 turns the rule off. */
  days: number;
}

export interface Actor {
  id: string;
  via: 'admin' | 'retention' | 'self';
}

/** The erasure record's id: derived from the account id, which the record itself does not keep once done. */
export const erasureId = (userId: string) => createHash('sha256').update(`erasure:${userId}`).digest('hex').slice(0, 32);

export class PrivacyService {
  constructor(
    private readonly m: PrivacyModels,
    private readonly registry: PersonalDataRegistry,
    private readonly accounts: () => Accounts,
    private readonly endSessions: (userId: string) => Promise<number>,
    /** Waits until after-events already recorded are delivered (none may land after a step). */
    private readonly settle: () => Promise<void>,
    private readonly baseUrl: string,
    readonly retention: RetentionPolicy,
    private readonly log: Logger,
  ) {}

  /** What every plugin declares it keeps, for the person's page and the admin's. */
  holdings() {
    return this.registry.list().map(([plugin, p]) => ({ plugin, items: p.holds }));
  }

  /**
   * Everything held about the person as one zip: `<plugin>/<name>.json` per plugin (and the
   * files a plugin adds, e.g. certificate PDFs), with `manifest.json` listing what each holds.
   */
  async exportArchive(userId: string, by: Actor): Promise<{ stream: Readable; fileName: string }> {
    const user = await this.accounts().findById(userId);
    if (!user) throw new HttpError(404, 'No such person', { key: 'core:errors.404.body' });
    const subject = dataSubject(this.baseUrl, user, '');
    const zip = new yazl.ZipFile();
    const mtime = new Date();
    const contents: Record<string, string[]> = {};
    for (const [plugin, provider] of this.registry.list()) {
      const names: string[] = (contents[plugin] = []);
      const add = (name: string, data: Buffer) => {
        if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(name) || name.includes('..')) throw new Error(`${plugin}: bad archive name ${name}`);
        names.push(`${plugin}/${name}`);
        zip.addBuffer(data, `${plugin}/${name}`, { mtime });
      };
      await provider.export(subject, {
        json: (name, data) => add(`${name}.json`, Buffer.from(JSON.stringify(data, null, 2) + '\n', 'utf8')),
        file: add,
      });
    }
    const manifest = {
      generatedAt: mtime.toISOString(),
      server: this.baseUrl,
      person: { id: user.id, email: user.email, name: user.name },
      plugins: Object.fromEntries(this.holdings().map(({ plugin, items }) => [plugin, { holds: items, files: contents[plugin] }])),
    };
    zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8'), 'manifest.json', { mtime });
    zip.end();
    await this.audit({ action: 'export', actorId: by.id, subject: userId, via: by.via });
    return {
      stream: zip.outputStream as unknown as Readable,
      fileName: `personal-data-${user.id}-${mtime.toISOString().slice(0, 10)}.zip`,
    };
  }

  unfinished(): Promise<Erasure[]> {
    return this.m.erasures.find({ status: 'running' }).sort({ startedAt: -1 }).limit(200).lean<Erasure[]>();
  }

  recentAudit(limit = 100) {
    return this.m.audit.find().sort({ at: -1 }).limit(limit).lean();
  }

  /**
   * Erases a person: deactivates the account and ends its sessions, then runs every plugin's
   * erase step (dependents first, the account itself last) and records each step as done.
   * Calling it again after a failure or a crash completes the same erasure with the same
   * pseudonym; calling it for a finished erasure changes nothing.
   */
  async erase(userId: string, by: Actor): Promise<Erasure> {
    const id = erasureId(userId);
    let record = await this.m.erasures.findById(id).lean<Erasure>();
    if (record?.status === 'done') return record;
    if (!record) {
      if (by.id === userId) throw new HttpError(409, 'An administrator cannot erase their own account', { key: 'privacy:errors.self' });
      const user = await this.accounts().findById(userId);
      if (!user) throw new HttpError(404, 'No such person', { key: 'core:errors.404.body' });
      const fresh: Erasure = {
        _id: id,
        status: 'running',
        steps: [],
        pseudonym: `erased-${randomBytes(16).toString('hex')}`,
        userId,
        email: user.email,
        name: user.name,
        via: by.via === 'retention' ? 'retention' : 'admin',
        requestedBy: by.id,
        startedAt: new Date(),
        attempts: 1,
      };
      try {
        await this.m.erasures.create(fresh);
        record = fresh;
        await this.audit({ action: 'erase.start', actorId: by.id, subject: id, via: by.via });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        record = (await this.m.erasures.findById(id).lean<Erasure>())!; // started by someone else a moment ago
      }
    } else {
      await this.m.erasures.updateOne({ _id: id }, { $inc: { attempts: 1 } });
      await this.audit({ action: 'erase.resume', actorId: by.id, subject: id, via: by.via });
    }
    return this.run(record, by);
  }

  /** Finishes an unfinished erasure found by its own id (the account may be gone already). */
  async resume(id: string, by: Actor): Promise<Erasure> {
    const record = await this.m.erasures.findById(String(id)).lean<Erasure>();
    if (!record) throw new HttpError(404, 'No such erasure', { key: 'core:errors.404.body' });
    if (record.status === 'done') return record;
    await this.m.erasures.updateOne({ _id: record._id }, { $inc: { attempts: 1 } });
    await this.audit({ action: 'erase.resume', actorId: by.id, subject: record._id, via: by.via });
    return this.run(record, by);
  }

  private async run(record: Erasure, by: Actor): Promise<Erasure> {
    const userId = record.userId!;
    const subject: DataSubject = dataSubject(this.baseUrl, { id: userId, email: record.email!, name: record.name! }, record.pseudonym!);
    const done = new Set(record.steps);
    try {
      // Nothing new about the person may arrive while their data is being erased.
      await this.accounts()
        .setActive(userId, false)
        .catch((err: unknown) => {
          if (!(err instanceof HttpError && err.status === 404)) throw err;
        });
      await this.endSessions(userId);
      await this.settle();
      for (const [plugin, provider] of this.registry.list().reverse()) {
        if (done.has(plugin)) continue;
        await provider.erase(subject);
        await this.m.erasures.updateOne({ _id: record._id }, { $addToSet: { steps: plugin } });
      }
    } catch (err) {
      const message = (err as Error).message;
      await this.m.erasures.updateOne({ _id: record._id }, { $set: { lastError: message } });
      await this.audit({ action: 'erase.fail', actorId: by.id, subject: record._id, via: by.via, detail: message });
      this.log.error({ err, erasure: record._id }, 'erasure stopped before it finished');
      throw new HttpError(503, `The erasure stopped before it finished (${message}); run it again to complete it`, {
        key: 'privacy:errors.interrupted',
      });
    }
    await this.m.erasures.updateOne(
      { _id: record._id },
      { $set: { status: 'done', finishedAt: new Date() }, $unset: { userId: 1, email: 1, name: 1, pseudonym: 1, lastError: 1 } },
    );
    await this.audit({ action: 'erase.done', actorId: by.id, subject: record._id, via: by.via });
    return (await this.m.erasures.findById(record._id).lean<Erasure>())!;
  }

  /**
   * The retention rule: finishes interrupted erasures, then erases accounts deactivated more
   * than `days` ago. Returns how many people it erased.
   */
  async runRetention(now = new Date()): Promise<number> {
    const by: Actor = { id: 'retention', via: 'retention' };
    for (const r of await this.unfinished()) {
      await this.resume(r._id, by).catch((err: unknown) => this.log.warn({ err, erasure: r._id }, 'could not finish an erasure'));
    }
    if (!this.retention.days) return 0;
    const cutoff = new Date(now.getTime() - this.retention.days * 86400_000);
    let erased = 0;
    // Batches until none is left; a person whose erasure fails stops the run (tried again next time).
    for (;;) {
      const due = await this.accounts().deactivatedBefore(cutoff, 100);
      if (!due.length) break;
      for (const u of due) {
        await this.erase(u.id, by);
        erased++;
      }
    }
    if (erased) await this.audit({ action: 'retention', actorId: by.id, via: by.via, detail: `${erased} erased` });
    return erased;
  }

  private async audit(entry: Omit<PrivacyAuditEntry, 'at'>): Promise<void> {
    await this.m.audit.create({ ...entry, at: new Date() });
  }
}
