import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * One issued certificate. `_id` is the public verification code (160 random bits, base32), so
 * /verify/<code> is an `_id` read — the only kind the embedded engine serves from an index.
 */
const certificateSchema = new Schema(
  {
    _id: { type: String },
    kind: { type: String, enum: ['course', 'path'], required: true },
    /** The idempotency key claimed in certificates_claims (`userId:subject:vN`). */
    key: { type: String, required: true },
    userId: { type: String, required: true },
    /** The learner's org unit when issued: what HR scope filters on. */
    orgUnit: { type: String },
    learnerName: { type: String, required: true },
    language: { type: String, required: true },
    /** Course IRI, or `path:<tier>[:<level>]`. */
    subjectId: { type: String, required: true },
    subjectVersion: { type: Number, required: true },
    /** In the issue language (what was printed first). */
    title: { type: String, required: true },
    /**
     * The title and the institution in every language, taken when issued (from the catalog's
     * translations and the template): a copy in another language says what the original said,
     * even after the course is renamed. Absent on certificates issued before copies existed.
     */
    titles: { type: { es: String, pt: String, en: String, _id: false }, default: undefined },
    institutions: { type: { es: String, pt: String, en: String, _id: false }, default: undefined },
    hours: { type: Number, required: true },
    /** Percent 0..100. */
    score: { type: Number },
    completedAt: { type: Date, required: true },
    issuedAt: { type: Date, required: true },
    template: { type: String, required: true },
    institution: { type: String, required: true },
    signatory: { type: String, required: true },
    /** `withdrawn`: the holder's personal data was erased; verification says so and shows nothing about them. */
    status: { type: String, enum: ['valid', 'revoked', 'replaced', 'withdrawn'], required: true, default: 'valid' },
    withdrawnAt: { type: Date },
    revokedAt: { type: Date },
    revokedBy: { type: String },
    revokeReason: { type: String },
    replacedBy: { type: String },
    replacedAt: { type: Date },
    replaces: { type: String },
    reissueReason: { type: String },
    pdfSha256: { type: String, required: true },
    pdfBytes: { type: Number, required: true },
    xapiStatementId: { type: String },
    /** Its bit in the revocation status lists (status-list.ts), given when its badge is first signed. */
    statusIndex: { type: Number },
  },
  { collection: 'certificates_certificates', versionKey: false },
);
// Learner page (own certificates, newest first) and HR lists (their units, newest first).
certificateSchema.index({ userId: 1, issuedAt: -1 });
certificateSchema.index({ orgUnit: 1, issuedAt: -1 });
certificateSchema.index({ status: 1, issuedAt: -1 });
// The ended certificates of one status list.
certificateSchema.index({ status: 1, statusIndex: 1 });

/**
 * Idempotency without transactions: issuing first inserts `_id` = natural key; a duplicate
 * key (11000) means this learner already has (or is getting) this certificate.
 */
const claimSchema = new Schema(
  {
    _id: { type: String },
    code: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'certificates_claims', versionKey: false },
);

/**
 * The signed PDF, byte for byte as signed (`_id` the code; a copy in another language
 * `<code>.<lang>`, signed when first asked for), in its own small document (median ~40 KB) so that
 * lists never load PDFs and a download is one `_id` read. GridFS would split each file into
 * chunks for no gain at this size.
 */
const pdfSchema = new Schema(
  {
    _id: { type: String },
    pdf: { type: Buffer, required: true },
  },
  { collection: 'certificates_pdfs', versionKey: false },
);

export type CertificateDoc = InferSchemaType<typeof certificateSchema> & { _id: string };
export type CertificateModel = Model<InferSchemaType<typeof certificateSchema> & { _id: string }>;
export type ClaimModel = Model<InferSchemaType<typeof claimSchema> & { _id: string }>;
export type PdfModel = Model<InferSchemaType<typeof pdfSchema> & { _id: string }>;

export function certificateModels(db: Connection) {
  return {
    certificates:
      (db.models.CertificatesCertificate as CertificateModel) ??
      (db.model('CertificatesCertificate', certificateSchema) as CertificateModel),
    claims: (db.models.CertificatesClaim as ClaimModel) ?? (db.model('CertificatesClaim', claimSchema) as ClaimModel),
    pdfs: (db.models.CertificatesPdf as PdfModel) ?? (db.model('CertificatesPdf', pdfSchema) as unknown as PdfModel),
  };
}
export type CertificateModels = ReturnType<typeof certificateModels>;
