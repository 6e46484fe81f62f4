import mongoose, { type Connection } from 'mongoose';
import type { Config } from '../config';
import { startEngine, type EngineOwner, type RunningEngine } from './engine';

export interface Database {
  connection: Connection;
  /** 'ferretdb' for the embedded default, 'mongodb' for MONGODB_URI. */
  engine: 'ferretdb' | 'mongodb';
  /** Address without credentials, for status output. */
  address: string;
  embedded?: RunningEngine;
  close(): Promise<void>;
}

/**
 * Opens MONGODB_URI when set, otherwise the embedded FerretDB under DATA_DIR.
 * Every plugin defines its models on this one connection (no mongoose globals).
 */
export async function openDatabase(config: Config, owner: EngineOwner, log: (m: string) => void): Promise<Database> {
  let uri = config.mongodbUri;
  let embedded: RunningEngine | undefined;
  if (!uri) {
    embedded = await startEngine(config.dataDir, owner, log);
    uri = embedded.uri;
  }
  const connection = mongoose.createConnection(uri, {
    dbName: config.dbName,
    serverSelectionTimeoutMS: 15_000,
    // FerretDB is a single node; directConnection keeps the driver from looking for a replica set.
    ...(embedded ? { directConnection: true, retryWrites: false } : {}),
    autoIndex: true,
  });
  try {
    await connection.asPromise();
  } catch (err) {
    await embedded?.stop();
    throw new Error(`Cannot connect to the database at ${redact(uri)}: ${(err as Error).message}`, { cause: err });
  }
  let closed = false;
  return {
    connection,
    engine: embedded ? 'ferretdb' : 'mongodb',
    address: redact(uri),
    embedded,
    async close() {
      if (closed) return;
      closed = true;
      await connection.close();
      await embedded?.stop();
    },
  };
}

export function redact(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

/** Duplicate-key errors are recognised by code, never by message (engines word them differently). */
/**
 * Largest document MongoDB stores (16 MiB), less room for the fields stored beside a body. A larger
 * statement, attachment or xAPI document is refused with 413 before anything is written.
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 - 64 * 1024;

export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}
