import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AgentError } from '../errors';
import type { Logger } from '../log';
import type { EventType, StoredEvent } from '../model/event';
import { migrate, SCHEMA_VERSION } from './migrations';
import type { EventState, OutboxRecord } from './outbox';
import { OwnerLock } from './owner-lock';

/** How a process opens the outbox. */
export type OutboxRole =
  /** The running agent: the one owner. It migrates the schema, turns the last run's claims back into pending, and claims. Refused while another owner runs. */
  | 'agent'
  /** The CLI and other tools: read and record operator actions; never touch claims. Migrates only when no agent runs. */
  | 'operator';

export interface StoreOptions {
  path: string;
  role: OutboxRole;
  synchronous?: 'FULL' | 'NORMAL';
  log?: Logger;
  now?: () => number;
  /** How long the agent waits for a tool that briefly holds the owner lock (ms). */
  ownerWaitMs?: number;
}

export const COUNTED = ['pending', 'inflight', 'retrying', 'flagged', 'parked', 'done', 'skipped', 'duplicates', 'invalid', 'conflicts'] as const;
export type CounterName = (typeof COUNTED)[number];

/** A row of the events table. */
export interface EventRow {
  seq: number;
  id: string;
  type: string;
  skey: string;
  state: EventState;
  body: string;
  attempts: number;
  next_at: number | null;
  error: string | null;
  error_code: string | null;
  odoo: string | null;
  original: string | null;
  created_at: number;
  updated_at: number;
}

/**
 * The outbox's SQLite file: the connection, who owns it, the counters, and the
 * write transaction every part goes through. Parts (intake, delivery, operator
 * actions, reports) hold a store and never open the file themselves.
 */
export class OutboxStore {
  readonly db: Database.Database;
  readonly now: () => number;
  readonly log: Logger | undefined;
  readonly role: OutboxRole;
  private readonly lock: OwnerLock | undefined;
  private readonly runInTransaction: Database.Transaction<(fn: () => unknown) => unknown>;
  /** Called at the start of every write transaction (a part forgets what another connection may have changed). */
  private readonly beforeWrite: Array<(otherWrote: boolean) => void> = [];
  /** Called when a write transaction failed (a part drops what it remembered of it). */
  private readonly afterFailure: Array<() => void> = [];
  private dataVersion = -1;
  /** Counter changes of the transaction under way; applied to `cached` once it commits. */
  private readonly delta = new Map<CounterName, number>();
  /** Mirror of the counters table, refreshed after every write transaction. */
  private cached: Record<CounterName, number>;
  private readonly st: { counters: Database.Statement; bump: Database.Statement; dataVersion: Database.Statement };

  constructor(opts: StoreOptions) {
    const file = opts.path !== ':memory:';
    if (file) {
      mkdirSync(dirname(opts.path), { recursive: true });
      refuseEmptyFile(opts.path);
    }
    this.role = opts.role;
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
    // The agent must own the file; a tool owns it only for the moment it may migrate.
    const lock = !file ? undefined : opts.role === 'agent' ? OwnerLock.require(opts.path, opts.ownerWaitMs ?? 5000) : OwnerLock.take(opts.path, 0);
    try {
      this.db = openFile(opts.path);
      this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('temp_store = MEMORY');
      // After a checkpoint the WAL file shrinks back to this size (it would keep its largest size otherwise).
      this.db.pragma(`journal_size_limit = ${4 * 1024 * 1024}`);
      if (lock || !file) {
        const applied = migrate(this.db);
        if (applied.length) this.log?.info({ applied }, 'outbox schema migrated');
      } else {
        checkSchema(this.db, opts.path);
      }
    } catch (err) {
      lock?.release();
      throw asDamage(err, opts.path);
    }
    if (opts.role === 'agent') this.lock = lock;
    else lock?.release();
    this.st = {
      counters: this.db.prepare(`SELECT name, value FROM counters`),
      bump: this.db.prepare(`UPDATE counters SET value = value + ? WHERE name = ?`),
      dataVersion: this.db.prepare(`PRAGMA data_version`).pluck(),
    };
    this.runInTransaction = this.db.transaction((fn: () => unknown) => {
      const v = this.st.dataVersion.get() as number;
      const otherWrote = v !== this.dataVersion;
      this.dataVersion = v;
      for (const f of this.beforeWrite) f(otherWrote);
      return fn();
    });
    this.cached = this.readCounters();
  }

  /** Register what a part does at the start of each write transaction, and after one failed. */
  onWrite(before: (otherWrote: boolean) => void, failed?: () => void): void {
    this.beforeWrite.push(before);
    if (failed) this.afterFailure.push(failed);
  }

  /** Run a write transaction (BEGIN IMMEDIATE) and keep the counter mirror in step with what committed. */
  write<T>(fn: () => T): T {
    this.delta.clear();
    let result: T;
    try {
      result = this.runInTransaction.immediate(fn) as T;
    } catch (err) {
      this.delta.clear();
      for (const f of this.afterFailure) f();
      throw err;
    }
    for (const [k, d] of this.delta) this.cached[k] += d;
    this.delta.clear();
    return result;
  }

  /** Change a counter inside the current write transaction. */
  bump(d: number, name: CounterName): void {
    if (d === 0) return;
    this.st.bump.run(d, name);
    this.delta.set(name, (this.delta.get(name) ?? 0) + d);
  }

  /** The counters as committed (read from the table; the mirror follows). */
  counters(): Record<CounterName, number> {
    this.cached = this.readCounters();
    return { ...this.cached };
  }

