/** The `format` parameter of GET /statements: exact, ids or canonical (xAPI Communication 2.1.3). */
import type { Obj } from './validate/primitives';
import { isLosslessNumber } from './exact-json';

export type Format = 'exact' | 'ids' | 'canonical';

const IFIS = ['mbox', 'mbox_sha1sum', 'openid', 'account'];

function idsActor(a: Obj | undefined): Obj | undefined {
  if (!a) return a;
  const out: Obj = {};
  if (a.objectType) out.objectType = a.objectType;
  for (const k of IFIS) if (a[k] !== undefined) out[k] = a[k];
  // An anonymous group is only identified by its members.
  if (a.objectType === 'Group' && !IFIS.some((k) => a[k] !== undefined) && Array.isArray(a.member))
    out.member = (a.member as Obj[]).map(idsActor);
  return out;
}

const idsActivity = (a: Obj): Obj => ({ id: a.id });

function idsStatement(s: Obj): Obj {
  const out: Obj = { ...s, actor: idsActor(s.actor as Obj), verb: { id: (s.verb as Obj).id } };
  const o = s.object as Obj;
  const t = o.objectType ?? 'Activity';
  out.object =
    t === 'Activity' ? idsActivity(o) : t === 'Agent' || t === 'Group' ? idsActor(o) : t === 'SubStatement' ? idsStatement(o) : o;
  if (s.authority) out.authority = idsActor(s.authority as Obj);
  if (s.context) {
    const c = { ...(s.context as Obj) };
    if (c.instructor) c.instructor = idsActor(c.instructor as Obj);
    if (c.team) c.team = idsActor(c.team as Obj);
    if (c.contextActivities) {
      const ca: Obj = {};
      for (const [k, v] of Object.entries(c.contextActivities as Obj))
        ca[k] = Array.isArray(v) ? v.map((a) => idsActivity(a as Obj)) : idsActivity(v as Obj);
      c.contextActivities = ca;
    }
    if (Array.isArray(c.contextAgents))
      c.contextAgents = (c.contextAgents as Obj[]).map((x) => ({ ...x, agent: idsActor(x.agent as Obj) }));
    if (Array.isArray(c.contextGroups))
      c.contextGroups = (c.contextGroups as Obj[]).map((x) => ({ ...x, group: idsActor(x.group as Obj) }));
    out.context = c;
  }
  return out;
}

/** Keeps one entry of a language map: the first of the client's languages it has, else the first entry. */
function pickLanguage(map: Obj, languages: string[]): Obj {
  const keys = Object.keys(map);
  if (keys.length <= 1) return map;
  for (const lang of languages) {
    const exact = keys.find((k) => k.toLowerCase() === lang.toLowerCase());
    if (exact) return { [exact]: map[exact] };
    const prefix = keys.find((k) => k.toLowerCase().split('-')[0] === lang.toLowerCase().split('-')[0]);
    if (prefix) return { [prefix]: map[prefix] };
  }
  const und = keys.find((k) => k === 'und');
  return { [und ?? keys[0]]: map[und ?? keys[0]] };
}

const LANG_MAP_KEYS = new Set(['display', 'name', 'description']);

function canonical(v: unknown, languages: string[], key?: string, parentKey?: string): unknown {
  if (isLosslessNumber(v)) return v;
  if (Array.isArray(v)) return v.map((x) => canonical(x, languages, undefined, key));
  if (v && typeof v === 'object') {
    // Agent "name" is a string; only objects under these keys are language maps (not extensions).
    if (key && LANG_MAP_KEYS.has(key) && parentKey !== 'extensions') return pickLanguage(v as Obj, languages);
    if (key === 'extensions') return v;
    const out: Obj = {};
    for (const [k, val] of Object.entries(v as Obj)) out[k] = canonical(val, languages, k, key);
    return out;
  }
  return v;
}

export function formatStatement(s: Obj, format: Format, languages: string[]): Obj {
  if (format === 'ids') return idsStatement(s);
  if (format === 'canonical') return canonical(s, languages) as Obj;
  return s;
}
