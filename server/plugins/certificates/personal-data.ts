/**
 * Certificates' part of a person's data: the certificates issued to them and their signed PDFs.
 * Erasure deletes the PDFs and the name and marks each certificate `withdrawn`, so its public
 * verification page tells a reader the document no longer attests anything instead of "unknown"
 * (which would look like a forgery).
 */
import type { PersonalDataProvider } from '../../core/privacy';
import type { CertificateDoc, CertificateModels } from './certificate.model';
import type { CertificatesService } from './certificates.service';
import { pdfIds } from './languages';

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function certificatesPersonalData(models: CertificateModels, svc: CertificatesService): PersonalDataProvider {
  return {
    holds: [
      { store: 'certificates_certificates', purpose: 'certificates:personalData.certificates', onErase: 'withdrawn' },
      { store: 'certificates_pdfs', purpose: 'certificates:personalData.pdfs', onErase: 'deleted' },
    ],

    async export({ userId }, archive) {
      const certs = await models.certificates.find({ userId }).sort({ issuedAt: 1 }).lean<CertificateDoc[]>();
      archive.json('certificates', certs);
      for (const cert of certs) {
        // The original and any copy signed in another language (`<code>.<lang>`).
        for (const pdf of await models.pdfs.find({ _id: { $in: pdfIds(cert._id) } }, { _id: 1 }).lean())
          archive.file(`${pdf._id}.pdf`, await svc.pdf(pdf._id));
        if (cert.status === 'valid') archive.file(`${cert._id}.jwt`, Buffer.from(await svc.badge(cert), 'utf8'));
      }
    },

    async erase({ userId, pseudonym }) {
      // An "earned" statement still in the outbox is not recorded once its certificate is withdrawn (below).
      const rekey = (key: string) => (key.startsWith(`${userId}:`) ? pseudonym + key.slice(userId.length) : key);
      // Claims first (found by their key, which starts with the user id): a re-run still finds the certificates.
      for (const claim of await models.claims.find({ _id: { $regex: `^${escapeRegex(userId)}:` } }).lean()) {
        await models.claims.replaceOne({ _id: rekey(claim._id) }, { ...claim, _id: rekey(claim._id) }, { upsert: true });
        await models.claims.deleteOne({ _id: claim._id });
      }
      const now = new Date();
      for (const cert of await models.certificates.find({ userId }).lean<CertificateDoc[]>()) {
        await models.pdfs.deleteMany({ _id: { $in: pdfIds(cert._id) } });
        await models.certificates.updateOne(
          { _id: cert._id },
          { $set: { status: 'withdrawn', withdrawnAt: now, learnerName: '', userId: pseudonym, key: rekey(cert.key) } },
        );
      }
    },
  };
}
