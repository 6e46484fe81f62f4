/** GET, PUT and POST /xapi/statements (xAPI Communication 2.1). */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { HttpError } from '../../../core/errors';
import { MAX_LIMIT, type Part, type StatementQuery, type StatementsService } from '../statements.service';
import { formatStatement, type Format } from '../statement-format';
import type { StatementDoc } from '../statement.model';
import type { StoredDoc } from '../statements.service';
import { actor, ifiKey } from '../validate/actor';
import { invalid, iri, isUuid, obj, timestamp, type Obj } from '../validate/primitives';
import { boundaryOf, buildMultipart, parseMultipart } from './multipart';
import { parseExact, stringifyExact } from '../exact-json';
import { allows, xapi, type XapiContext } from './pipeline';

const param = (field: string, why: string) => new HttpError(400, `${field}: ${why}`, { details: { field } });

/** Deeper than this is refused: the statement code walks values recursively (stack overflow past ~3,000). */
const MAX_JSON_DEPTH = 256;

function parseJson(text: string, field: string): unknown {
  let v: unknown;
  try {
    // Numbers kept as sent (exact-json.ts); a nesting deep enough to exhaust the parser is refused too.
    v = parseExact(text);
  } catch (err) {
    throw param(field, `is not valid JSON (${err instanceof RangeError ? 'nested too deeply' : (err as Error).message})`);
  }
  if (depthOver(v, MAX_JSON_DEPTH)) throw param(field, `is nested more than ${MAX_JSON_DEPTH} levels deep`);
  return v;
}

/** Whether a parsed JSON value nests deeper than `max` (walked with a stack, not recursion). */
function depthOver(root: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d >= max) return true;
    for (const c of Array.isArray(v) ? v : Object.values(v)) if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
  }
  return false;
}

