/** Verb, result, context and attachment objects (xAPI Data 2.4.3, 2.4.5, 2.4.6, 2.4.11). */
import { activity } from './activity';
import { actor, agent, group } from './actor';
import {
  allowOnly,
  arr,
  bool,
  duration,
  extensions,
  invalid,
  iri,
  irl,
  isObj,
  langMap,
  mediaType,
  num,
  obj,
  objectType,
  str,
  uuid,
  isLangTag,
  type Family,
  type Obj,
} from './primitives';

export function verb(v: unknown, path: string): Obj {
  const o = obj(v, path);
  allowOnly(o, path, ['id', 'display']);
  if (o.id === undefined) throw invalid(`${path}.id`, 'is required');
  iri(o.id, `${path}.id`);
  if (o.display !== undefined) langMap(o.display, `${path}.display`);
  return o;
}

export function result(v: unknown, path: string): void {
  const o = obj(v, path);
  allowOnly(o, path, ['score', 'success', 'completion', 'response', 'duration', 'extensions']);
  if (o.score !== undefined) {
    const p = `${path}.score`;
    const s = obj(o.score, p);
    allowOnly(s, p, ['scaled', 'raw', 'min', 'max']);
    const [scaled, raw, min, max] = ['scaled', 'raw', 'min', 'max'].map((k) => (s[k] === undefined ? undefined : num(s[k], `${p}.${k}`)));
    if (scaled !== undefined && (scaled < -1 || scaled > 1)) throw invalid(`${p}.scaled`, 'must be between -1 and 1');
    if (min !== undefined && max !== undefined && min > max) throw invalid(`${p}.min`, 'must not be greater than max');
    if (raw !== undefined && min !== undefined && raw < min) throw invalid(`${p}.raw`, 'must not be less than min');
    if (raw !== undefined && max !== undefined && raw > max) throw invalid(`${p}.raw`, 'must not be greater than max');
  }
  if (o.success !== undefined) bool(o.success, `${path}.success`);
  if (o.completion !== undefined) bool(o.completion, `${path}.completion`);
  if (o.response !== undefined) str(o.response, `${path}.response`);
  if (o.duration !== undefined) duration(o.duration, `${path}.duration`);
  if (o.extensions !== undefined) extensions(o.extensions, `${path}.extensions`);
}

export function statementRef(v: unknown, path: string): Obj {
  const o = obj(v, path);
  allowOnly(o, path, ['objectType', 'id']);
  if (objectType(o, path, ['StatementRef']) !== 'StatementRef') throw invalid(`${path}.objectType`, 'is required ("StatementRef")');
  uuid(o.id, `${path}.id`);
  return o;
}

function relevantTypes(v: unknown, path: string): void {
  const list = arr(v, path);
  if (list.length === 0) throw invalid(path, 'must not be empty');
  list.forEach((t, i) => iri(t, `${path}[${i}]`));
}

export function context(v: unknown, path: string, family: Family, objectIsActivity: boolean): void {
  const o = obj(v, path);
  const allowed = [
    'registration',
    'instructor',
    'team',
    'contextActivities',
    'revision',
    'platform',
    'language',
    'statement',
    'extensions',
  ];
  allowOnly(o, path, family === '2.0' ? [...allowed, 'contextAgents', 'contextGroups'] : allowed);
  if (o.registration !== undefined) uuid(o.registration, `${path}.registration`);
  if (o.instructor !== undefined) actor(o.instructor, `${path}.instructor`);
  if (o.team !== undefined) group(o.team, `${path}.team`);
  if (o.contextActivities !== undefined) {
    const p = `${path}.contextActivities`;
    const ca = obj(o.contextActivities, p);
    allowOnly(ca, p, ['parent', 'grouping', 'category', 'other']);
    for (const [k, val] of Object.entries(ca)) {
      if (Array.isArray(val)) val.forEach((a, i) => activity(a, `${p}.${k}[${i}]`));
      else activity(val, `${p}.${k}`);
    }
  }
  for (const k of ['revision', 'platform'] as const) {
    if (o[k] === undefined) continue;
    str(o[k], `${path}.${k}`);
    if (!objectIsActivity) throw invalid(`${path}.${k}`, 'is only allowed when the statement object is an Activity');
  }
  if (o.language !== undefined && !isLangTag(o.language)) throw invalid(`${path}.language`, 'must be an RFC 5646 language tag');
  if (o.statement !== undefined) statementRef(o.statement, `${path}.statement`);
  if (o.extensions !== undefined) extensions(o.extensions, `${path}.extensions`);
  if (o.contextAgents !== undefined) {
    arr(o.contextAgents, `${path}.contextAgents`).forEach((c, i) => {
      const p = `${path}.contextAgents[${i}]`;
      const ca = obj(c, p);
      allowOnly(ca, p, ['objectType', 'agent', 'relevantTypes']);
      if (ca.objectType !== 'contextAgent') throw invalid(`${p}.objectType`, 'must be "contextAgent"');
      if (ca.agent === undefined) throw invalid(`${p}.agent`, 'is required');
      agent(ca.agent, `${p}.agent`);
      if (ca.relevantTypes !== undefined) relevantTypes(ca.relevantTypes, `${p}.relevantTypes`);
    });
  }
  if (o.contextGroups !== undefined) {
    arr(o.contextGroups, `${path}.contextGroups`).forEach((c, i) => {
      const p = `${path}.contextGroups[${i}]`;
      const cg = obj(c, p);
      allowOnly(cg, p, ['objectType', 'group', 'relevantTypes']);
      if (cg.objectType !== 'contextGroup') throw invalid(`${p}.objectType`, 'must be "contextGroup"');
      if (cg.group === undefined) throw invalid(`${p}.group`, 'is required');
      group(cg.group, `${p}.group`);
      if (cg.relevantTypes !== undefined) relevantTypes(cg.relevantTypes, `${p}.relevantTypes`);
    });
  }
}

export const SIGNATURE_USAGE = 'http://adlnet.gov/expapi/attachments/signature';

export function attachments(v: unknown, path: string): Obj[] {
  return arr(v, path).map((a, i) => {
    const p = `${path}[${i}]`;
    const o = obj(a, p);
    allowOnly(o, p, ['usageType', 'display', 'description', 'contentType', 'length', 'sha2', 'fileUrl']);
    for (const k of ['usageType', 'display', 'contentType', 'length', 'sha2'])
      if (o[k] === undefined) throw invalid(`${p}.${k}`, 'is required');
    iri(o.usageType, `${p}.usageType`);
    langMap(o.display, `${p}.display`);
    if (o.description !== undefined) langMap(o.description, `${p}.description`);
    mediaType(o.contentType, `${p}.contentType`);
    const length = num(o.length, `${p}.length`);
    if (!Number.isInteger(length) || length < 0) throw invalid(`${p}.length`, 'must be a non-negative integer');
    if (typeof o.sha2 !== 'string' || !/^[0-9a-f]{56,128}$/i.test(o.sha2)) throw invalid(`${p}.sha2`, 'must be a hex SHA-2 hash');
    if (o.fileUrl !== undefined) irl(o.fileUrl, `${p}.fileUrl`);
    return o;
  });
}

export { isObj };
