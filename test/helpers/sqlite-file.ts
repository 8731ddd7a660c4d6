import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * A second, plain connection to an outbox file, for what a test checks or
 * breaks behind the outbox's back (rows, schema version, a trigger that makes
 * a write fail). Close it when done.
 */
export function peek(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Run `fn` with a plain connection to the file and close it. */
export function withFile<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = peek(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Overwrite a page in the middle of the file with noise (damage SQLite finds only when it reads that page). */
export function damageMiddlePage(path: string): void {
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, Math.floor(size / 4096 / 2) * 4096);
  closeSync(fd);
}
