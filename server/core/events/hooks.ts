/**
 * Events between plugins, of two kinds, both declared in the plugins' manifests:
 * - **checks** (`*.validate`): run inside the write that asks, awaited in registration order; a
 *   handler that throws vetoes the write (e.g. cmi5 rules rejecting a statement with 403);
 * - **after-events** (everything else): notifications that something was written. They are
 *   recorded in the outbox with the write and delivered afterwards by the worker of some
 *   process, so the request does not wait for them and a crash does not lose them. Handlers must
 *   be idempotent: a delivery interrupted by a crash is delivered again.
 */
import type { HookEvents } from '../services';
import { decodePayload, encodePayload, type Outbox } from './outbox';

export type Handler<T> = (payload: T) => void | Promise<void>;

export const isCheck = (event: string): boolean => event.endsWith('.validate');

/** How an after-event is keyed in the outbox, and what it means. */
export interface AfterEventSpec<T> {
  description: string;
  /** The natural id of one occurrence: the same write recorded twice is delivered once. */
  key: (payload: T) => string;
  /** Occurrences of one group are delivered in the order they were recorded. */
  group?: (payload: T) => string | undefined;
}

/** What a manifest says about events: the flow of the whole system is the union of these. */
export interface EventDeclarations {
  /** After-events this plugin emits. */
  emits?: { [K in keyof HookEvents & string]?: AfterEventSpec<HookEvents[K]> };
  /** Checks (`*.validate`) this plugin runs before its writes, with what they guard. */
  checks?: Partial<Record<keyof HookEvents & string, string>>;
  /** Events this plugin handles, with what it does then. */
  on?: Partial<Record<keyof HookEvents & string, string>>;
}

interface Subscriber {
  consumer: string;
  handler: Handler<never>;
  when?: (payload: never) => boolean;
}

/**
 * How a handler subscribes: `consumer` names it in the outbox (a plugin's name; the same in every
 * process); `when` says which occurrences it wants at all (e.g. catalog only AU sessions' batches),
 * so the others are never queued for it.
 */
export interface SubscribeOptions<T> {
  consumer?: string;
  when?: (payload: T) => boolean;
}

/** One event to record with a write. */
export interface Emission<K extends keyof HookEvents & string = keyof HookEvents & string> {
  event: K;
  payload: HookEvents[K];
}

export class Hooks {
  private readonly subscribers = new Map<string, Subscriber[]>();
  private readonly specs = new Map<string, { owner: string; spec: AfterEventSpec<never> }>();
  private readonly checks = new Map<string, { owner: string; description: string }>();
  private readonly handled = new Map<string, Map<string, string>>();
  private readonly recovers = new Map<string, (payload: never) => Promise<unknown>>();
  private outbox?: Outbox;
  private wake: () => void = () => {};
  private handOff: (ids: string[]) => Promise<void> = async (ids) => {
    await this.outbox?.release(ids);
    this.wake();
  };
  private pollMs = 250;

  /** Reads a plugin's manifest declarations; a malformed one stops start-up naming the plugin. */
  declare(plugin: string, d: EventDeclarations = {}): void {
    for (const [event, spec] of Object.entries(d.emits ?? {})) {
      if (isCheck(event)) throw new Error(`Plugin "${plugin}" declares the check "${event}" under emits (checks go under checks).`);
      if (!event.startsWith(`${plugin}.`)) throw new Error(`Event "${event}" of plugin "${plugin}" must start with "${plugin}.".`);
      this.specs.set(event, { owner: plugin, spec: spec as AfterEventSpec<never> });
    }
    for (const [event, description] of Object.entries(d.checks ?? {}) as Array<[string, string]>) {
      if (!isCheck(event)) throw new Error(`Plugin "${plugin}" declares "${event}" as a check; checks are named *.validate.`);
      if (!event.startsWith(`${plugin}.`)) throw new Error(`Event "${event}" of plugin "${plugin}" must start with "${plugin}.".`);
      this.checks.set(event, { owner: plugin, description });
    }
    this.handled.set(plugin, new Map(Object.entries(d.on ?? {}) as Array<[string, string]>));
  }

  /**
   * Connects the outbox (after-events are recorded there), the local worker (`wake`: look for
   * work now; `handOff`: take the entries of a write just done, see `EventWorker.handOff`) and how
   * often to look for deliveries made by other processes (`EVENTS_POLL_MS`).
   */
  attach(outbox: Outbox, worker: { wake(): void; handOff(ids: string[]): Promise<void> }, pollMs = 250): void {
    this.outbox = outbox;
    this.wake = () => worker.wake();
    this.handOff = (ids) => worker.handOff(ids);
    this.pollMs = pollMs;
  }

