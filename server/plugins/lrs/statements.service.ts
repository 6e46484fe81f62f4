/**
 * Storing and finding statements. Validation of a whole batch happens before anything is written;
 * FerretDB has no transactions, so a batch is inserted with one insertMany and, if any statement
 * turns out to conflict with a stored one, the statements just inserted are removed again.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { HttpError } from '../../core/errors';
import { MAX_DOCUMENT_BYTES } from '../../core/db/connect';
import type { Hooks } from '../../core/services';
import type { LrsCredential, StoredStatement, XapiStatement } from '../../core/contracts/lrs';
import type { AttachmentDoc, MatchFields, StatementBodyDoc, StatementDoc } from './statement.model';

/** A statement's index fields together with its text, as the service hands them around. */
export type StoredDoc = StatementDoc & { raw: string };
import { comparisonHash, matchFields, normaliseStatement } from './statement-fields';
import { verifySignature } from './signature';
import { SIGNATURE_USAGE } from './validate/parts';
import { invalid, type Family, type Obj } from './validate/primitives';
import { validateStatement, VOIDED } from './validate/statement';
import { parseExact, parsePlain, stringifyExact, toPlain } from './exact-json';
import type { ActivitiesService } from './activities.service';

export interface Part {
  contentType: string;
  data: Buffer;
}

export interface StoreOptions {
  credential: LrsCredential;
  family: Family;
  /** Attachment contents received as multipart/mixed parts, by their X-Experience-API-Hash. */
  parts?: Map<string, Part>;
}

export interface StatementQuery {
  agent?: string;
  verb?: string;
  activity?: string;
  registration?: string;
  relatedAgents?: boolean;
  relatedActivities?: boolean;
  since?: Date;
  until?: Date;
  limit: number;
  ascending?: boolean;
  /** Cursor of the last statement of the previous page. */
  after?: { stored: Date; id: string };
  /** `statements/read/mine`: only what this credential stored. */
  credentialId?: string;
}

export const MAX_LIMIT = 500;

let lastStored = 0;
/**
 * The `stored` times of a new batch of n statements: from now, one millisecond apart, always
 * later than the previous batch of this process, so that `ascending` lists statements in the
 * order they were stored (a cmi5 AU's statement, then the LMS's satisfied statements for the
 * block, then the course; a SCORM commit's suspended, then terminated, in one write) instead of
 * by random statement id when they share a millisecond.
 */
function nextStored(n: number): Date[] {
  const first = Math.max(Date.now(), lastStored + 1);
  lastStored = first + n - 1;
  return Array.from({ length: n }, (_, i) => new Date(first + i));
}

/** The longest an AU's request waits for the follow-up of its session's earlier batches. */
const CATCH_UP_WAIT_MS = 5000;

export class StatementsService {
  constructor(
    private readonly statements: Model<StatementDoc>,
    private readonly bodies: Model<StatementBodyDoc>,
    private readonly attachments: Model<AttachmentDoc>,
    private readonly hooks: Hooks,
    private readonly activities: ActivitiesService,
  ) {}

