/**
 * Subscriptions to peer instances. An admin adds a peer by its URL and the thumbprint of its key
 * (given out of band, e.g. read from the peer's own network page); the key is fetched from the
 * peer's well-known URL and kept only if its thumbprint is the pinned one. Every sync then checks
 * each document's signature with that pinned key: a feed or indicator set that does not verify,
 * or does not have the expected shape, changes nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { JWK } from 'jose';
import { z } from 'zod';
import type { CatalogExchange } from '../../core/contracts/catalog';
import { HttpError, notFound } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { FeedCourse, NetworkModels, Peer, RemoteCourse } from './network.model';
import { FEED_TYPE } from './publisher';
import { INDICATORS_TYPE, IndicatorPayload } from './indicators';
import { pinnedKey, verify, WELL_KNOWN_KEYS } from './signing';
import { removeIndicatorSet, storeIndicatorSet } from './summaries';

const isLoopback = (u: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
const TIMEOUT_MS = 30_000;
const MAX_DOC_BYTES = 20 * 1024 * 1024;

/** A peer's base URL: https (plain http only on the loopback interface), no query, no trailing slash. */
export function normaliseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new HttpError(400, `"${raw}" is not a URL`, { key: 'network:errors.url' });
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u))) {
    throw new HttpError(400, `${raw}: a peer must be reached over https://`, { key: 'network:errors.https' });
  }
  if (u.username || u.password || u.search || u.hash)
    throw new HttpError(400, `${raw}: no credentials, query or fragment`, { key: 'network:errors.url' });
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

const Texts = z.record(z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/), z.string().max(20_000));
const code = z.string().max(100);
const FeedCourseSchema = z.object({
  id: z.string().url().max(2000),
  version: z.number().int().min(1),
  title: Texts,
  description: Texts,
  languages: z.array(code).max(50),
  tiers: z.array(code).max(50),
  levels: z.array(code).max(10),
  topics: z.array(code).max(50),
  hours: z.number().min(0).max(10_000),
  license: z.string().min(1).max(100),
  sha256: z.string().regex(/^[a-f0-9]{64}$/),
  size: z.number().int().min(0),
  package: z.string().regex(/^packages\/[a-f0-9]{64}\.zip$/),
  publishedAt: z.string().datetime(),
});
const Publisher = z.object({ publisher: z.string().min(1).max(300), country: z.string().regex(/^([A-Z]{3})?$/), origin: z.string().url() });
export const Feed = z.object({
  type: z.literal('course-feed'),
  version: z.literal(1),
  publisher: Publisher,
  generatedAt: z.string().datetime(),
  courses: z.array(FeedCourseSchema).max(100_000),
});

export class Peers {
  constructor(
    private readonly m: NetworkModels,
    private readonly log: Logger,
    private readonly tmpDir: string,
    private readonly maxPackageBytes: number,
  ) {}

  async list(): Promise<Peer[]> {
    return (await this.m.peers.find({}).lean<Peer[]>()).sort((a, b) => a._id.localeCompare(b._id));
  }

  async get(url: string): Promise<Peer> {
    const p = await this.m.peers.findById(url).lean<Peer>();
    if (!p) throw notFound(`No peer ${url}`);
    return p;
  }

  /** Adds (or re-pins) a peer: its published key must have the pinned thumbprint. */
  async add(rawUrl: string, rawThumbprint: string): Promise<Peer> {
    const url = normaliseUrl(rawUrl);
    const thumbprint = rawThumbprint.trim();
    if (!/^[A-Za-z0-9_-]{43}$/.test(thumbprint)) {
      throw new HttpError(400, 'The key fingerprint must be the 43-character SHA-256 JWK thumbprint', { key: 'network:errors.thumbprint' });
    }
    const jwks = (await getJson(`${url}${WELL_KNOWN_KEYS}`, 'the peer key set')) as { keys?: JWK[] };
    const keys = Array.isArray(jwks?.keys) ? jwks.keys : [];
    let match: JWK | undefined;
    for (const k of keys) if (await pinnedKey(k, thumbprint)) match = k;
    if (!match) {
      throw new HttpError(422, `${url} publishes no Ed25519 key with the thumbprint ${thumbprint}`, { key: 'network:errors.keyMismatch' });
    }
    const jwk = { kty: match.kty, crv: match.crv, x: match.x };
    await this.m.peers.updateOne(
      { _id: url },
      { $set: { jwk, thumbprint }, $setOnInsert: { addedAt: new Date(), courses: 0 } },
      { upsert: true },
    );
    return this.get(url);
  }

