/**
 * The observatory's JSON export, written as it is read: the set headers first, then every
 * observation (Observatory.flat) in chunks, waiting whenever the client is slower — a hub of 33
 * countries × 60 months is 24 MB that never has to be one string in memory.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Observatory, type ExportSet } from './observatory';

const CHUNK = 64 * 1024;

export async function writeJsonExport(sets: ExportSet[], out: Writable): Promise<void> {
  const send = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const countries = sets.map((c) => ({
    country: c.country,
    publisher: c.publisher,
    origin: c.origin,
    generatedAt: c.generatedAt,
    k: c.k,
    rule: c.rule,
    ...(c.via ? { via: c.via } : {}),
  }));
  await send(`{"generatedAt":${JSON.stringify(new Date().toISOString())},"countries":${JSON.stringify(countries)},"observations":[`);
  let chunk = '';
  let first = true;
  for await (const o of Observatory.flat(sets)) {
    if (out.destroyed) return; // the client went away: stop reading
    chunk += (first ? '' : ',') + JSON.stringify(o);
    first = false;
    if (chunk.length >= CHUNK) {
      await send(chunk);
      chunk = '';
    }
  }
  await send(`${chunk}]}`);
  out.end();
}