  /** Validates and stores a batch (all or nothing); returns the ids in the order received. */
  async store(input: unknown[], opts: StoreOptions): Promise<string[]> {
    const single = input.length === 1;
    const received = input.map((s, i) => validateStatement(s, opts.family, single ? 'statement' : `statements[${i}]`));
    await this.checkAttachments(received, opts, single);

    const ids = new Set<string>();
    for (const [i, s] of received.entries()) {
      if (typeof s.id !== 'string') continue;
      const id = s.id.toLowerCase();
      if (ids.has(id)) throw invalid(single ? 'statement.id' : `statements[${i}].id`, `the batch contains statement ${s.id} twice`);
      ids.add(id);
    }
    for (const [i, s] of received.entries())
      if (Buffer.byteLength(stringifyExact(s)) > MAX_DOCUMENT_BYTES)
        throw new HttpError(
          413,
          `${single ? 'statement' : `statements[${i}]`}: larger than the ${MAX_DOCUMENT_BYTES} bytes a statement may take`,
        );
    for (const p of opts.parts?.values() ?? [])
      if (p.data.length > MAX_DOCUMENT_BYTES)
        throw new HttpError(413, `attachment: larger than the ${MAX_DOCUMENT_BYTES} bytes an attachment may take`);
    await this.checkVoiding(received, single);
    // Other plugins compute with ordinary numbers; only the LRS keeps their exact text.
    await this.hooks.emit('lrs.statements.validate', {
      statements: received.map((s) => toPlain<XapiStatement>(s)),
      credential: opts.credential,
    });
    // Contents first: a stored statement must never point at an attachment that is not there.
    if (opts.parts?.size) await this.saveParts(opts.parts);
    // Before this batch gets its place in the order: see `caughtUp`.
    await this.caughtUp(opts.credential);

    const stored = nextStored(received.length);
    const docs: StoredDoc[] = [];
    for (const [i, s] of received.entries()) docs.push(await this.wrap(s, stored[i], opts));

    // The follow-up (progress, certificates, reports) is recorded with the write and runs after it.
    const statements = docs.map((d) => parsePlain<XapiStatement>(d.raw));
    const payload = {
      statements,
      credential: opts.credential,
      stored: docs.map((d, i): StoredStatement => ({ id: statements[i].id as string, statement: statements[i], stored: d.stored })),
    };
    // Recorded (held until the write is done) when someone follows it up, or when the write's own
    // end — what the batch voids, definitions not written yet — would need finishing after a crash
    // (`storedOf`). Otherwise not at all: two writes fewer for the LMS's own statements (satisfied,
    // earned), whose activities are known, on the engine's single writer.
    const unfinished = docs.some((d) => d.voiding) || this.activities.wouldLearn(docs.map((d) => parseExact(d.raw) as Obj));
    const emissions =
      unfinished || this.hooks.wanted('lrs.statements.stored', payload) ? [{ event: 'lrs.statements.stored' as const, payload }] : [];
    await this.hooks.emitWith(emissions, async (withdraw) => {
      const fresh = await this.insertAll(docs);
      const freshDocs = docs.filter((d) => fresh.has(d._id));
      // A pure re-post changes nothing: its entry goes (one left by an interrupted first attempt stays).
      if (!freshDocs.length) return withdraw();
      await this.afterInsert(freshDocs);
    });
    return docs.map((d) => JSON.parse(d.raw).id as string);
  }

  /**
   * An AU (launch credential) writing or reading statements first waits, at most 5 s, until its
   * registration's earlier batches are followed up: the LMS's "satisfied" statements (cmi5 §9.3.9)
   * are then stored before the AU's next statement and found by its next query, as AUs and the
   * conformance suites expect. The POST that causes them does not wait: it answers once stored.
   */
  async caughtUp(credential: LrsCredential): Promise<void> {
    const registration = credential.kind === 'launch' ? credential.launch?.registration : undefined;
    if (registration) await this.hooks.caughtUp('lrs.statements.stored', registration, CATCH_UP_WAIT_MS);
  }

  /** The statements of `list` whose ids are not stored yet (each has an id). */
  async notStored(list: XapiStatement[]): Promise<XapiStatement[]> {
    const ids = list.map((s) => String(s.id).toLowerCase());
    const found = new Set((await this.statements.find({ _id: { $in: ids } }, { _id: 1 }).lean()).map((d) => String(d._id)));
    return list.filter((_, i) => !found.has(ids[i]));
  }

  /**
   * The part of a recorded batch that was stored by that very write (each its own `stored` time), if any,
   * once the rest of that write (voiding, definitions) is finished: the process may have died in it.
   */
  async storedOf<T extends { stored: StoredStatement[]; statements: XapiStatement[] }>(p: T): Promise<T | undefined> {
    const kept: Array<{ id: string; voiding: boolean }> = [];
    for (const s of p.stored) {
      const doc = await this.statements.findById(s.id.toLowerCase(), { stored: 1, voiding: 1 }).lean();
      if (doc && doc.stored.getTime() === new Date(s.stored).getTime()) kept.push({ id: s.id, voiding: doc.voiding });
    }
    if (!kept.length) return undefined;
    const bodies = new Map(
      (await this.bodies.find({ _id: { $in: kept.map((k) => k.id.toLowerCase()) } }).lean()).map((b) => [String(b._id), b.raw]),
    );
    await this.afterInsert(kept.map((k) => ({ raw: bodies.get(k.id.toLowerCase())!, voiding: k.voiding })));
    const ids = new Set(kept.map((k) => k.id));
    return { ...p, stored: p.stored.filter((s) => ids.has(s.id)), statements: p.statements.filter((s) => ids.has(s.id as string)) };
  }