  /** Unfinished events as this connection last saw them (cheap: the enqueue path asks for every batch). */
  get unfinished(): number {
    const c = this.cached;
    return c.pending + c.inflight + c.retrying + c.flagged + c.parked;
  }

  close(): void {
    this.db.close();
    this.lock?.release();
  }

  private readCounters(): Record<CounterName, number> {
    const c = Object.fromEntries(COUNTED.map((k) => [k, 0])) as Record<CounterName, number>;
    for (const row of this.st.counters.all() as Array<{ name: string; value: number }>) {
      if ((COUNTED as readonly string[]).includes(row.name)) c[row.name as CounterName] = row.value;
    }
    return c;
  }
}

/** The outbox file is damaged: it is not opened, and nothing is written to it. */
export class OutboxDamagedError extends AgentError {
  constructor(path: string, what: string, cause?: unknown) {
    super(
      'OUTBOX_DAMAGED',
      `the outbox ${path} is damaged (${what}). Nothing was written to it. Stop the agent, keep the file for analysis, and restore the last backup (docs/install.md, "Restoring the outbox"); \`edge-agent outbox check\` lists what is wrong`,
      { cause },
    );
    this.name = 'OutboxDamagedError';
  }
}

/** A read that hit a damaged page becomes OutboxDamagedError naming the file; other errors pass. */
export function asDamage(err: unknown, path: string): unknown {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' ? new OutboxDamagedError(path, (err as Error).message, err) : err;
}

/** Everything SQLite finds wrong with an outbox file (integrity_check: structure, and indexes against rows), read without opening it as an outbox; empty when sound. */
export function checkOutboxFile(path: string): string[] {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    return structureProblems(db, 'integrity_check');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return [(err as Error).message];
    throw err;
  } finally {
    db?.close();
  }
}

/** Problems SQLite finds in the file's structure (`quick_check`: pages and b-trees; `integrity_check`: indexes against rows too); empty when sound. */
export function structureProblems(db: Database.Database, check: 'quick_check' | 'integrity_check', max = 20): string[] {
  const rows = db.pragma(`${check}(${max})`, { simple: false }) as Array<Record<string, string>>;
  const lines = rows.map((r) => Object.values(r)[0] ?? '');
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
}

/**
 * The agent's look at the file's structure (`quick_check`: pages and b-trees, about 2 s per
 * million events), in a worker thread on a read-only connection of its own so a large outbox
 * does not hold up the start: resolves when sound, rejects with OutboxDamagedError naming the file.
 */
export function checkStructure(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'structure-check-worker.js'), { workerData: { path, max: 5 } });
    worker.once('message', (problems: string[]) => (problems.length ? reject(new OutboxDamagedError(path, problems.join('; '))) : resolve()));
    worker.once('error', reject);
  });
}

/** Open the file in WAL mode; a file that is not a database (a damaged header) is named, not a stack trace. */
function openFile(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    return db;
  } catch (err) {
    db?.close();
    throw asDamage(err, path);
  }
}

/** An empty file where the outbox should be is damage (a truncation), not a new outbox: SQLite would silently start afresh in it. */
function refuseEmptyFile(path: string): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return; // no file yet: a new outbox
  }
  if (size === 0) throw new OutboxDamagedError(path, 'the file is empty; if this is a new installation, delete it and start again');
}

/** A tool opening an outbox an agent owns: the agent has migrated it; a schema other than this program's is refused, not changed. */
function checkSchema(db: Database.Database, path: string): void {
  const v = db.pragma('user_version', { simple: true }) as number;
  if (v === SCHEMA_VERSION) return;
  db.close();
  throw new AgentError(
    'OUTBOX_SCHEMA',
    v > SCHEMA_VERSION
      ? `outbox ${path} has schema ${v}, newer than this program understands (${SCHEMA_VERSION}): use the edge-agent of the running agent`
      : `outbox ${path} has schema ${v} and the running agent has not migrated it to ${SCHEMA_VERSION}: use the edge-agent of the running agent`,
  );
}

/** How an event is stored: the envelope fields that are not columns, the payload, and the time a person chose to write (`w`), if any. */
export function bodyOf(e: StoredEvent): string {
  return JSON.stringify({ o: e.occurredAt, r: e.receivedAt, s: e.source, p: e.payload, ...(e.writeAt ? { w: e.writeAt } : {}) });
}

/** The event a stored row holds. */
export function eventOf(row: Pick<EventRow, 'id' | 'type' | 'skey' | 'body'>): StoredEvent {
  const b = JSON.parse(row.body) as { o: string; r: string; s: string; p: unknown; w?: string };
  const e = { id: row.id, type: row.type, sequenceKey: row.skey, occurredAt: b.o, receivedAt: b.r, source: b.s, payload: b.p } as StoredEvent;
  if (b.w) e.writeAt = b.w;
  return e;
}

export function toRecord(row: EventRow): OutboxRecord {
  const event = eventOf(row);
  return {
    seq: row.seq,
    id: row.id,
    type: row.type as EventType,
    sequenceKey: row.skey,
    state: row.state,
    event,
    attempts: row.attempts,
    nextAttemptAt: row.next_at,
    error: row.error,
    errorCode: row.error_code,
    odooIds: row.odoo ? (JSON.parse(row.odoo) as Record<string, number | number[]>) : null,
    originalPayload: row.original ? (JSON.parse(row.original) as unknown) : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