  /**
   * Subscribes `handler` (see `SubscribeOptions`); plugins get a view of the hooks that names the
   * consumer after them and checks their manifest.
   */
  on<K extends keyof HookEvents & string>(
    event: K,
    handler: Handler<HookEvents[K]>,
    opts: string | SubscribeOptions<HookEvents[K]> = {},
  ): void {
    const { consumer = 'app', when } = typeof opts === 'string' ? { consumer: opts } : opts;
    const list = this.subscribers.get(event) ?? [];
    let name = consumer;
    for (let i = 2; list.some((s) => s.consumer === name); i++) name = `${consumer}#${i}`;
    list.push({ consumer: name, handler: handler as Handler<never>, when: when as ((p: never) => boolean) | undefined });
    this.subscribers.set(event, list);
  }

  /**
   * The emitter's word on an occurrence whose write was never confirmed (the process died
   * between recording and writing): the payload that did happen, or undefined if nothing did.
   */
  recover<K extends keyof HookEvents & string>(event: K, fn: (payload: HookEvents[K]) => Promise<HookEvents[K] | undefined>): void {
    this.recovers.set(event, fn as (payload: never) => Promise<unknown>);
  }

  /** A plugin's view: handlers are named after it and must be declared in its manifest. */
  forPlugin(plugin: string): Hooks {
    const view = Object.create(this) as Hooks;
    view.on = (event, handler, opts = {}) => {
      if (!this.handled.get(plugin)?.has(event)) {
        throw new Error(`Plugin "${plugin}" handles "${event}" without declaring it in its manifest (events.on).`);
      }
      this.on(event, handler, { when: typeof opts === 'string' ? undefined : opts.when, consumer: plugin });
    };
    view.undelivered = (event, group) => this.undelivered(event, group, plugin);
    return view;
  }

  /** Whether any handler wants this occurrence (an emitter may then skip recording one that needs no recovery either). */
  wanted<K extends keyof HookEvents & string>(event: K, payload: HookEvents[K]): boolean {
    return (this.subscribers.get(event) ?? []).some((s) => !s.when || s.when(payload as never));
  }

  /**
   * Occurrences of `event` in `group` recorded but not yet delivered to `consumer`, oldest first:
   * a consumer that keeps state for a check (the cmi5 session rules) counts them as if delivered.
   */
  async undelivered<K extends keyof HookEvents & string>(event: K, group: string, consumer = 'app'): Promise<Array<HookEvents[K]>> {
    if (!this.outbox) return [];
    const rows = await this.outbox.m.entries.find({ group, event, pending: consumer }, { payload: 1, seq: 1 }).sort({ seq: 1 }).lean();
    return rows.map((r) => decodePayload(r.payload) as HookEvents[K]);
  }