  async remove(url: string): Promise<void> {
    const r = await this.m.peers.deleteOne({ _id: url });
    if (!r.deletedCount) throw notFound(`No peer ${url}`);
    await this.m.remote.deleteMany({ peer: url });
    await removeIndicatorSet(this.m, url);
    await this.bump();
  }

  /** Pulls every peer; a peer that fails keeps what it had, with the error shown on the admin page. */
  async syncAll(): Promise<{ ok: number; failed: number }> {
    let ok = 0;
    let failed = 0;
    for (const p of await this.list())
      if (await this.pull(p)) ok++;
      else failed++;
    return { ok, failed };
  }

  /** Pulls one peer (a push notice); its error, if any, is kept beside it as a sync's is. */
  async syncOne(url: string): Promise<void> {
    await this.pull(await this.get(url));
  }

  private async pull(p: Peer): Promise<boolean> {
    try {
      await this.sync(p);
      return true;
    } catch (err) {
      const message = (err as Error).message;
      this.log.warn({ peer: p._id, err: message }, 'network: peer sync failed');
      await this.m.peers.updateOne({ _id: p._id }, { $set: { lastError: message.slice(0, 500), syncedAt: new Date() } });
      return false;
    }
  }

  /** Verifies the peer's feed and indicator set, then replaces what is stored of them. */
  async sync(p: Peer): Promise<void> {
    const jwk = p.jwk as JWK;
    const feed = Feed.safeParse(await verify(await getJson(`${p._id}/network/feed.json`, 'the feed'), jwk, FEED_TYPE, 'the feed'));
    if (!feed.success) throw new HttpError(422, `the feed: ${issue(feed.error)}`);
    let indicators: z.infer<typeof IndicatorPayload> | undefined;
    let indicatorsJws: unknown;
    const res = await fetchBounded(`${p._id}/network/indicators.json`);
    if (res.status !== 404) {
      if (res.status !== 200) throw new HttpError(502, `the indicator set: HTTP ${res.status}`);
      indicatorsJws = JSON.parse(res.body.toString('utf8'));
      const parsed = IndicatorPayload.safeParse(await verify(indicatorsJws, jwk, INDICATORS_TYPE, 'the indicator set'));
      if (!parsed.success) throw new HttpError(422, `the indicator set: ${issue(parsed.error)}`);
      checkSuppression(parsed.data);
      indicators = parsed.data;
    }
    // Everything verified: now store.
    const f = feed.data;
    const docs: RemoteCourse[] = f.courses.map((c) => ({
      ...(c as FeedCourse),
      _id: `${p._id}|${c.id}`,
      peer: p._id,
      publisher: f.publisher.publisher,
      origin: f.publisher.origin,
      packageUrl: new URL(c.package, `${p._id}/network/feed.json`).href,
    }));
    if (docs.length)
      await this.m.remote.bulkWrite(docs.map((d) => ({ replaceOne: { filter: { _id: d._id }, replacement: d, upsert: true } })));
    await this.m.remote.deleteMany({ peer: p._id, _id: { $nin: docs.map((d) => d._id) } });
    if (indicators) {
      await storeIndicatorSet(this.m, {
        _id: p._id,
        country: indicators.publisher.country,
        publisher: indicators.publisher.publisher,
        generatedAt: new Date(indicators.generatedAt),
        jws: indicatorsJws as Record<string, unknown>,
        payload: indicators as unknown as Record<string, unknown>,
        verifiedAt: new Date(),
        via: 'pull',
      });
    }
    await this.m.peers.updateOne(
      { _id: p._id },
      {
        $set: { publisher: f.publisher.publisher, country: f.publisher.country, syncedAt: new Date(), courses: docs.length },
        $unset: { lastError: 1 },
      },
    );
    await this.bump();
  }

