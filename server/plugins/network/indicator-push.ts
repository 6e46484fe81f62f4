/**
 * Push of indicator sets to hubs, beside the hubs' own pull. A country lists its hubs in
 * `NETWORK_HUBS`; each time it signs a new set it posts the JWS to every hub's
 * `POST /network/indicators`. The hub trusts nothing of the request but the signature: the set is
 * kept only if it verifies with the key the hub's admin pinned for that country (found by the
 * JWS key id), says it comes from that peer's URL, has the set's shape and suppression, and is
 * not older than what the hub has (a replayed old set cannot roll figures back).
 */
import type { FlattenedJWS, JWK } from 'jose';
import { decodeProtectedHeader } from 'jose';
import { HttpError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { INDICATORS_TYPE, IndicatorPayload } from './indicators';
import type { IndicatorSummary, NetworkModels, Peer } from './network.model';
import { checkSuppression, normaliseUrl } from './peers';
import { verify } from './signing';
import { storeIndicatorSet } from './summaries';

const PUSH_TIMEOUT_MS = 30_000;
const MESSAGE_MAX = 500;

/** `NETWORK_HUBS`: comma-separated hub base URLs (https, or http on the loopback interface). */
export function parseHubs(raw: string | undefined): string[] {
  const hubs = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return [
    ...new Set(
      hubs.map((h) => {
        try {
          return normaliseUrl(h);
        } catch (err) {
          throw new Error(`NETWORK_HUBS: ${(err as Error).message}`, { cause: err });
        }
      }),
    ),
  ];
}

/** What a hub said, short: its error message when it answered one in JSON, else the start of its text. */
async function hubSays(res: Response): Promise<string> {
  const text = (await res.text()).slice(0, 4000);
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof body?.error?.message === 'string') return body.error.message.slice(0, MESSAGE_MAX);
    return res.ok ? '' : text.slice(0, MESSAGE_MAX);
  } catch {
    return text.slice(0, MESSAGE_MAX);
  }
}

/**
 * Posts a signed set to every hub; a hub that refuses or is down is logged (it still pulls), and
 * each hub's outcome is kept in `network_hub_pushes` for the admin page.
 */
export async function pushToHubs(
  m: NetworkModels,
  hubs: string[],
  jws: unknown,
  generatedAt: Date,
  log: Logger,
): Promise<Array<{ hub: string; status?: number; accepted: boolean; message: string }>> {
  return Promise.all(
    hubs.map(async (hub) => {
      let result: { hub: string; status?: number; accepted: boolean; message: string };
      try {
        const res = await fetch(`${hub}/network/indicators`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(jws),
          redirect: 'error',
          signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
        });
        const message = await hubSays(res);
        if (!res.ok) log.warn({ hub, status: res.status, message }, 'network: a hub refused our indicator set');
        result = { hub, status: res.status, accepted: res.ok, message };
      } catch (err) {
        const cause = (err as Error).cause as Error | undefined;
        const message = `${(err as Error).message}${cause?.message ? ` (${cause.message})` : ''}`.slice(0, MESSAGE_MAX);
        log.warn({ hub, err: message }, 'network: a hub could not be reached with our indicator set');
        result = { hub, accepted: false, message };
      }
      const { hub: _id, ...outcome } = result;
      // Replaced whole: an unreachable hub leaves no status of an earlier answer behind.
      await m.hubPushes.replaceOne({ _id }, { _id, at: new Date(), generatedAt, ...outcome }, { upsert: true });
      return result;
    }),
  );
}

/** The hub's side: verifies a pushed set and stores it as the peer's, or refuses it storing nothing. */
export async function receiveIndicators(m: NetworkModels, body: unknown): Promise<{ country: string; stored: boolean }> {
  const jws = body as FlattenedJWS;
  if (!jws || typeof jws !== 'object' || typeof jws.protected !== 'string' || typeof jws.payload !== 'string') {
    throw new HttpError(400, 'The body must be a signed indicator set (a flattened JWS)', { key: 'network:errors.pushBody' });
  }
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(jws).kid;
  } catch {
    throw new HttpError(400, 'The JWS protected header is not readable', { key: 'network:errors.pushBody' });
  }
  const candidates = typeof kid === 'string' ? await m.peers.find({ thumbprint: kid }).lean<Peer[]>() : [];
  if (!candidates.length) {
    throw new HttpError(403, `This hub follows no instance with the key ${String(kid)}; its admin adds the country first`, {
      key: 'network:errors.pushUnknown',
    });
  }
  // Same thumbprint, same key: one verification serves every candidate.
  const parsed = IndicatorPayload.safeParse(await verify(jws, candidates[0].jwk as JWK, INDICATORS_TYPE, 'the indicator set'));
  if (!parsed.success)
    throw new HttpError(422, `the indicator set: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  const p = parsed.data;
  let origin: string;
  try {
    origin = normaliseUrl(p.publisher.origin);
  } catch {
    origin = p.publisher.origin;
  }
  const peer = candidates.find((c) => c._id === origin);
  if (!peer)
    throw new HttpError(422, `the indicator set says it comes from ${p.publisher.origin}, not from the instance its key is pinned for`);
  checkSuppression(p);
  const had = await m.summaries.findById(peer._id).lean<Pick<IndicatorSummary, 'generatedAt'>>();
  const generatedAt = new Date(p.generatedAt);
  if (had && had.generatedAt > generatedAt) {
    throw new HttpError(409, `the hub already has a newer set of ${p.publisher.country} (${had.generatedAt.toISOString()})`);
  }
  await storeIndicatorSet(m, {
    _id: peer._id,
    country: p.publisher.country,
    publisher: p.publisher.publisher,
    generatedAt,
    jws: jws as unknown as Record<string, unknown>,
    payload: p as unknown as Record<string, unknown>,
    verifiedAt: new Date(),
    via: 'push',
  });
  return { country: p.publisher.country, stored: true };
}