/** The statement(s) and attachment parts of a PUT/POST body (application/json or multipart/mixed). */
function readStatements(x: XapiContext): { payload: unknown; parts: Map<string, Part> } {
  const type = (x.contentType ?? '').toLowerCase();
  const body = x.body ?? Buffer.alloc(0);
  const parts = new Map<string, Part>();
  if (type.startsWith('application/json')) return { payload: parseJson(body.toString('utf8'), 'body'), parts };
  if (type.startsWith('multipart/mixed')) {
    const [first, ...rest] = parseMultipart(body, boundaryOf(x.contentType!));
    if (!first || !(first.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      throw param('Content-Type', 'the first part of a multipart/mixed body must be the statements as application/json');
    }
    for (const p of rest) {
      const hash = p.headers['x-experience-api-hash'];
      if (!hash) throw param('X-Experience-API-Hash', 'every attachment part needs an X-Experience-API-Hash header');
      if ((p.headers['content-transfer-encoding'] ?? '').toLowerCase() !== 'binary')
        throw param('Content-Transfer-Encoding', 'every attachment part must be sent with Content-Transfer-Encoding: binary');
      parts.set(hash.toLowerCase(), { contentType: p.headers['content-type'] ?? 'application/octet-stream', data: p.body });
    }
    return { payload: parseJson(first.body.toString('utf8'), 'body'), parts };
  }
  throw param('Content-Type', 'statements must be sent as application/json or multipart/mixed');
}

function lowerKeys(parts: Map<string, Part>, statements: Obj[]): Map<string, Part> {
  // Hash headers are compared with the attachments' sha2 as written in the statement.
  const out = new Map<string, Part>();
  const declared = statements.flatMap((s) => ((Array.isArray(s.attachments) ? s.attachments : []) as Obj[]).map((a) => String(a.sha2)));
  for (const [h, p] of parts) out.set(declared.find((d) => d.toLowerCase() === h) ?? h, p);
  return out;
}

export function putStatement(svc: StatementsService) {
  return async (_req: Request, res: Response) => {
    const x = xapi(res);
    const extra = Object.keys(x.params).filter((k) => k !== 'statementId');
    if (extra.length) throw param(extra[0], 'is not a parameter of PUT /statements');
    const id = x.params.statementId;
    if (id === undefined) throw param('statementId', 'is required for PUT');
    if (!isUuid(id)) throw param('statementId', 'must be a UUID');
    const { payload, parts } = readStatements(x);
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw param('body', 'PUT takes one statement as a JSON object');
    const s = payload as Obj;
    if (s.id !== undefined && String(s.id).toLowerCase() !== id.toLowerCase())
      throw invalid('statement.id', 'differs from the statementId parameter');
    await svc.store([{ ...s, id: s.id ?? id }], { credential: x.credential!, family: x.family, parts: lowerKeys(parts, [s]) });
    res.status(204).end();
  };
}

export function postStatements(svc: StatementsService) {
  return async (_req: Request, res: Response) => {
    const x = xapi(res);
    const extra = Object.keys(x.params);
    if (extra.length) throw param(extra[0], 'is not a parameter of POST /statements');
    const { payload, parts } = readStatements(x);
    const list = Array.isArray(payload) ? payload : [payload];
    if (list.length === 0) throw param('body', 'the batch is empty');
    list.forEach((st, i) => obj(st, list.length === 1 && !Array.isArray(payload) ? 'statement' : `statements[${i}]`));
    const ids = await svc.store(list, { credential: x.credential!, family: x.family, parts: lowerKeys(parts, list as Obj[]) });
    res.status(200).json(ids);
  };
}

const GET_PARAMS = [
  'statementId',
  'voidedStatementId',
  'agent',
  'verb',
  'activity',
  'registration',
  'related_activities',
  'related_agents',
  'since',
  'until',
  'limit',
  'format',
  'attachments',
  'ascending',
  'more',
];

function boolParam(v: string | undefined, field: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw param(field, 'must be true or false');
}

/** The `more` token: the query, its `until` pinned at the first page, and where the last page ended. */
interface MoreToken {
  p: Record<string, string>;
  u: string;
  s: string;
  i: string;
}

function parseQuery(p: Record<string, string>, x: XapiContext): StatementQuery & { format: Format; attachments: boolean } {
  const q: StatementQuery & { format: Format; attachments: boolean } = { limit: 0, format: 'exact', attachments: false };
  if (p.agent !== undefined) {
    const a = actor(parseJson(p.agent, 'agent'), 'agent');
    q.agent = ifiKey(a);
    if (!q.agent) throw param('agent', 'must be an Agent or identified Group');
  }
  if (p.verb !== undefined) q.verb = iri(p.verb, 'verb');
  if (p.activity !== undefined) q.activity = iri(p.activity, 'activity');
  if (p.registration !== undefined) {
    if (!isUuid(p.registration)) throw param('registration', 'must be a UUID');
    q.registration = p.registration;
  }
  q.relatedAgents = boolParam(p.related_agents, 'related_agents');
  q.relatedActivities = boolParam(p.related_activities, 'related_activities');
  q.ascending = boolParam(p.ascending, 'ascending');
  q.attachments = boolParam(p.attachments, 'attachments') ?? false;
  if (p.since !== undefined) q.since = timestamp(p.since, 'since', x.family);
  if (p.until !== undefined) q.until = timestamp(p.until, 'until', x.family);
  if (p.limit !== undefined) {
    if (!/^\d+$/.test(p.limit)) throw param('limit', 'must be a non-negative integer');
    q.limit = Math.min(Number(p.limit), MAX_LIMIT);
  }
  if (p.format !== undefined) {
    if (!['exact', 'ids', 'canonical'].includes(p.format)) throw param('format', 'must be exact, ids or canonical');
    q.format = p.format as Format;
  }
  return q;
}

function languages(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...rest] = part.trim().split(';');
      const qv = rest.find((r) => r.trim().startsWith('q='));
      return { tag: tag.trim(), q: qv ? Number(qv.trim().slice(2)) : 1 };
    })
    .filter((l) => l.tag && l.tag !== '*' && l.q > 0)
    .sort((a, b) => b.q - a.q)
    .map((l) => l.tag);
}

