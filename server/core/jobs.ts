/**
 * Periodic background jobs, in one registry so that every timer of the product is configurable
 * (its interval is an environment variable), logs its failures the same way, and can be run on
 * demand — by `npm run lms -- jobs:run NAME` and by the tests, which run every registered job and
 * then use the server on the same database connections.
 *
 * Plugins register jobs in `register(ctx)` with `ctx.jobs.every(...)`; the timers start only when
 * the server starts (`LmsApp.start()`), never in CLI commands, and stop when it closes.
 */
import type { Logger } from './log';

export interface JobSpec {
  /** `<plugin>.<what>`, e.g. `core.sessions-cleanup`. */
  name: string;
  /** Environment variable holding the interval, a duration such as `90s`, `10m`, `24h`. */
  intervalVar: string;
  defaultInterval: string;
  /** Delay before the first run (a duration); the interval when absent. */
  firstRunAfter?: string;
  run(): Promise<unknown>;
}

export interface JobStatus {
  name: string;
  intervalVar: string;
  everyMs: number;
  runs: number;
  failures: number;
  lastRunAt?: Date;
  lastError?: string;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** `250ms`, `30s`, `10m`, `24h`, `7d` → milliseconds; a bare number is seconds. */
export function parseDuration(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNITS[m[2] ?? 's'];
  return ms > 0 && Number.isFinite(ms) ? Math.round(ms) : undefined;
}

interface Entry {
  spec: JobSpec;
  status: JobStatus;
  firstMs: number;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
}

export class Jobs {
  private readonly entries = new Map<string, Entry>();
  private started = false;

  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly log: Logger,
  ) {}

  /** Registers a job; a bad interval stops start-up naming its variable. */
  every(spec: JobSpec): void {
    if (this.entries.has(spec.name)) throw new Error(`Two jobs are named "${spec.name}".`);
    const raw = this.env[spec.intervalVar] ?? spec.defaultInterval;
    const everyMs = parseDuration(raw);
    if (!everyMs) throw new Error(`${spec.intervalVar} must be a duration such as 90s, 10m or 24h (got "${raw}").`);
    const firstMs = spec.firstRunAfter ? Math.min(parseDuration(spec.firstRunAfter) ?? everyMs, everyMs) : everyMs;
    const entry: Entry = { spec, firstMs, status: { name: spec.name, intervalVar: spec.intervalVar, everyMs, runs: 0, failures: 0 } };
    this.entries.set(spec.name, entry);
    if (this.started) this.schedule(entry, firstMs);
  }

  list(): JobStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e.status }));
  }

  /**
   * Runs a job now and waits for it (a run already under way is waited for instead of being
   * doubled). Rejects with the job's error, which the timer only logs.
   */
  async run(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`No job named "${name}" (jobs: ${[...this.entries.keys()].join(', ')}).`);
    if (entry.running) return entry.running;
    entry.running = (async () => {
      entry.status.lastRunAt = new Date();
      try {
        await entry.spec.run();
        entry.status.lastError = undefined;
      } catch (err) {
        entry.status.failures++;
        entry.status.lastError = (err as Error).message;
        throw err;
      } finally {
        entry.status.runs++;
        entry.running = undefined;
      }
    })();
    return entry.running;
  }

  /** Starts every job's timer (server only). */
  start(): void {
    this.started = true;
    for (const e of this.entries.values()) this.schedule(e, e.firstMs);
  }

  stop(): void {
    this.started = false;
    for (const e of this.entries.values()) clearTimeout(e.timer);
  }

  /** Waits for runs under way (on close, so a job does not outlive the database connection). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((e) => e.running));
  }

  private schedule(entry: Entry, delay: number): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      this.run(entry.spec.name)
        .catch((err) => this.log.error({ err, job: entry.spec.name }, `job ${entry.spec.name} failed`))
        .finally(() => {
          if (this.started) this.schedule(entry, entry.status.everyMs);
        });
    }, delay);
    entry.timer.unref();
  }
}
