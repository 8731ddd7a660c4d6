import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AgentError } from '../errors';

/**
 * Who owns an outbox: one running agent. The owner holds a write lock on a
 * small SQLite file beside the outbox (`<outbox>-owner`) for as long as it
 * runs; the operating system drops the lock when the process ends, however it
 * ends, so a crash never leaves a stale lock behind. The owner's pid is written
 * beside it (`<outbox>-owner.json`) so a refused second agent can name it.
 */
export class OwnerLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly infoPath: string,
  ) {}

  /** Take the lock, waiting up to `waitMs` for a short holder (a CLI migrating). Undefined when another process holds it. */
  static take(outboxPath: string, waitMs: number): OwnerLock | undefined {
    const db = new Database(`${outboxPath}-owner`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.round(waitMs))}`);
    try {
      db.prepare('BEGIN IMMEDIATE').run();
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') return undefined;
      throw err;
    }
    const infoPath = `${outboxPath}-owner.json`;
    writeFileSync(infoPath, `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`);
    return new OwnerLock(db, infoPath);
  }

  /** Take the lock or throw OUTBOX_IN_USE naming the outbox, its directory and the owner's pid. */
  static require(outboxPath: string, waitMs: number): OwnerLock {
    const lock = OwnerLock.take(outboxPath, waitMs);
    if (lock) return lock;
    throw new OutboxInUseError(outboxPath, readOwner(outboxPath));
  }

  release(): void {
    if (!this.db.open) return;
    rmSync(this.infoPath, { force: true });
    this.db.close();
  }
}

/** The outbox belongs to another running agent. */
export class OutboxInUseError extends AgentError {
  readonly pid: number | undefined;
  constructor(outboxPath: string, owner: { pid?: number; since?: string } | undefined) {
    const who = owner?.pid ? `pid ${owner.pid}${owner.since ? `, since ${owner.since}` : ''}` : 'pid unknown';
    super(
      'OUTBOX_IN_USE',
      `the outbox ${outboxPath} in ${dirname(outboxPath)} belongs to another running agent (${who}); one state directory serves one agent: stop the other one, or give this one its own stateDir and outbox.path`,
    );
    this.name = 'OutboxInUseError';
    this.pid = owner?.pid;
  }
}

function readOwner(outboxPath: string): { pid?: number; since?: string } | undefined {
  try {
    return JSON.parse(readFileSync(`${outboxPath}-owner.json`, 'utf8')) as { pid?: number; since?: string };
  } catch {
    return undefined;
  }
}
