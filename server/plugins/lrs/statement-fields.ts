/** What the LRS derives from a statement: its lookup fields and its comparison hash. */
import { createHash } from 'node:crypto';
import { isSafeNumber } from 'lossless-json';
import { actorKeys, ifiKey } from './validate/actor';
import type { Obj } from './validate/primitives';
import type { MatchFields } from './statement.model';
import { isLosslessNumber } from './exact-json';

function activitiesOf(s: Obj): string[] {
  const ids: string[] = [];
  const obj = s.object as Obj;
  if ((obj.objectType ?? 'Activity') === 'Activity') ids.push(obj.id as string);
  const ca = (s.context as Obj | undefined)?.contextActivities as Obj | undefined;
  for (const v of Object.values(ca ?? {})) for (const a of Array.isArray(v) ? v : [v]) ids.push((a as Obj).id as string);
  return ids;
}

function agentsOf(s: Obj): string[] {
  const keys = [...actorKeys(s.actor as Obj, true)];
  const obj = s.object as Obj;
  if (obj.objectType === 'Agent' || obj.objectType === 'Group') keys.push(...actorKeys(obj, true));
  const ctx = s.context as Obj | undefined;
  keys.push(...actorKeys(ctx?.instructor as Obj, true), ...actorKeys(ctx?.team as Obj, true));
  for (const c of (ctx?.contextAgents as Obj[] | undefined) ?? []) keys.push(...actorKeys(c.agent as Obj, false));
  for (const c of (ctx?.contextGroups as Obj[] | undefined) ?? []) keys.push(...actorKeys(c.group as Obj, true));
  return keys;
}

const uniq = (xs: string[]) => [...new Set(xs)];

export function matchFields(s: Obj): MatchFields {
  const obj = s.object as Obj;
  const agents = actorKeys(s.actor as Obj, true);
  if (obj.objectType === 'Agent' || obj.objectType === 'Group') agents.push(...actorKeys(obj, true));
  const relAgents = agentsOf(s);
  const relActs = activitiesOf(s);
  relAgents.push(...actorKeys(s.authority as Obj, true));
  if (obj.objectType === 'SubStatement') {
    relAgents.push(...agentsOf(obj));
    relActs.push(...activitiesOf(obj));
  }
  const reg = (s.context as Obj | undefined)?.registration as string | undefined;
  return {
    agents: uniq(agents),
    relAgents: uniq(relAgents),
    verb: (s.verb as Obj).id as string,
    activity: (obj.objectType ?? 'Activity') === 'Activity' ? (obj.id as string) : undefined,
    relActs: uniq(relActs),
    reg: reg?.toLowerCase(),
  };
}

/**
 * JSON with object keys sorted, so equal data gives equal text. A number is written as the double
 * it stands for when that is exact (1.0 equals 1), else as sent (12345678901234567890 and
 * 12345678901234567891 differ).
 */
export function canonicalJson(v: unknown): string {
  if (isLosslessNumber(v)) return isSafeNumber(v.value) ? JSON.stringify(parseFloat(v.value)) : v.value;
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Obj)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Durations compare at 0.01 s precision (xAPI 2.0 4.2.7): "PT1.2345S" equals "PT1.23S". */
const truncateDuration = (d: string) =>
  d.replace(/(\d+)[.,](\d+)S$/, (_m, s: string, f: string) => `${s}.${f.slice(0, 2).padEnd(2, '0')}S`);

/**
 * The xAPI "statement comparison" rules: ignore what an LRS may assign (id, authority, stored,
 * version, an LRS-set timestamp), activity definitions and verb displays (not part of the
 * statement), case of UUIDs and of mbox, group member order and duration precision beyond 0.01 s.
 */
export function comparisonHash(statement: Obj): string {
  const normalise = (v: unknown, key?: string): unknown => {
    if (isLosslessNumber(v)) return v;
    if (Array.isArray(v)) {
      const items = v.map((x) => normalise(x));
      return key === 'member' ? items.sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : 1)) : items;
    }
    if (v && typeof v === 'object') {
      const out: Obj = {};
      for (const [k, val] of Object.entries(v as Obj)) {
        if (k === 'definition' || (key === 'verb' && k === 'display')) continue;
        out[k] = normalise(val, k);
      }
      return out;
    }
    if (typeof v === 'string') {
      if (key === 'id' || key === 'registration') return /^[0-9a-f-]{36}$/i.test(v) ? v.toLowerCase() : v;
      if (key === 'mbox' || key === 'mbox_sha1sum') return v.toLowerCase();
      if (key === 'duration') return truncateDuration(v);
      if (key === 'timestamp') return new Date(v).toISOString();
    }
    return v;
  };
  const { id: _id, authority: _a, stored: _s, version: _v, ...rest } = statement;
  return createHash('sha256')
    .update(canonicalJson(normalise(rest)))
    .digest('base64url');
}

export { ifiKey };

/** The LRS returns every context activity list as an array, even when one Activity was sent as an object. */
export function normaliseStatement(s: Obj): Obj {
  const out: Obj = { ...s };
  const ctx = s.context as Obj | undefined;
  const ca = ctx?.contextActivities as Obj | undefined;
  if (ca) {
    const lists: Obj = {};
    for (const [k, v] of Object.entries(ca)) lists[k] = Array.isArray(v) ? v : [v];
    out.context = { ...ctx, contextActivities: lists };
  }
  const obj = s.object as Obj;
  if (obj?.objectType === 'SubStatement') out.object = normaliseStatement(obj);
  return out;
}