  /** Inserts, then resolves duplicates: same content is an idempotent retry, different content is 409. */
  private async insertAll(docs: StoredDoc[]): Promise<Set<string>> {
    // Bodies first: a wrapper (what queries find) must never exist without its body.
    const bodyDup = await this.insertIgnoringDuplicates(
      this.bodies,
      docs.map((d) => ({ _id: d._id, raw: d.raw })),
    );
    const dupIdx = await this.insertIgnoringDuplicates(
      this.statements,
      docs.map(({ raw: _raw, ...w }) => w),
    );
    const fresh = new Set(docs.filter((_, i) => !dupIdx.has(i)).map((d) => d._id));
    for (const i of dupIdx) {
      const existing = await this.statements.findById(docs[i]._id, { hash: 1 }).lean();
      if (existing && existing.hash !== docs[i].hash) {
        // Undo this batch's new statements so a rejected batch leaves nothing behind.
        for (const id of fresh) await this.statements.deleteOne({ _id: id });
        for (const [j, d] of docs.entries()) if (fresh.has(d._id) && !bodyDup.has(j)) await this.bodies.deleteOne({ _id: d._id });
        throw new HttpError(409, `statement ${docs[i]._id} already exists with different content`, { details: { field: 'id' } });
      }
    }
    // A body left by an earlier attempt that failed before its wrapper was written is replaced.
    for (const [j, d] of docs.entries())
      if (fresh.has(d._id) && bodyDup.has(j)) await this.bodies.replaceOne({ _id: d._id }, { _id: d._id, raw: d.raw });
    return fresh;
  }

  /** insertMany that tolerates duplicate keys; returns the indexes that were duplicates. */
  private async insertIgnoringDuplicates<T>(model: Model<T>, docs: unknown[]): Promise<Set<number>> {
    try {
      await model.insertMany(docs as T[], { ordered: false, lean: true });
      return new Set();
    } catch (err) {
      const writeErrors =
        (err as { writeErrors?: Array<{ index?: number; err?: { index?: number; code?: number }; code?: number }> }).writeErrors ?? [];
      if (!writeErrors.length || writeErrors.some((w) => (w.code ?? w.err?.code) !== 11000)) throw err;
      return new Set(writeErrors.map((w) => (w.index ?? w.err?.index) as number));
    }
  }

  private async wrap(received: Obj, stored: Date, opts: StoreOptions): Promise<StoredDoc> {
    const s = normaliseStatement(received);
    const hash = comparisonHash(s);
    const full: Obj = { ...s };
    full.id = typeof s.id === 'string' ? s.id : randomUUID();
    full.timestamp = typeof s.timestamp === 'string' ? s.timestamp : stored.toISOString();
    full.stored = stored.toISOString();
    full.authority = opts.credential.authority;
    full.version = typeof s.version === 'string' ? s.version : opts.family === '2.0' ? '2.0.0' : '1.0.0';
    const fields = matchFields(full);
    const object = s.object as Obj;
    const refs: MatchFields[] = [];
    if (object.objectType === 'StatementRef') {
      const target = await this.statements
        .findById(String(object.id).toLowerCase(), { agents: 1, relAgents: 1, verb: 1, activity: 1, relActs: 1, reg: 1, refs: 1 })
        .lean();
      if (target) {
        const { agents, relAgents, verb, activity, relActs, reg } = target;
        refs.push({ agents, relAgents, verb, activity, relActs, reg }, ...(target.refs ?? []));
      }
    }
    const att = ((s.attachments as Obj[] | undefined) ?? [])
      .filter((a) => !a.fileUrl || opts.parts?.has(a.sha2 as string))
      .map((a) => a.sha2 as string);
    return {
      _id: (full.id as string).toLowerCase(),
      raw: stringifyExact(full),
      hash,
      stored,
      timestamp: new Date(full.timestamp as string),
      voided: false,
      voiding: fields.verb === VOIDED,
      cred: opts.credential.id,
      ...fields,
      ...(refs.length ? { refs } : {}),
      ...(att.length ? { att } : {}),
    } as StoredDoc;
  }

