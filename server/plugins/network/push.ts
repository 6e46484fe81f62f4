/**
 * Push: a publisher tells its subscribers at once that its feed changed, instead of their waiting
 * for the next `network.sync`. A notice carries nothing to trust — only "peer X changed" — and
 * the subscriber answers it by pulling X's signed feed as a sync does, verified with the pinned
 * key; a notice about an instance it does not follow is refused. A subscriber registers its base
 * URL with the peer when an admin adds it; the peer keeps it only if a network key set is served
 * there (so it is an instance, not an arbitrary address), and at most MAX_SUBSCRIBERS of them.
 */
import { HttpError, notFound } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { NetworkModels } from './network.model';
import { getJson, normaliseUrl, type Peers } from './peers';
import { WELL_KNOWN_KEYS } from './signing';

const MAX_SUBSCRIBERS = 1000;
const NOTICE_TIMEOUT_MS = 10_000;

export class Push {
  /** Peers being pulled because of a notice: a second notice meanwhile is answered by that pull. */
  private readonly pulling = new Map<string, Promise<void>>();

  constructor(
    private readonly m: NetworkModels,
    private readonly peers: Peers,
    private readonly log: Logger,
    private readonly selfUrl: string,
  ) {}

  /** A subscriber asks to be told of changes (POST /network/subscribers). */
  async register(rawUrl: string): Promise<string> {
    const url = normaliseUrl(rawUrl);
    const keys = (await getJson(`${url}${WELL_KNOWN_KEYS}`, 'the subscriber key set')) as { keys?: unknown };
    if (!Array.isArray(keys?.keys)) throw new HttpError(422, `${url} serves no network key set at ${WELL_KNOWN_KEYS}`);
    if (!(await this.m.subscribers.exists({ _id: url })) && (await this.m.subscribers.countDocuments({})) >= MAX_SUBSCRIBERS)
      throw new HttpError(409, `This instance already notifies ${MAX_SUBSCRIBERS} subscribers`);
    await this.m.subscribers.updateOne({ _id: url }, { $setOnInsert: { addedAt: new Date() } }, { upsert: true });
    return url;
  }

  /** Registers this instance with a peer just subscribed to; a peer that does not push is fine (sync pulls). */
  async subscribeTo(peerUrl: string): Promise<boolean> {
    try {
      const res = await fetch(`${peerUrl}/network/subscribers`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ url: this.selfUrl }),
        redirect: 'error',
        signal: AbortSignal.timeout(NOTICE_TIMEOUT_MS),
      });
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Tells every subscriber that this instance's feed changed. */
  async notifyAll(): Promise<{ notified: number; failed: number }> {
    const subs = await this.m.subscribers.find({}).lean<Array<{ _id: string }>>();
    const results = await Promise.allSettled(
      subs.map(async (s) => {
        const res = await fetch(`${s._id}/network/notify`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ peer: this.selfUrl }),
          redirect: 'error',
          signal: AbortSignal.timeout(NOTICE_TIMEOUT_MS),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      }),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed) this.log.warn({ failed, of: subs.length }, 'network: some subscribers could not be notified');
    return { notified: subs.length - failed, failed };
  }

  /** A notice from a peer (POST /network/notify): pull that peer now. */
  async notified(rawPeer: string): Promise<void> {
    const url = normaliseUrl(rawPeer);
    if (!(await this.m.peers.exists({ _id: url }))) throw notFound(`This instance does not follow ${url}`);
    let p = this.pulling.get(url);
    if (!p) {
      p = this.peers.syncOne(url).finally(() => this.pulling.delete(url));
      this.pulling.set(url, p);
    }
    await p;
  }
}
