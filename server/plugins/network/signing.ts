/**
 * The institution's Ed25519 key for what it publishes to the network (course feeds, indicator
 * sets), and the verification of what peers publish. Documents are JSON Web Signatures (JWS,
 * RFC 7515, flattened JSON serialisation, `EdDSA`), so any JOSE library checks them; the public
 * key is served as a JWK Set at a well-known URL and pinned by subscribers by its RFC 7638
 * thumbprint. `NETWORK_KEY_FILE` names a PKCS#8 PEM; without it one is created under DATA_DIR.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, flattenedVerify, FlattenedSign, importJWK, type FlattenedJWS, type JWK } from 'jose';
import { HttpError } from '../../core/errors';

export const WELL_KNOWN_KEYS = '/.well-known/network-jwks.json';

export interface SigningKey {
  privateKey: KeyObject;
  publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint of the public key: what a subscriber pins. */
  thumbprint: string;
}

export async function loadSigningKey(dataDir: string, keyFile?: string): Promise<SigningKey> {
  let pem: string;
  if (keyFile) pem = readFileSync(keyFile, 'utf8');
  else {
    const dir = path.join(dataDir, 'network');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'signing-key.pem');
    try {
      // Created once; `wx` lets two processes starting together agree on one key.
      const generated = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      writeFileSync(file, generated, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    pem = readFileSync(file, 'utf8');
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('NETWORK_KEY_FILE must hold an Ed25519 private key (PKCS#8 PEM)');
  const publicJwk = await exportJWK(createPublicKey(privateKey));
  const thumbprint = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { privateKey, publicJwk: { ...publicJwk, kid: thumbprint, alg: 'EdDSA', use: 'sig' }, thumbprint };
}

export async function sign(key: SigningKey, typ: string, payload: unknown): Promise<FlattenedJWS> {
  return new FlattenedSign(Buffer.from(JSON.stringify(payload), 'utf8'))
    .setProtectedHeader({ alg: 'EdDSA', kid: key.thumbprint, typ })
    .sign(key.privateKey);
}

/** A peer's key as pinned: an Ed25519 public JWK whose thumbprint is the pinned one. */
export async function pinnedKey(jwk: JWK, thumbprint: string): Promise<boolean> {
  return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && !jwk.d && (await calculateJwkThumbprint(jwk, 'sha256')) === thumbprint;
}

/**
 * Verifies a signed document with the pinned key and returns its payload; anything else —
 * another key, a changed byte, another document type — is a 422 naming what failed.
 */
export async function verify(doc: unknown, jwk: JWK, typ: string, what: string): Promise<unknown> {
  const jws = doc as FlattenedJWS;
  if (!jws || typeof jws !== 'object' || typeof jws.payload !== 'string' || typeof jws.signature !== 'string') {
    throw new HttpError(422, `${what} is not a signed document (JWS)`);
  }
  let payload: Uint8Array;
  try {
    const r = await flattenedVerify(jws, await importJWK(jwk, 'EdDSA'), { algorithms: ['EdDSA'] });
    if (r.protectedHeader?.typ !== typ) throw new Error(`type ${String(r.protectedHeader?.typ)}, expected ${typ}`);
    payload = r.payload;
  } catch (err) {
    throw new HttpError(422, `${what}: the signature does not verify with the pinned key (${(err as Error).message})`);
  }
  try {
    return JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new HttpError(422, `${what}: the signed payload is not JSON`);
  }
}
