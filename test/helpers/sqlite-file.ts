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
