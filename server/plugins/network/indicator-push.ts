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

/** Posts a signed set to every hub; a hub that refuses or is down is logged (it still pulls). */
export async function pushToHubs(hubs: string[], jws: unknown, log: Logger): Promise<Array<{ hub: string; status: number | string }>> {
  return Promise.all(
    hubs.map(async (hub) => {
      try {
        const res = await fetch(`${hub}/network/indicators`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(jws),
          redirect: 'error',
          signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
        });
        if (!res.ok)
          log.warn({ hub, status: res.status, body: (await res.text()).slice(0, 300) }, 'network: a hub refused our indicator set');
        else await res.body?.cancel();
        return { hub, status: res.status };
      } catch (err) {
        log.warn({ hub, err: (err as Error).message }, 'network: a hub could not be reached with our indicator set');
        return { hub, status: (err as Error).message };
      }
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
