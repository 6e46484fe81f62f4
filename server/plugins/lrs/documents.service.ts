/**
 * Documents with optimistic concurrency: ETag = SHA-1 of the content; If-Match / If-None-Match
 * are checked with a conditional write on the document's `_id` and ETag, so two writers racing
 * cannot both win.
 */
import { createHash } from 'node:crypto';
import type { Model } from 'mongoose';
import { HttpError } from '../../core/errors';
import { isDuplicateKey, MAX_DOCUMENT_BYTES } from '../../core/db/connect';
import type { DocumentDoc, DocumentScope } from './document.model';
import { parseExact, stringifyExact } from './exact-json';
import { isObj } from './validate/primitives';

/** How often an unconditional POST merge that lost a race to another writer is merged again. */
const MERGE_ATTEMPTS = 50;

export interface Preconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  /** PUT with neither header on an existing document is a 409 (profiles; and state in xAPI 2.0). */
  requireForOverwrite?: boolean;
  /** PUT with neither header is a 400 even for a new document (xAPI 1.0.3 profiles). */
  requireAlways?: boolean;
}

const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest('hex');

export function documentKey(scope: DocumentScope, docId: string): string {
  return sha1([scope.kind, scope.activityId ?? '', scope.agent ?? '', scope.registration ?? '', docId].join('\u0000'));
}

/** Tags listed in an If-Match / If-None-Match header, without quotes or weak markers. */
function tags(header: string): string[] {
  return header.split(',').map((t) =>
    t
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1'),
  );
}

const preconditionFailed = (why: string) => new HttpError(412, `Precondition failed: ${why}`, { details: { field: 'If-Match' } });

export function isJsonType(contentType: string | undefined): boolean {
  return !!contentType && /^application\/json\b/i.test(contentType.trim());
}

export class DocumentsService {
  constructor(private readonly docs: Model<DocumentDoc>) {}

  get(scope: DocumentScope, docId: string): Promise<DocumentDoc | null> {
    return this.docs
      .findById(documentKey(scope, docId))
      .lean()
      .then((d) => d && { ...d, content: toBuffer(d.content) });
  }

  async ids(scope: DocumentScope, since?: Date): Promise<string[]> {
    const filter: Record<string, unknown> = {
      kind: scope.kind,
      activityId: scope.activityId,
      agent: scope.agent,
      registration: scope.registration,
    };
    for (const k of Object.keys(filter)) if (filter[k] === undefined) delete filter[k];
    if (scope.kind === 'state' && !scope.registration) filter.registration = { $exists: false };
    if (since) filter.updated = { $gt: since };
    const docs = await this.docs.find(filter, { docId: 1 }).lean();
    return docs.map((d) => d.docId);
  }

  private check(existing: DocumentDoc | null, pre: Preconditions): void {
    if (pre.ifMatch !== undefined) {
      if (!existing) throw preconditionFailed('the document does not exist');
      const t = tags(pre.ifMatch);
      if (!t.includes('*') && !t.includes(existing.etag)) throw preconditionFailed('the document has changed (ETag does not match)');
    }
    if (pre.ifNoneMatch !== undefined && existing) {
      const t = tags(pre.ifNoneMatch);
      if (t.includes('*') || t.includes(existing.etag)) throw preconditionFailed('the document already exists');
    }
  }

  /** Replaces (PUT) the document. */
  async put(scope: DocumentScope, docId: string, content: Buffer, contentType: string, pre: Preconditions): Promise<string> {
    const _id = documentKey(scope, docId);
    const existing = await this.docs.findById(_id, { etag: 1 }).lean();
    this.check(existing, pre);
    if (!existing && pre.requireAlways && pre.ifMatch === undefined && pre.ifNoneMatch === undefined) {
      throw new HttpError(400, 'Send If-None-Match: * to create this document (or If-Match with the ETag to replace it)', {
        details: { field: 'If-None-Match' },
      });
    }
    if (existing && pre.requireForOverwrite && pre.ifMatch === undefined && pre.ifNoneMatch === undefined) {
      throw new HttpError(409, 'The document already exists: send If-Match with its ETag (or If-None-Match: *) to say what you expect', {
        details: { field: 'If-Match' },
      });
    }
    return this.write(_id, scope, docId, content, contentType, existing?.etag);
  }

