/**
 * Signed statements (xAPI Data 2.6): the signature attachment is a JWS (compact) whose payload is
 * the statement as signed. We check it is a well-formed JWS with an RS256/384/512 algorithm, that
 * its payload is the same statement, and — when the JWS carries its certificate chain (x5c) — that
 * the signature verifies with the first certificate's key (jose).
 */
import { compactVerify, decodeProtectedHeader, importX509 } from 'jose';
import { HttpError } from '../../core/errors';
import { comparisonHash } from './statement-fields';
import { parseExact } from './exact-json';
import { SIGNATURE_USAGE } from './validate/parts';
import { isObj, type Obj } from './validate/primitives';

const bad = (path: string, why: string) => new HttpError(400, `${path}: ${why}`, { details: { field: path } });

export async function verifySignature(statement: Obj, jws: Buffer, path: string): Promise<void> {
  const token = jws.toString('utf8').trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token))
    throw bad(path, 'the signature is not a JWS in compact serialisation');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: unknown;
  try {
    header = decodeProtectedHeader(token);
    payload = parseExact(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  } catch {
    throw bad(path, 'the signature JWS header or payload is not valid JSON');
  }
  if (!['RS256', 'RS384', 'RS512'].includes(String(header.alg))) throw bad(path, 'the signature must use RS256, RS384 or RS512');
  if (!isObj(payload)) throw bad(path, 'the signature payload is not a statement');
  // The signed statement has no signature attachment of its own; compare the rest by the spec's rules.
  const withoutSig = (s: Obj): Obj => {
    const atts = (s.attachments as Obj[] | undefined)?.filter((a) => a.usageType !== SIGNATURE_USAGE);
    const { attachments: _a, ...rest } = s;
    return atts && atts.length ? { ...rest, attachments: atts } : rest;
  };
  const signed = withoutSig(payload as Obj);
  const received = withoutSig(statement);
  if (signed.id === undefined) delete received.id;
  if (comparisonHash(signed) !== comparisonHash(received)) throw bad(path, 'the signature payload does not match the statement');
  if (Array.isArray(header.x5c) && header.x5c.length) {
    try {
      const pem = `-----BEGIN CERTIFICATE-----\n${header.x5c[0]}\n-----END CERTIFICATE-----`;
      const key = await importX509(pem, String(header.alg));
      await compactVerify(token, key);
    } catch {
      throw bad(path, 'the signature does not verify with the certificate in its x5c header');
    }
  }
}