function send(
  res: Response,
  x: XapiContext,
  json: unknown,
  docs: Array<StatementDoc | StoredDoc>,
  withAttachments: boolean,
  svc: StatementsService,
): Promise<void> | void {
  if (!withAttachments) {
    res.status(200).type('application/json').send(stringifyExact(json));
    return;
  }
  return svc.attachmentsOf(docs).then((atts) => {
    const boundary = `xapi-${randomBytes(12).toString('hex')}`;
    const body = buildMultipart(boundary, [
      { headers: { 'Content-Type': 'application/json' }, body: Buffer.from(stringifyExact(json)) },
      ...atts.map((a) => ({
        headers: { 'Content-Type': a.contentType, 'Content-Transfer-Encoding': 'binary', 'X-Experience-API-Hash': a._id },
        body: a.data,
      })),
    ]);
    res.status(200).type(`multipart/mixed; boundary=${boundary}`).send(body);
  });
}

export function getStatements(svc: StatementsService) {
  return async (req: Request, res: Response) => {
    const x = xapi(res);
    for (const k of Object.keys(x.params)) if (!GET_PARAMS.includes(k)) throw param(k, 'is not a parameter of GET /statements');
    const c = x.credential!;
    const mineOnly = !allows(c, ['all/read', 'statements/read']);
    await svc.caughtUp(c); // an AU finds the LMS's follow-up of what it sent (satisfied statements)
    res.set('X-Experience-API-Consistent-Through', new Date().toISOString());

    const single = x.params.statementId ?? x.params.voidedStatementId;
    if (single !== undefined) {
      if (x.params.statementId !== undefined && x.params.voidedStatementId !== undefined)
        throw param('statementId', 'cannot be combined with voidedStatementId');
      const field = x.params.statementId !== undefined ? 'statementId' : 'voidedStatementId';
      const other = Object.keys(x.params).filter((k) => ![field, 'format', 'attachments'].includes(k));
      if (other.length) throw param(other[0], `cannot be combined with ${field}`);
      if (!isUuid(single)) throw param(field, 'must be a UUID');
      const q = parseQuery({ format: x.params.format, attachments: x.params.attachments } as Record<string, string>, x);
      for (const k of ['format', 'attachments']) if (x.params[k] === undefined) delete (q as unknown as Obj)[k];
      const doc = await svc.getOne(single, field === 'voidedStatementId', mineOnly ? c.id : undefined);
      if (!doc) throw new HttpError(404, `No ${field === 'voidedStatementId' ? 'voided ' : ''}statement with id ${single}`);
      res.set('Last-Modified', doc.stored.toUTCString());
      const statement = formatStatement(parseExact(doc.raw) as Obj, q.format ?? 'exact', languages(x.headers['accept-language']));
      return send(res, x, statement, [doc], q.attachments ?? false, svc);
    }

    let params = x.params;
    let after: StatementQuery['after'];
    let until: string | undefined;
    if (params.more !== undefined) {
      if (Object.keys(params).length > 1) throw param('more', 'cannot be combined with other parameters');
      let token: MoreToken;
      try {
        token = JSON.parse(Buffer.from(params.more, 'base64url').toString('utf8')) as MoreToken;
        if (!token || typeof token.p !== 'object' || typeof token.s !== 'string' || typeof token.i !== 'string') throw new Error();
      } catch {
        throw param('more', 'is not a token this LRS issued');
      }
      params = token.p;
      after = { stored: new Date(token.s), id: token.i };
      until = token.u;
    }
    const q = parseQuery(params, x);
    // Pin `until` at the first page, so statements stored while paging cannot shift later pages.
    const pinned = until ? new Date(until) : q.until && q.until < new Date() ? q.until : new Date();
    const page = await svc.query({ ...q, until: pinned, after, credentialId: mineOnly ? c.id : undefined });
    const langs = languages(x.headers['accept-language']);
    const statements = page.docs.map((d) => formatStatement(parseExact(d.raw) as Obj, q.format, langs));
    let more = '';
    if (page.more) {
      const last = page.docs[page.docs.length - 1];
      const token: MoreToken = { p: params, u: pinned.toISOString(), s: last.stored.toISOString(), i: last._id };
      more = `${req.baseUrl}/statements?more=${Buffer.from(JSON.stringify(token)).toString('base64url')}`;
    }
    const newest = page.docs.reduce<Date | undefined>((m, d) => (!m || d.stored > m ? d.stored : m), undefined);
    if (newest) res.set('Last-Modified', newest.toUTCString());
    return send(res, x, { statements, more }, page.docs, q.attachments, svc);
  };
}
