/**
 * Open Badges 3.0: each certificate as an OpenBadgeCredential (a W3C Verifiable Credential),
 * secured as a VC-JWT (OB 3.0 §8.2: the credential in the `vc` claim, EdDSA / Ed25519). The
 * issuer's public key is published at /certificates/jwks.json and in the issuer profile, so a
 * verifier that saved them once can check credentials offline.
 */
import { SignJWT } from 'jose';
import type { BadgeKey } from './signing-keys';
import type { CertificateDoc } from './certificate.model';
import { STATUS_CONTEXT, type StatusEntry } from './status-list';

export const OB3_CONTEXT = ['https://www.w3.org/2018/credentials/v1', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'];

export interface IssuerInfo {
  /** URL of the issuer profile (also the JWT `iss`). */
  id: string;
  jwksUrl: string;
  verifyUrl(code: string): string;
}

/**
 * What the credential says in words, in one language (OB 3.0 `inLanguage`): the same certificate
 * is handed out in the reader's language, like its PDF; code, person, dates and score do not change.
 */
export interface BadgeWording {
  language: string;
  title: string;
  institution: string;
  criteria: string;
}

/** The credential; `status` is its entry in the issuer's revocation list (Bitstring Status List). */
export function credentialFor(cert: CertificateDoc, issuer: IssuerInfo, words: BadgeWording, status?: StatusEntry) {
  return {
    '@context': status ? [...OB3_CONTEXT, STATUS_CONTEXT] : OB3_CONTEXT,
    id: issuer.verifyUrl(cert._id),
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer.id, type: ['Profile'], name: words.institution },
    issuanceDate: cert.issuedAt.toISOString(),
    name: words.title,
    credentialSubject: {
      type: ['AchievementSubject'],
      // The person is named, not identified by email: the credential travels with its holder.
      identifier: [{ type: 'IdentityObject', identityType: 'name', hashed: false, identityHash: cert.learnerName }],
      achievement: {
        id: cert.subjectId.startsWith('path:') ? `${issuer.id}#${cert.subjectId}` : cert.subjectId,
        type: ['Achievement'],
        achievementType: 'Certificate',
        name: words.title,
        description: words.title,
        criteria: { narrative: words.criteria },
        inLanguage: words.language,
        ...(cert.hours ? { creditsAvailable: cert.hours } : {}),
      },
      ...(cert.score !== undefined && cert.score !== null ? { result: [{ type: ['Result'], value: String(cert.score) }] } : {}),
      activityEndDate: cert.completedAt.toISOString(),
    },
    ...(status ? { credentialStatus: status } : {}),
  };
}

export async function signCredential(
  cert: CertificateDoc,
  issuer: IssuerInfo,
  words: BadgeWording,
  key: BadgeKey,
  status?: StatusEntry,
): Promise<string> {
  const vc = credentialFor(cert, issuer, words, status);
  return new SignJWT({ vc })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: key.kid })
    .setIssuer(issuer.id)
    .setJti(vc.id)
    .setNotBefore(Math.floor(cert.issuedAt.getTime() / 1000))
    .setIssuedAt(Math.floor(cert.issuedAt.getTime() / 1000))
    .setSubject(`${issuer.id}#subject-${cert.userId}`)
    .sign(key.privateKey);
}
