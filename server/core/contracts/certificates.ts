/**
 * What the `certificates` plugin offers the others: the "issued" after-event and a read of one
 * issued certificate by its code (notifications tell the holder that it is ready).
 */
export interface IssuedCertificate {
  /** The public verification code. */
  code: string;
  kind: 'course' | 'path';
  userId: string;
  /** Course IRI, or `path:<tier>[:<level>]`. */
  subjectId: string;
  /** The title as printed, in the language it was issued in. */
  title: string;
  /** The title in every language, taken when issued (absent on older certificates). */
  titles?: { es?: string | null; pt?: string | null; en?: string | null };
  hours: number;
  issuedAt: Date;
  status: 'valid' | 'revoked' | 'replaced' | 'withdrawn';
}

export interface CertificatesDirectory {
  issued(code: string): Promise<IssuedCertificate | undefined>;
}

declare module '../services' {
  interface Services {
    'certificates.directory': CertificatesDirectory;
  }
  interface HookEvents {
    /** A certificate was issued (its "earned" statement follows). */
    'certificates.certificate.issued': { code: string };
  }
}