  /** Every attachment without a fileUrl needs its content as a part; every part needs its attachment. */
  private async checkAttachments(received: Obj[], opts: StoreOptions, single: boolean): Promise<void> {
    const parts = opts.parts ?? new Map<string, Part>();
    const declared = new Set<string>();
    for (const [i, s] of received.entries()) {
      const base = single ? 'statement' : `statements[${i}]`;
      for (const [j, a] of ((s.attachments as Obj[] | undefined) ?? []).entries()) {
        const path = `${base}.attachments[${j}]`;
        const sha2 = a.sha2 as string;
        declared.add(sha2);
        const part = parts.get(sha2);
        if (!part && !a.fileUrl) throw invalid(path, `no multipart part carries the content with X-Experience-API-Hash ${sha2}`);
        if (a.usageType === SIGNATURE_USAGE) {
          if (!part) throw invalid(path, 'a signature attachment must be sent as a part');
          if (a.contentType !== 'application/octet-stream')
            throw invalid(`${path}.contentType`, 'a signature must be application/octet-stream');
          await verifySignature(s, part.data, path);
        }
      }
    }
    for (const sha2 of parts.keys()) {
      if (!declared.has(sha2))
        throw new HttpError(400, `the multipart part with X-Experience-API-Hash ${sha2} matches no attachment of the statements`, {
          details: { field: 'X-Experience-API-Hash' },
        });
    }
    for (const [sha2, part] of parts) {
      const algo = sha2.length === 64 ? 'sha256' : sha2.length === 96 ? 'sha384' : sha2.length === 128 ? 'sha512' : 'sha224';
      if (createHash(algo).update(part.data).digest('hex') !== sha2.toLowerCase()) {
        throw new HttpError(400, `the content of the part with X-Experience-API-Hash ${sha2} does not have that hash`, {
          details: { field: 'X-Experience-API-Hash' },
        });
      }
    }
  }

  /** A voiding statement may not target a voiding statement. */
  private async checkVoiding(received: Obj[], single: boolean): Promise<void> {
    for (const [i, s] of received.entries()) {
      if ((s.verb as Obj).id !== VOIDED) continue;
      const targetId = String((s.object as Obj).id).toLowerCase();
      const inBatch = received.find((o) => typeof o.id === 'string' && o.id.toLowerCase() === targetId);
      const target = inBatch
        ? { voiding: (inBatch.verb as Obj).id === VOIDED }
        : await this.statements.findById(targetId, { voiding: 1 }).lean();
      if (target?.voiding)
        throw invalid(single ? 'statement.object.id' : `statements[${i}].object.id`, 'a voiding statement cannot be voided');
    }
  }

  /**
   * The rest of the LRS's own write: what the new statements void, and the activity definitions
   * they carry (read back at once by GET /activities, with their numbers exact). Idempotent, so
   * recovering an interrupted write runs it again.
   */
  private async afterInsert(docs: Array<Pick<StoredDoc, 'raw' | 'voiding'>>): Promise<void> {
    const targets = docs.filter((d) => d.voiding).map((d) => String(((parsePlain(d.raw) as Obj).object as Obj).id).toLowerCase());
    for (const id of targets) await this.statements.updateOne({ _id: id, voiding: false }, { $set: { voided: true } });
    await this.activities.learnFrom(docs.map((d) => parseExact(d.raw) as Obj));
  }

  async saveParts(parts: Map<string, Part>): Promise<void> {
    for (const [sha2, part] of parts) {
      await this.attachments.updateOne(
        { _id: sha2 },
        { $setOnInsert: { contentType: part.contentType, data: part.data } },
        { upsert: true },
      );
    }
  }

