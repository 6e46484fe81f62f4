/** A whole statement or SubStatement (xAPI Data 2.4), in the version family of the request. */
import { activity } from './activity';
import { actor, agent, group } from './actor';
import { attachments, context, result, statementRef, verb } from './parts';
import { allowOnly, invalid, obj, timestamp, uuid, type Family, type Obj } from './primitives';

const VOIDED = 'http://adlnet.gov/expapi/verbs/voided';

function object(v: unknown, path: string, family: Family, inSubStatement: boolean): Obj {
  const o = obj(v, path);
  switch (o.objectType ?? 'Activity') {
    case 'Activity':
      return activity(o, path);
    case 'Agent':
      return agent(o, path, { objectTypeRequired: true });
    case 'Group':
      return group(o, path);
    case 'StatementRef':
      return statementRef(o, path);
    case 'SubStatement':
      if (inSubStatement) throw invalid(`${path}.objectType`, 'a SubStatement must not contain a SubStatement');
      subStatement(o, path, family);
      return o;
    default:
      throw invalid(`${path}.objectType`, 'must be Activity, Agent, Group, StatementRef or SubStatement');
  }
}

function body(s: Obj, path: string, family: Family, inSubStatement: boolean): void {
  for (const k of ['actor', 'verb', 'object']) if (s[k] === undefined) throw invalid(`${path}.${k}`, 'is required');
  actor(s.actor, `${path}.actor`);
  const v = verb(s.verb, `${path}.verb`);
  const o = object(s.object, `${path}.object`, family, inSubStatement);
  if (v.id === VOIDED && o.objectType !== 'StatementRef') throw invalid(`${path}.object`, 'a voiding statement must target a StatementRef');
  if (s.result !== undefined) result(s.result, `${path}.result`);
  if (s.context !== undefined) context(s.context, `${path}.context`, family, (o.objectType ?? 'Activity') === 'Activity');
  if (s.timestamp !== undefined) timestamp(s.timestamp, `${path}.timestamp`, family);
  if (s.attachments !== undefined) attachments(s.attachments, `${path}.attachments`);
}

function subStatement(s: Obj, path: string, family: Family): void {
  allowOnly(s, path, ['objectType', 'actor', 'verb', 'object', 'result', 'context', 'timestamp', 'attachments']);
  body(s, path, family, true);
}

const VERSION: Record<Family, RegExp> = { '1.0': /^1\.0(\.\d+)?$/, '2.0': /^(1\.0(\.\d+)?|2\.0(\.\d+)?)$/ };

/** Validates one statement as received; throws 400 naming the first offending property. */
export function validateStatement(v: unknown, family: Family, path = 'statement'): Obj {
  const s = obj(v, path);
  allowOnly(s, path, [
    'id',
    'actor',
    'verb',
    'object',
    'result',
    'context',
    'timestamp',
    'stored',
    'authority',
    'version',
    'attachments',
    'objectType',
  ]);
  if (s.objectType !== undefined) throw invalid(`${path}.objectType`, 'is not allowed on a statement');
  if (s.id !== undefined) uuid(s.id, `${path}.id`);
  body(s, path, family, false);
  if (s.stored !== undefined) timestamp(s.stored, `${path}.stored`, family);
  if (s.authority !== undefined) {
    const a = actor(s.authority, `${path}.authority`);
    if (
      a.objectType === 'Group' &&
      (!Array.isArray(a.member) || a.member.length !== 2 || ['mbox', 'mbox_sha1sum', 'openid', 'account'].some((k) => a[k] !== undefined))
    ) {
      throw invalid(`${path}.authority`, 'a Group authority must be an anonymous Group of exactly two Agents (OAuth consumer and user)');
    }
  }
  if (s.version !== undefined && (typeof s.version !== 'string' || !VERSION[family].test(s.version))) {
    throw invalid(`${path}.version`, family === '1.0' ? 'must be 1.0.x' : 'must be 1.0.x or 2.0.x');
  }
  return s;
}

export { VOIDED };