  private async bump(): Promise<void> {
    await this.m.state.updateOne({ _id: 'remote' }, { $inc: { gen: 1 } }, { upsert: true });
  }

  /**
   * Imports a peer's course through the catalog's normal importer: the package is downloaded,
   * its SHA-256 compared with the signed feed's, and only then handed over with its provenance.
   */
  async importCourse(catalog: CatalogExchange, peerUrl: string, courseId: string, importedBy?: string) {
    const entry = await this.m.remote.findById(`${peerUrl}|${courseId}`).lean<RemoteCourse>();
    if (!entry) throw notFound(`${peerUrl} publishes no course ${courseId}`);
    await mkdir(this.tmpDir, { recursive: true });
    const file = path.join(this.tmpDir, `${randomBytes(8).toString('hex')}.zip`);
    try {
      const sha256 = await download(entry.packageUrl, file, this.maxPackageBytes);
      if (sha256 !== entry.sha256) {
        throw new HttpError(
          422,
          `The package of ${courseId} is not the one its publisher signed (SHA-256 ${sha256}, signed ${entry.sha256}); nothing was imported`,
          {
            key: 'network:errors.hash',
          },
        );
      }
      return await catalog.importPackage({
        filePath: file,
        expectCourseId: courseId,
        importedBy,
        provenance: {
          origin: entry.origin,
          publisher: entry.publisher,
          originVersion: entry.version,
          license: entry.license,
          sha256,
          importedAt: new Date(),
        },
      });
    } finally {
      await rm(file, { force: true });
    }
  }
}

const issue = (e: z.ZodError) => {
  const i = e.issues[0];
  return `${i.path.join('.') || 'document'}: ${i.message}`;
};

/** A published row below the publisher's own k is a broken publisher: refuse the whole set. */
export function checkSuppression(p: z.infer<typeof IndicatorPayload>): void {
  const small = p.rows.find((r) => r.servants !== undefined && r.servants > 0 && r.servants < p.k);
  if (small) throw new HttpError(422, `the indicator set publishes a row of ${small.servants} servants, below its own threshold ${p.k}`);
}

async function fetchBounded(url: string, max = MAX_DOC_BYTES): Promise<{ status: number; body: Buffer }> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS), headers: { Accept: 'application/json' } });
  } catch (err) {
    throw new HttpError(
      502,
      `${url}: ${(err as Error).cause ? String((err as Error & { cause: Error }).cause.message) : (err as Error).message}`,
      {
        key: 'network:errors.unreachable',
      },
    );
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body ?? []) {
    n += (c as Uint8Array).length;
    if (n > max) throw new HttpError(502, `${url}: larger than ${max} bytes`);
    chunks.push(Buffer.from(c as Uint8Array));
  }
  return { status: res.status, body: Buffer.concat(chunks) };
}

export async function getJson(url: string, what: string): Promise<unknown> {
  const r = await fetchBounded(url);
  if (r.status !== 200) throw new HttpError(502, `${what} (${url}): HTTP ${r.status}`, { key: 'network:errors.unreachable' });
  try {
    return JSON.parse(r.body.toString('utf8'));
  } catch {
    throw new HttpError(422, `${what} (${url}) is not JSON`);
  }
}

/** Streams a package to `file` within the size limit; returns its SHA-256. */
async function download(url: string, file: string, max: number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10 * TIMEOUT_MS) });
  } catch (err) {
    throw new HttpError(502, `${url}: ${(err as Error).message}`, { key: 'network:errors.unreachable' });
  }
  if (res.status !== 200 || !res.body) throw new HttpError(502, `${url}: HTTP ${res.status}`, { key: 'network:errors.unreachable' });
  const hash = createHash('sha256');
  let n = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _e, cb) {
      n += chunk.length;
      if (n > max) return cb(new HttpError(413, `${url}: the package is larger than ${max} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as never), counter, createWriteStream(file));
  return hash.digest('hex');
}