  /** One statement by id: `voided` chooses statementId (must not be voided) or voidedStatementId (must be). */
  async getOne(id: string, voided: boolean, credentialId?: string): Promise<StoredDoc | undefined> {
    const doc = await this.statements.findById(id.toLowerCase()).lean();
    if (!doc || doc.voided !== voided || (credentialId && doc.cred !== credentialId)) return undefined;
    const body = await this.bodies.findById(doc._id).lean();
    return body ? { ...doc, raw: body.raw } : undefined;
  }

  /** The bodies of one page in one `{_id: {$in}}` read (an index lookup per id on MongoDB and on the embedded engine). */
  private async withBodies(docs: StatementDoc[]): Promise<StoredDoc[]> {
    if (!docs.length) return [];
    const found = new Map((await this.bodies.find({ _id: { $in: docs.map((d) => d._id) } }).lean()).map((b) => [b._id, b]));
    const bodies = docs.map((d) => found.get(d._id));
    return docs.flatMap((d, i) => (bodies[i] ? [{ ...d, raw: bodies[i].raw }] : []));
  }

  /** The filter a GET /statements query becomes; exported for the benchmark's driver comparison. */
  static filter(q: StatementQuery): Record<string, unknown> {
    const self: Record<string, unknown> = {};
    if (q.agent) self[q.relatedAgents ? 'relAgents' : 'agents'] = q.agent;
    if (q.verb) self.verb = q.verb;
    if (q.activity) self[q.relatedActivities ? 'relActs' : 'activity'] = q.activity;
    if (q.registration) self.reg = q.registration.toLowerCase();
    const and: Record<string, unknown>[] = [];
    if (Object.keys(self).length) {
      // A statement also matches through the statement it targets (xAPI "filter conditions for StatementRefs").
      // Dotted paths rather than $elemMatch, which FerretDB 1.24 does not match on arrays of documents;
      // a ref chain is almost always one statement long, where the two mean the same.
      const viaRef: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(self)) viaRef[`refs.${k}`] = v;
      and.push({ $or: [self, viaRef] });
    }
    const dir = q.ascending ? '$gt' : '$lt';
    if (q.after) and.push({ $or: [{ stored: { [dir]: q.after.stored } }, { stored: q.after.stored, _id: { [dir]: q.after.id } }] });
    const filter: Record<string, unknown> = { voided: false };
    if (q.credentialId) filter.cred = q.credentialId;
    const stored: Record<string, Date> = {};
    if (q.since) stored.$gt = q.since;
    if (q.until) stored.$lte = q.until;
    if (Object.keys(stored).length) filter.stored = stored;
    if (and.length) filter.$and = and;
    return filter;
  }

  static sort(q: Pick<StatementQuery, 'ascending'>): Record<string, 1 | -1> {
    const d = q.ascending ? 1 : -1;
    return { stored: d, _id: d };
  }

  /** One page of statements plus whether more follow. */
  async query(q: StatementQuery): Promise<{ docs: StoredDoc[]; more: boolean }> {
    const limit = q.limit > 0 && q.limit <= MAX_LIMIT ? q.limit : MAX_LIMIT;
    const docs = await this.statements
      .find(StatementsService.filter(q), { stored: 1, att: 1 })
      .sort(StatementsService.sort(q))
      .limit(limit + 1)
      .lean();
    return { docs: await this.withBodies(docs.slice(0, limit) as StatementDoc[]), more: docs.length > limit };
  }

  async attachmentsOf(docs: Pick<StatementDoc, 'att'>[]): Promise<AttachmentDoc[]> {
    const shas = [...new Set(docs.flatMap((d) => d.att ?? []))];
    const out: AttachmentDoc[] = [];
    for (const sha of shas) {
      const a = await this.attachments.findById(sha).lean();
      const data = a?.data as unknown;
      if (a) out.push({ ...a, data: Buffer.isBuffer(data) ? data : Buffer.from((data as { buffer: Uint8Array }).buffer) });
    }
    return out;
  }

  async lastStored(): Promise<Date | undefined> {
    const d = await this.statements.findOne({}, { stored: 1 }).sort({ stored: -1 }).lean();
    return d?.stored;
  }
}
