/**
 * W3C Bitstring Status List v1.0 for the Open Badges credentials: each badge names one bit of a
 * public, signed status list, and the bit is set once the certificate is no longer valid (revoked,
 * replaced or withdrawn), so a verifier that checks `credentialStatus` sees a revoked badge as
 * revoked. A certificate gets its index the first time its badge is signed; indexes are handed out
 * from one atomic counter, and each list holds 131,072 entries (16 KiB, the specification's
 * minimum, so that one fetch of a list reveals nothing about which credential a verifier checks).
 */
import { Bitstring } from '@digitalbazaar/bitstring';
import { SignJWT } from 'jose';
import { Schema, type Connection, type Model } from 'mongoose';
import type { CertificateModel } from './certificate.model';
import type { IssuerInfo } from './badge';
import type { BadgeKey } from './signing-keys';

export const STATUS_CONTEXT = 'https://www.w3.org/ns/credentials/status/v1';
export const LIST_LENGTH = 131_072;

interface CounterDoc {
  _id: string;
  next: number;
}
const counterSchema = new Schema<CounterDoc>({ _id: String, next: Number }, { collection: 'certificates_status_lists', versionKey: false });
const counterModel = (db: Connection): Model<CounterDoc> =>
  (db.models.CertificatesStatusList as Model<CounterDoc>) ?? db.model<CounterDoc>('CertificatesStatusList', counterSchema);

export interface StatusEntry {
  id: string;
  type: 'BitstringStatusListEntry';
  statusPurpose: 'revocation';
  statusListIndex: string;
  statusListCredential: string;
}

export class StatusLists {
  private readonly counters: Model<CounterDoc>;

  constructor(
    db: Connection,
    private readonly certificates: CertificateModel,
    private readonly baseUrl: string,
  ) {
    this.counters = counterModel(db);
  }

  listUrl(list: number): string {
    return `${this.baseUrl}/certificates/status/${list}`;
  }

  /** The certificate's entry, giving it an index first if it has none. */
  async entryFor(code: string): Promise<StatusEntry> {
    const index = await this.indexOf(code);
    const list = Math.floor(index / LIST_LENGTH);
    const bit = index % LIST_LENGTH;
    return {
      id: `${this.listUrl(list)}#${bit}`,
      type: 'BitstringStatusListEntry',
      statusPurpose: 'revocation',
      statusListIndex: String(bit),
      statusListCredential: this.listUrl(list),
    };
  }

  private async indexOf(code: string): Promise<number> {
    const known = await this.certificates.findById(code, { statusIndex: 1 }).lean<{ statusIndex?: number }>();
    if (typeof known?.statusIndex === 'number') return known.statusIndex;
    const counter = await this.counters
      .findOneAndUpdate({ _id: 'revocation' }, { $inc: { next: 1 } }, { upsert: true, returnDocument: 'after' })
      .lean<CounterDoc>();
    const index = counter!.next - 1;
    // Two first downloads at once: the first index written wins, the other is left unused.
    await this.certificates.updateOne({ _id: code, statusIndex: { $exists: false } }, { $set: { statusIndex: index } });
    const now = await this.certificates.findById(code, { statusIndex: 1 }).lean<{ statusIndex?: number }>();
    return now!.statusIndex!;
  }

  /** The signed BitstringStatusListCredential (VC-JWT, like the badges) of one list. */
  async credential(list: number, issuer: IssuerInfo, key: BadgeKey): Promise<string> {
    const bits = new Bitstring({ length: LIST_LENGTH });
    const ended = await this.certificates
      .find(
        { status: { $in: ['revoked', 'replaced', 'withdrawn'] }, statusIndex: { $gte: list * LIST_LENGTH, $lt: (list + 1) * LIST_LENGTH } },
        { statusIndex: 1 },
      )
      .lean<Array<{ statusIndex: number }>>();
    for (const c of ended) bits.set(c.statusIndex - list * LIST_LENGTH, true);
    const id = this.listUrl(list);
    const now = new Date();
    const vc = {
      '@context': ['https://www.w3.org/2018/credentials/v1', STATUS_CONTEXT],
      id,
      type: ['VerifiableCredential', 'BitstringStatusListCredential'],
      issuer: issuer.id,
      issuanceDate: now.toISOString(),
      credentialSubject: {
        id: `${id}#list`,
        type: 'BitstringStatusList',
        statusPurpose: 'revocation',
        // Multibase: "u" marks base64url without padding.
        encodedList: `u${await bits.encodeBits()}`,
      },
    };
    return new SignJWT({ vc })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: key.kid })
      .setIssuer(issuer.id)
      .setJti(id)
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .sign(key.privateKey);
  }
}