  /**
   * Merges (POST) JSON objects: top-level properties of the new document replace the old ones.
   * A client that named no ETag asked for a merge into whatever is there, so losing the race to
   * another writer (an AU's two tabs, two server processes) merges again into the newer document
   * instead of answering 412; with If-Match / If-None-Match the precondition stands as sent.
   */
  async merge(scope: DocumentScope, docId: string, content: Buffer, contentType: string, pre: Preconditions): Promise<string> {
    const unconditional = pre.ifMatch === undefined && pre.ifNoneMatch === undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.mergeOnce(scope, docId, content, contentType, pre);
      } catch (err) {
        if (!unconditional || attempt >= MERGE_ATTEMPTS || !(err instanceof HttpError) || err.status !== 412) throw err;
      }
    }
  }

  private async mergeOnce(scope: DocumentScope, docId: string, content: Buffer, contentType: string, pre: Preconditions): Promise<string> {
    const _id = documentKey(scope, docId);
    const existing = await this.get(scope, docId);
    this.check(existing, pre);
    if (!existing) return this.write(_id, scope, docId, content, contentType, undefined);
    if (!isJsonType(existing.contentType) || !isJsonType(contentType)) {
      throw new HttpError(400, 'POST merges JSON documents only: both the stored and the sent document must be application/json objects', {
        details: { field: 'Content-Type' },
      });
    }
    const old = parseObject(existing.content);
    const next = parseObject(content);
    if (!old || !next)
      throw new HttpError(400, 'POST merges JSON objects only: the stored or the sent document is not a JSON object', {
        details: { field: 'content' },
      });
    // Merged with each number kept as written (exact-json.ts).
    return this.write(_id, scope, docId, Buffer.from(stringifyExact({ ...old, ...next })), 'application/json', existing.etag);
  }

  /** Writes only if the document is still what we read (compare-and-set on the ETag). */
  private async write(
    _id: string,
    scope: DocumentScope,
    docId: string,
    content: Buffer,
    contentType: string,
    expectedEtag: string | undefined,
  ): Promise<string> {
    if (content.length > MAX_DOCUMENT_BYTES)
      throw new HttpError(413, `document: larger than the ${MAX_DOCUMENT_BYTES} bytes a document may take`);
    const etag = sha1(content);
    const fields = { ...scope, docId, content, contentType, etag, updated: new Date() };
    if (expectedEtag === undefined) {
      try {
        await this.docs.create({ _id, ...fields });
      } catch (err) {
        if (isDuplicateKey(err)) throw preconditionFailed('the document was created by someone else meanwhile');
        throw err;
      }
    } else {
      const r = await this.docs.updateOne({ _id, etag: expectedEtag }, { $set: fields });
      if (r.matchedCount === 0) throw preconditionFailed('the document was changed by someone else meanwhile');
    }
    return etag;
  }

  async remove(scope: DocumentScope, docId: string, pre: Preconditions): Promise<void> {
    const _id = documentKey(scope, docId);
    const existing = await this.docs.findById(_id, { etag: 1 }).lean();
    this.check(existing, pre);
    if (existing) await this.docs.deleteOne({ _id, etag: existing.etag });
  }

  /** DELETE on the state resource without stateId: every state of that agent in that activity (and registration). */
  async removeAll(scope: DocumentScope): Promise<void> {
    const filter: Record<string, unknown> = { kind: scope.kind, activityId: scope.activityId, agent: scope.agent };
    if (scope.registration) filter.registration = scope.registration;
    await this.docs.deleteMany(filter);
  }
}

function parseObject(b: Buffer): Record<string, unknown> | undefined {
  try {
    const v = parseExact(b.toString('utf8'));
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v && typeof v === 'object' && 'buffer' in v) return Buffer.from((v as { buffer: Uint8Array }).buffer);
  return Buffer.alloc(0);
}