  /**
   * Waits (at most `timeoutMs`) until no occurrence of `event` in `group` is left to deliver (those
   * that gave up do not count). For a writer whose client must find the follow-up of its earlier
   * writes in place before the next one (a cmi5 AU: the LMS's "satisfied" statements are stored
   * before the AU's next statement). Returns whether the group caught up in time.
   */
  async caughtUp<K extends keyof HookEvents & string>(event: K, group: string, timeoutMs: number): Promise<boolean> {
    const outbox = this.outbox;
    if (!outbox) return true;
    const pending = () => outbox.m.entries.exists({ group, event, state: { $ne: 'failed' } });
    if (!(await pending())) return true;
    // Usually this process's worker delivers them and says so at once; the database is read again
    // then, or every poll interval for a delivery by another process. (Polling every 15 ms, 20
    // waiting AUs made over 1,000 reads a second on the engine the deliveries themselves need.)
    let wakeUp = () => {};
    const onSettled = () => wakeUp();
    const name = `group:${group}`;
    outbox.settledHere.on(name, onSettled);
    this.wake();
    try {
      for (const end = Date.now() + timeoutMs; Date.now() < end;) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.min(this.pollMs, Math.max(0, end - Date.now())));
          wakeUp = () => (clearTimeout(t), r());
        });
        if (!(await pending())) return true;
      }
      return false;
    } finally {
      outbox.settledHere.off(name, onSettled);
    }
  }

  /**
   * A check runs its handlers now (awaited, may throw to veto). An after-event is recorded in the
   * outbox and delivered later; call it once the write it reports is done.
   */
  async emit<K extends keyof HookEvents & string>(event: K, payload: HookEvents[K]): Promise<void> {
    if (isCheck(event)) {
      for (const s of this.subscribers.get(event) ?? []) await (s.handler as Handler<HookEvents[K]>)(payload);
      return;
    }
    await this.record([{ event, payload } as Emission], undefined);
  }

  /**
   * Records after-events *before* `write` runs and releases them once it is done: if the process
   * dies in between, they are delivered anyway after their hold expires (asking `recover` what
   * happened); if `write` throws, or calls `withdraw` (it turned out to change nothing), the
   * entries this call recorded are removed.
   */
  async emitWith<T>(emissions: Emission[], write: (withdraw: () => Promise<void>) => Promise<T>): Promise<T> {
    return this.record(emissions, write);
  }

  private async record<T>(emissions: Emission[], write: ((withdraw: () => Promise<void>) => Promise<T>) | undefined): Promise<T> {
    const items = emissions.flatMap(({ event, payload }) => {
      const declared = this.specs.get(event);
      if (!declared) throw new Error(`After-event "${event}" is not declared in any enabled plugin's manifest (events.emits).`);
      const pending = (this.subscribers.get(event) ?? []).filter((s) => !s.when || s.when(payload as never)).map((s) => s.consumer);
      // Nobody wants it: still recorded (held) around a write whose emitter finishes it after a
      // crash (`recover`), then dropped instead of queued, so the worker never sees it.
      if (!pending.length && !(write && this.recovers.has(event))) return [];
      const key = declared.spec.key(payload as never);
      const group = declared.spec.group?.(payload as never);
      return [{ _id: `${event}|${key}`, event, key, ...(group ? { group } : {}), payload: encodePayload(payload), pending }];
    });
    if (!this.outbox) throw new Error('after-events need the outbox (the app attaches it at start-up)');
    const rows = items;
    if (!write) {
      if (rows.length) await this.outbox.record(rows, false);
      if (rows.length) this.wake();
      return undefined as T;
    }
    const inserted = rows.length ? await this.outbox.record(rows, true) : [];
    const mine = new Set(inserted);
    const outbox = this.outbox;
    const withdraw = () => outbox.cancel(inserted.splice(0));
    let result: T;
    try {
      result = await write(withdraw);
    } catch (err) {
      await withdraw();
      throw err;
    }
    const wanted = rows.filter((r) => r.pending.length);
    const unwanted = rows.filter((r) => !r.pending.length);
    // Also entries an earlier, interrupted attempt of the same write left held.
    if (wanted.length) await this.handOff(wanted.map((r) => r._id));
    // Only this call's: one an interrupted attempt left is still finished by `recover` when due.
    const drop = unwanted.filter((r) => mine.has(r._id)).map((r) => r._id);
    if (drop.length) await this.outbox.drop(drop);
    return result;
  }

  /** Used by the worker. */
  subscriber(event: string, consumer: string): Handler<unknown> | undefined {
    return this.subscribers.get(event)?.find((s) => s.consumer === consumer)?.handler as Handler<unknown> | undefined;
  }

  recoverer(event: string): ((payload: unknown) => Promise<unknown>) | undefined {
    return this.recovers.get(event) as ((payload: unknown) => Promise<unknown>) | undefined;
  }

  count(event: string): number {
    return this.subscribers.get(event)?.length ?? 0;
  }

  /** The whole flow as rows: event, kind, who emits it (and what it means), who handles it and how. */
  table(): Array<{ event: string; kind: 'check' | 'after'; emitter: string; description: string; handlers: Array<[string, string]> }> {
    const events = new Set<string>([...this.specs.keys(), ...this.checks.keys()]);
    for (const m of this.handled.values()) for (const e of m.keys()) events.add(e);
    return [...events].map((event) => {
      const spec = this.specs.get(event);
      const handlers = [...this.handled.entries()].flatMap(([p, m]) => (m.has(event) ? [[p, m.get(event)!] as [string, string]] : []));
      return {
        event,
        kind: isCheck(event) ? ('check' as const) : ('after' as const),
        emitter: spec?.owner ?? this.checks.get(event)?.owner ?? '—',
        description: spec?.spec.description ?? this.checks.get(event)?.description ?? '',
        handlers,
      };
    });
  }
}

/** The flow as a Markdown table (README, `lms events:table`): one row per event. */
export function eventTableMarkdown(hooks: Hooks): string {
  const rows = hooks
    .table()
    .sort((a, b) => a.event.localeCompare(b.event))
    .map((r) => {
      const handlers = r.handlers.map(([p, what]) => `**${p}**: ${what}`).join('<br>') || '—';
      return `| \`${r.event}\` | ${r.kind === 'check' ? 'check (awaited, may veto)' : 'after-event (outbox)'} | ${r.emitter} | ${r.description || '—'} | ${handlers} |`;
    });
  return ['| event | kind | emitted by | meaning | handled by | ', '|---|---|---|---|---|', ...rows].join('\n').replace('| \n', '|\n');
}
