/**
 * The LRS's part of a person's data: statements about them, their state and agent-profile
 * documents, and the launch credentials bound to them. Erasure pseudonymises statements rather
 * than deleting them, so every count made from statements stays true: each agent that
 * identifies the person is replaced by the erasure's opaque account agent in the stored JSON,
 * and the index documents are rebuilt from the rewritten JSON.
 */
import type { Model } from 'mongoose';
import type { DataSubject, PersonalDataProvider } from '../../core/privacy';
import type { CredentialsService } from './credentials.service';
import type { DocumentDoc } from './document.model';
import { isJsonType } from './documents.service';
import type { AttachmentDoc, MatchFields, StatementBodyDoc, StatementDoc } from './statement.model';
import { comparisonHash, matchFields } from './statement-fields';
import { actorKeys, ifiKey } from './validate/actor';
import type { Obj } from './validate/primitives';
import { isLosslessNumber, parseExact, parsePlain, stringifyExact } from './exact-json';

interface Models {
  statements: Model<StatementDoc>;
  bodies: Model<StatementBodyDoc>;
  attachments: Model<AttachmentDoc>;
  documents: Model<DocumentDoc>;
}

const keysOf = (subject: DataSubject) => new Set(subject.agents.map((a) => ifiKey(a)).filter((k): k is string => !!k));

const toBuffer = (data: unknown): Buffer =>
  Buffer.isBuffer(data) ? data : Buffer.from((data as { buffer: Uint8Array }).buffer ?? (data as Uint8Array));

/** Every Agent of the statement (at any depth) identified by one of `keys` becomes `replacement`. */
export function replaceAgents(value: unknown, keys: Set<string>, replacement: Obj): unknown {
  if (Array.isArray(value)) return value.map((v) => replaceAgents(v, keys, replacement));
  if (!value || typeof value !== 'object' || isLosslessNumber(value)) return value;
  const o = value as Obj;
  const key = (o.objectType === undefined || o.objectType === 'Agent') && ifiKey(o);
  if (key && keys.has(key)) return { ...replacement };
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) out[k] = replaceAgents(v, keys, replacement);
  return out;
}

/** A JSON document's content with its numbers as sent; one that is not valid JSON as it was stored (base64). */
function jsonOrBase64(content: Buffer): { content: unknown } | { base64: string } {
  try {
    return { content: parseExact(content.toString('utf8')) };
  } catch {
    return { base64: content.toString('base64') };
  }
}

export function lrsPersonalData(m: Models, credentials: CredentialsService): PersonalDataProvider {
  const about = (keys: string[]) => ({
    $or: [{ relAgents: { $in: keys } }, { 'refs.agents': { $in: keys } }, { 'refs.relAgents': { $in: keys } }],
  });
  const isActor = (statement: Obj, keys: Set<string>) => actorKeys(statement.actor as Obj, true).some((k) => keys.has(k));

  return {
    holds: [
      { store: 'lrs_statements, lrs_statement_bodies', purpose: 'lrs:personalData.statements', onErase: 'pseudonymised' },
      { store: 'lrs_attachments', purpose: 'lrs:personalData.attachments', onErase: 'deleted' },
      { store: 'lrs_documents', purpose: 'lrs:personalData.documents', onErase: 'deleted' },
      { store: 'lrs_credentials', purpose: 'lrs:personalData.credentials', onErase: 'deleted' },
    ],

    async export(subject, archive) {
      const keys = keysOf(subject);
      const raws: string[] = [];
      const shas = new Set<string>();
      for await (const w of m.statements
        .find({ agents: { $in: [...keys] } }, { att: 1 })
        .sort({ stored: 1, _id: 1 })
        .lean()
        .cursor()) {
        const body = await m.bodies.findById(w._id).lean();
        if (!body || !isActor(parsePlain(body.raw), keys)) continue;
        raws.push(body.raw); // the exact stored text, numbers and all
        for (const sha of w.att ?? []) shas.add(sha);
      }
      archive.file('statements.json', Buffer.from(`[${raws.join(',\n')}]\n`, 'utf8'));
      for (const sha of shas) {
        const a = await m.attachments.findById(sha).lean();
        if (a) archive.file(`attachments/${sha}`, toBuffer(a.data));
      }
      const docs = await m.documents.find({ agent: { $in: [...keys] } }).lean();
      // JSON documents read and written with the LRS's exact reader: a number the AU stored
      // (12345678901234567890, 2.50) reaches the person as it was sent, not as a double rounds it.
      const listed = docs.map((d) => {
        const content = toBuffer(d.content);
        return {
          kind: d.kind,
          id: d.docId,
          activityId: d.activityId,
          registration: d.registration,
          updated: d.updated.toISOString(),
          contentType: d.contentType,
          ...(isJsonType(d.contentType) ? jsonOrBase64(content) : { base64: content.toString('base64') }),
        };
      });
      archive.file('documents.json', Buffer.from(stringifyExact(listed, 2) + '\n', 'utf8'));
    },

    async erase(subject) {
      const keys = keysOf(subject);
      const pseudonymKey = ifiKey(subject.pseudonymAgent)!;
      const swap = (list?: string[]) => list && [...new Set(list.map((k) => (keys.has(k) ? pseudonymKey : k)))];
      const dropped = new Set<string>();
      for await (const w of m.statements
        .find(about([...keys]))
        .lean()
        .cursor()) {
        const $set: Partial<StatementDoc> = {};
        const $unset: Record<string, 1> = {};
        if (w.relAgents?.some((k) => keys.has(k))) {
          // Body first, then the index rebuilt from it: a re-run after a crash between the two finds the wrapper again.
          const body = await m.bodies.findById(w._id).lean();
          if (body) {
            const original = parseExact(body.raw) as Obj;
            const rewritten = replaceAgents(original, keys, subject.pseudonymAgent) as Obj;
            // What the person attached (and a signature, which holds the original statement) goes with them.
            if (isActor(original, keys) && rewritten.attachments) {
              for (const a of rewritten.attachments as Obj[]) dropped.add(a.sha2 as string);
              delete rewritten.attachments;
              $unset.att = 1;
            }
            await m.bodies.replaceOne({ _id: w._id }, { _id: w._id, raw: stringifyExact(rewritten) });
            const fields: MatchFields = matchFields(rewritten);
            Object.assign($set, { agents: fields.agents, relAgents: fields.relAgents, hash: comparisonHash(rewritten) });
          }
        }
        if (w.refs?.length) $set.refs = w.refs.map((r) => ({ ...r, agents: swap(r.agents)!, relAgents: swap(r.relAgents)! }));
        await m.statements.updateOne({ _id: w._id }, { $set, ...(Object.keys($unset).length ? { $unset } : {}) });
      }
      // Content is stored once per hash: delete only what no other statement still points at.
      for (const sha of dropped) if (!(await m.statements.exists({ att: sha }))) await m.attachments.deleteOne({ _id: sha });
      await m.documents.deleteMany({ agent: { $in: [...keys] } });
      await credentials.removeLaunchTokensFor(keys, (a) => ifiKey(a));
    },
  };
}
