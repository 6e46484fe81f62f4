/** Agents and Groups (xAPI Data 2.4.2): exactly one Inverse Functional Identifier, Group rules. */
import { allowOnly, arr, invalid, iri, irl, obj, objectType, str, type Obj } from './primitives';

const IFIS = ['mbox', 'mbox_sha1sum', 'openid', 'account'] as const;
const MBOX = /^mailto:[^@\s:/]+@[^@\s]+$/i;

function ifiCount(o: Obj, path: string): number {
  let n = 0;
  for (const k of IFIS) {
    if (o[k] === undefined) continue;
    n++;
    const p = `${path}.${k}`;
    if (k === 'mbox' && (typeof o.mbox !== 'string' || !MBOX.test(o.mbox)))
      throw invalid(p, 'must be a mailto: IRI (mailto:name@example.org)');
    if (k === 'mbox_sha1sum' && (typeof o.mbox_sha1sum !== 'string' || !/^[0-9a-f]{40}$/i.test(o.mbox_sha1sum)))
      throw invalid(p, 'must be a hex SHA-1 sum');
    if (k === 'openid') iri(o.openid, p);
    if (k === 'account') {
      const a = obj(o.account, p);
      allowOnly(a, p, ['homePage', 'name']);
      if (a.homePage === undefined) throw invalid(`${p}.homePage`, 'is required');
      if (a.name === undefined) throw invalid(`${p}.name`, 'is required');
      irl(a.homePage, `${p}.homePage`);
      str(a.name, `${p}.name`);
    }
  }
  return n;
}

export function agent(v: unknown, path: string, opts: { objectTypeRequired?: boolean } = {}): Obj {
  const o = obj(v, path);
  allowOnly(o, path, ['objectType', 'name', ...IFIS]);
  const t = objectType(o, path, ['Agent']);
  if (opts.objectTypeRequired && !t) throw invalid(`${path}.objectType`, 'is required ("Agent")');
  if (o.name !== undefined) str(o.name, `${path}.name`);
  const n = ifiCount(o, path);
  if (n !== 1) throw invalid(path, `an Agent must have exactly one of ${IFIS.join(', ')} (found ${n})`);
  return o;
}

export function group(v: unknown, path: string): Obj {
  const o = obj(v, path);
  allowOnly(o, path, ['objectType', 'name', 'member', ...IFIS]);
  if (objectType(o, path, ['Group']) !== 'Group') throw invalid(`${path}.objectType`, 'is required ("Group")');
  if (o.name !== undefined) str(o.name, `${path}.name`);
  const n = ifiCount(o, path);
  if (n > 1) throw invalid(path, 'an identified Group must have exactly one identifier');
  if (o.member !== undefined) {
    arr(o.member, `${path}.member`).forEach((m, i) => {
      const mp = `${path}.member[${i}]`;
      if ((m as Obj | null)?.objectType === 'Group') throw invalid(`${mp}.objectType`, 'a Group member must be an Agent, not a Group');
      agent(m, mp);
    });
  }
  if (n === 0 && (!Array.isArray(o.member) || o.member.length === 0))
    throw invalid(`${path}.member`, 'an anonymous Group must list its members');
  return o;
}

/** Actor position: an Agent (objectType optional) or a Group. */
export function actor(v: unknown, path: string): Obj {
  const o = obj(v, path);
  return o.objectType === 'Group' ? group(o, path) : agent(o, path);
}

/** A stable string for an Agent's or identified Group's identifier, used as an index key. */
export function ifiKey(o: Obj | undefined): string | undefined {
  if (!o) return undefined;
  if (typeof o.mbox === 'string') return `mbox:${o.mbox.toLowerCase()}`;
  if (typeof o.mbox_sha1sum === 'string') return `sha1:${o.mbox_sha1sum.toLowerCase()}`;
  if (typeof o.openid === 'string') return `openid:${o.openid}`;
  const a = o.account as Obj | undefined;
  if (a && typeof a.homePage === 'string' && typeof a.name === 'string') return `account:${a.homePage}|${a.name}`;
  return undefined;
}

/** Keys of an actor and, for Groups, of its members (a query for a member finds the group's statements). */
export function actorKeys(o: Obj | undefined, withMembers: boolean): string[] {
  if (!o) return [];
  const keys: string[] = [];
  const k = ifiKey(o);
  if (k) keys.push(k);
  if (withMembers && Array.isArray(o.member))
    for (const m of o.member as Obj[]) {
      const mk = ifiKey(m);
      if (mk) keys.push(mk);
    }
  return keys;
}
