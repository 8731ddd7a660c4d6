import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AgentError, OutboxFullError } from '../errors';
import { parseEvent, type CanonicalEvent, type EventType } from '../model/event';
import type { Logger } from '../log';
import type { InvalidInput } from '../model/signal';
import { FlowStore, pruneFlowMembers, readFlowStatus, type FlowDefinition, type FlowStatus, type FlushResult } from './flows';
import { migrate } from './migrations';
import type {
  ActionFilter,
  AuditEntry,
  EnqueueExtras,
  EnqueueResult,
  EventState,
  InvalidRecord,
  ListFilter,
  Outbox,
  OutboxCounts,
  OutboxRecord,
  RunPolicy,
  Settlement,
} from './outbox';

export interface SqliteOutboxOptions {
  path: string;
  synchronous?: 'FULL' | 'NORMAL';
  /** Under concurrent load, how long a batch may wait for more events (ms, 0-10). */
  windowMs?: number;
  maxBatch?: number;
  maxEvents?: number;
  log?: Logger;
  /** Clock, for tests. */
  now?: () => number;
  /** Batch and roll-up flows (config schedules.flows): events of their types are held until the flow's schedule fires. */
  flows?: readonly FlowDefinition[];
}

interface Waiter {
  events: CanonicalEvent[];
  extras: EnqueueExtras | undefined;
  resolve: (r: EnqueueResult) => void;
  reject: (e: unknown) => void;
}

interface EventRow {
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

const COUNTED = ['pending', 'inflight', 'retrying', 'parked', 'done', 'skipped', 'duplicates', 'invalid'] as const;
type CounterName = (typeof COUNTED)[number];

/**
 * The SQLite outbox (WAL). Writes are synchronous better-sqlite3 transactions;
 * enqueue batches callers into one transaction (group commit) and resolves each
 * caller only after that transaction committed.
 */
export class SqliteOutbox implements Outbox {
  private readonly db: Database.Database;
  private readonly windowMs: number;
  private readonly maxBatch: number;
  private readonly maxEvents: number;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  /** Held events of batch and roll-up flows; undefined when no flow is configured and nothing is held. */
  private readonly flows: FlowStore | undefined;
  private readonly flowDefinitions: readonly FlowDefinition[];

  private queue: Waiter[] = [];
  private queuedEvents = 0;
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private flushKind: 'immediate' | 'timeout' | undefined;
  private lastBatchCallers = 1;
  private closed = false;
  /**
   * Keys whose heads row exists with its tail in the given bucket, as this
   * connection last wrote or saw it: an insert into that bucket would leave
   * the row as it is, so it is not run (insertEvent). Emptied when a write
   * transaction fails and when another connection committed (data_version);
   * a key's entry goes when its head moves.
   */
  private readonly tailBuckets = new Map<string, number>();
  private dataVersion = -1;
  /** Counter changes of the transaction under way; applied to `cached` once it commits. */
  private delta = new Map<CounterName, number>();
  private readonly runInTransaction: Database.Transaction<(fn: () => unknown) => unknown>;
  /** Write transactions committed by enqueue (diagnostics: events per commit). */
  commits = 0;
  /** Mirror of the counters table, refreshed after every write transaction. */
  private cached: Record<CounterName, number>;

  private readonly st: ReturnType<SqliteOutbox['prepare']>;

  constructor(opts: SqliteOutboxOptions) {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new Database(opts.path);
    this.windowMs = opts.windowMs ?? 2;
    this.maxBatch = opts.maxBatch ?? 1000;
    this.maxEvents = opts.maxEvents ?? 1_000_000;
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('temp_store = MEMORY');
    const applied = migrate(this.db);
    if (applied.length) this.log?.info({ applied }, 'outbox schema migrated');
    this.st = this.prepare();
    this.runInTransaction = this.db.transaction((fn: () => unknown) => {
      // Any write may insert events (enqueue, a flow's release): first forget
      // remembered tails if another connection changed the queue meanwhile.
      this.checkDataVersion();
      return fn();
    });
    this.cached = this.readCounters();
    this.recoverInflight();
    this.flowDefinitions = opts.flows ?? [];
    const flows = new FlowStore(this.db, this.flowDefinitions, (e, now) => this.insertEvent(e, now), this.log);
    this.flows = flows.active ? flows : undefined;
  }

  private prepare() {
    const db = this.db;
    return {
      insert: db.prepare(
        `INSERT INTO events(id, type, skey, state, body, created_at, updated_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
      ),
      // A new key's head; for a key that has one, only its tail moves, and only
      // into a newer bucket (searches stop at the tail's bucket): most inserts
      // leave the heads page alone.
      insertHead: db.prepare(
        `INSERT INTO heads(skey, seq, state, tail) VALUES (?, ?, 'pending', ?)
         ON CONFLICT(skey) DO UPDATE SET tail = excluded.tail WHERE heads.tail IS NULL OR (heads.tail >> 10) < (excluded.tail >> 10)`,
      ),
      ready: db.prepare(`SELECT seq FROM heads WHERE state = 'pending' OR (state = 'retrying' AND next_at <= ?) ORDER BY seq LIMIT ?`),
      bySeq: db.prepare(`SELECT * FROM events WHERE seq = ?`),
      byId: db.prepare(`SELECT * FROM events WHERE id = ?`),
      setState: db.prepare(`UPDATE events SET state = ?, updated_at = ? WHERE seq = ?`),
      headState: db.prepare(`UPDATE heads SET state = ?, next_at = ? WHERE skey = ?`),
      stateOf: db.prepare(`SELECT state, skey FROM events WHERE seq = ?`),
      // The key index (migration 5) goes by buckets of 1024 seqs: these read one bucket (see openAfter).
      openInBucket: db.prepare(`SELECT * FROM events WHERE (seq >> 10) = ? AND skey = ? AND seq > ? AND state NOT IN ('done', 'skipped') ORDER BY seq LIMIT ?`),
      headInBucket: db.prepare(
        `SELECT seq, state, next_at FROM events
         WHERE (seq >> 10) = ? AND skey = ? AND seq >= ? AND state NOT IN ('done', 'skipped') AND NOT (state = 'parked' AND blocking = 0)
         ORDER BY seq LIMIT 1`,
      ),
      runInflight: db.prepare(
        `UPDATE events SET state = 'inflight', updated_at = ?
         WHERE (seq >> 10) = ? AND skey = ? AND seq > ? AND seq <= ? AND state NOT IN ('done', 'skipped')`,
      ),
      lastSeq: db.prepare(`SELECT max(seq) AS seq FROM events`),
      headOf: db.prepare(`SELECT seq, tail FROM heads WHERE skey = ?`),
      upsertHead: db.prepare(
        `INSERT INTO heads(skey, seq, state, next_at, tail) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(skey) DO UPDATE SET seq = excluded.seq, state = excluded.state, next_at = excluded.next_at, tail = coalesce(heads.tail, excluded.tail)`,
      ),
      deleteHead: db.prepare(`DELETE FROM heads WHERE skey = ?`),
      dataVersion: db.prepare(`PRAGMA data_version`).pluck(),
      done: db.prepare(
        `UPDATE events SET state = 'done', odoo = ?, attempts = attempts + 1, error = NULL, error_code = NULL, next_at = NULL, updated_at = ?
         WHERE seq = ? AND state = 'inflight'`,
      ),
      retry: db.prepare(
        `UPDATE events SET state = 'retrying', attempts = attempts + 1, next_at = ?, error = ?, error_code = ?, updated_at = ?
         WHERE seq = ? AND state = 'inflight'`,
      ),
      park: db.prepare(
        `UPDATE events SET state = 'parked', attempts = attempts + 1, blocking = ?, error = ?, error_code = ?, next_at = NULL, updated_at = ?
         WHERE seq = ? AND state = 'inflight'`,
      ),
      release: db.prepare(`UPDATE events SET state = 'pending', updated_at = ? WHERE seq = ? AND state = 'inflight'`),
      counters: db.prepare(`SELECT name, value FROM counters`),
      bump: db.prepare(`UPDATE counters SET value = value + ? WHERE name = ?`),
      ruleState: db.prepare(`INSERT INTO rule_state(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`),
      invalid: db.prepare(`INSERT INTO invalid_input(source, origin, reason, raw, encoding, received_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      audit: db.prepare(`INSERT INTO audit(at, actor, action, detail) VALUES (?, ?, ?, ?)`),
      oldest: db.prepare(`SELECT e.created_at AS at FROM heads h JOIN events e ON e.seq = h.seq ORDER BY h.seq LIMIT 1`),
      nextRetry: db.prepare(`SELECT min(next_at) AS at FROM heads WHERE state = 'retrying'`),
    };
  }

  // ---- enqueue: group commit -------------------------------------------------

  hasRoom(n = 1): boolean {
    return this.unfinished() + (this.flows?.held ?? 0) + this.queuedEvents + n <= this.maxEvents;
  }

  enqueue(events: CanonicalEvent[], extras?: EnqueueExtras): Promise<EnqueueResult> {
    if (this.closed) return Promise.reject(new AgentError('OUTBOX_CLOSED', 'outbox is closed', { retryable: true }));
    if (events.length > 0 && !this.hasRoom(events.length)) return Promise.reject(new OutboxFullError(this.maxEvents));
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.queue.push({ events, extras, resolve, reject });
      this.queuedEvents += events.length;
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.queuedEvents >= this.maxBatch) {
      // A full batch goes out on the next loop turn, not after the window.
      if (this.flushKind === 'immediate') return;
      this.clearFlushTimer();
      this.flushKind = 'immediate';
      this.flushTimer = setImmediate(() => this.flush());
      return;
    }
    if (this.flushKind) return;
    // A lone caller commits on the next loop turn: no added latency. When the
    // previous batch had several callers, load is concurrent: wait a little
    // for more of them to share the commit.
    if (this.lastBatchCallers > 1 && this.windowMs > 0) {
      this.flushKind = 'timeout';
      this.flushTimer = setTimeout(() => this.flush(), this.windowMs);
    } else {
      this.flushKind = 'immediate';
      this.flushTimer = setImmediate(() => this.flush());
    }
  }

  private clearFlushTimer(): void {
    if (this.flushKind === 'timeout') clearTimeout(this.flushTimer as NodeJS.Timeout);
    else if (this.flushKind === 'immediate') clearImmediate(this.flushTimer as NodeJS.Immediate);
    this.flushTimer = undefined;
    this.flushKind = undefined;
  }

  private flush(): void {
    this.flushTimer = undefined;
    this.flushKind = undefined;
    if (this.queue.length === 0) return;
    const batch: Waiter[] = [];
    let n = 0;
    while (this.queue.length > 0 && (batch.length === 0 || n + this.queue[0]!.events.length <= this.maxBatch)) {
      const w = this.queue.shift()!;
      batch.push(w);
      n += w.events.length;
    }
    this.queuedEvents -= n;
    this.lastBatchCallers = batch.length;
    let results: EnqueueResult[];
    try {
      results = this.writeBatch(batch);
    } catch (err) {
      this.log?.error({ err, events: n }, 'outbox commit failed');
      const e = new AgentError('OUTBOX_WRITE_FAILED', `outbox commit failed: ${(err as Error).message}`, { cause: err, retryable: true });
      for (const w of batch) w.reject(e);
      if (this.queue.length) this.scheduleFlush();
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
    if (this.queue.length) this.scheduleFlush();
  }

  private writeBatch(batch: Waiter[]): EnqueueResult[] {
    const now = this.now();
    const st = this.st;
    const flows = this.flows;
    return this.flowWrite(() => {
      flows?.refresh();
      const out: EnqueueResult[] = [];
      let queued = 0;
      let duplicates = 0;
      let invalid = 0;
      for (const w of batch) {
        const r: EnqueueResult = { inserted: 0, duplicates: 0 };
        for (const e of w.events) {
          if (flows) {
            // Held by a flow, a duplicate of a held or rolled-up event, or queued after its key's held events.
            const admission = flows.admit(e, now);
            if (admission === 'held') {
              r.inserted++;
              r.held = (r.held ?? 0) + 1;
              continue;
            }
            if (admission === 'duplicate') {
              r.duplicates++;
              continue;
            }
            if (flows.released) {
              r.released = (r.released ?? 0) + flows.released;
              queued += flows.released;
              flows.released = 0;
            }
          }
          if (this.insertEvent(e, now)) {
            r.inserted++;
            queued++;
          } else r.duplicates++;
        }
        for (const [name, value] of w.extras?.ruleState ?? []) st.ruleState.run(name, JSON.stringify(value));
        for (const bad of w.extras?.invalid ?? []) {
          st.invalid.run(bad.source, bad.origin, bad.reason, bad.raw, bad.encoding ?? 'utf8', bad.receivedAt, now);
          invalid++;
        }
        duplicates += r.duplicates;
        out.push(r);
      }
      this.bump(queued, 'pending');
      this.bump(duplicates, 'duplicates');
      this.bump(invalid, 'invalid');
      return out;
    }, true);
  }

  /** Put one event in the queue (and make it its key's head when the key has none). False when its id is already there. */
  private insertEvent(e: CanonicalEvent, now: number): boolean {
    const info = this.st.insert.run(e.id, e.type, e.sequenceKey, bodyOf(e), now, now);
    if (info.changes !== 1) return false;
    // An insert moves the key's tail into its bucket when that is newer; the first of a new key is its head.
    const seq = Number(info.lastInsertRowid);
    const bucket = bucketOf(seq);
    if (this.tailBuckets.get(e.sequenceKey) !== bucket) {
      this.st.insertHead.run(e.sequenceKey, seq, seq);
      if (this.tailBuckets.size >= TAIL_CACHE) this.tailBuckets.clear();
      this.tailBuckets.set(e.sequenceKey, bucket);
    }
    return true;
  }

  /** Forget the cached tails when another connection (the CLI) committed since this one last looked. At the start of every write transaction. */
  private checkDataVersion(): void {
    const v = this.st.dataVersion.get() as number;
    if (v !== this.dataVersion) this.tailBuckets.clear();
    this.dataVersion = v;
  }

  /** A write transaction that may change held events: the flows' in-memory index is read again when it fails. */
  private flowWrite<T>(fn: () => T, fromEnqueue = false): T {
    try {
      return this.write(fn, fromEnqueue);
    } catch (err) {
      this.flows?.reload();
      throw err;
    }
  }

  // ---- batch and roll-up flows (flows.ts) -------------------------------------------

  /** Release one flow's held events into the queue now (its schedule fired), in one transaction. Throws UNKNOWN_FLOW. */
  flushFlow(name: string): FlushResult {
    const flows = this.flows;
    if (!flows?.has(name)) {
      throw new AgentError('UNKNOWN_FLOW', `no flow named "${name}" (flows: ${this.flowDefinitions.map((f) => f.name).join(', ') || 'none configured'})`);
    }
    return this.flowWrite(() => {
      flows.refresh();
      const r = flows.flush(name, this.now());
      this.bump(r.events, 'pending');
      return r;
    });
  }

  /** Release held events whose flow (or whose type in it) is no longer configured. The agent calls it at start. */
  releaseUnscheduledFlows(): FlushResult[] {
    const flows = this.flows;
    if (!flows) return [];
    return this.flowWrite(() => {
      flows.refresh();
      const r = flows.releaseUnscheduled(this.now());
      this.bump(
        r.reduce((n, x) => n + x.events, 0),
        'pending',
      );
      return r;
    });
  }

  /** Per configured flow: events held, keys, since when. */
  flowStatus(): FlowStatus[] {
    return readFlowStatus(this.db, this.flowDefinitions);
  }

  /** Events held by flows now (they count against maxEvents). */
  get heldEvents(): number {
    return this.flows?.held ?? 0;
  }

  /** Run a write transaction and refresh the counter mirror. */
  private write<T>(fn: () => T, fromEnqueue = false): T {
    this.delta.clear();
    let result: T;
    try {
      result = this.runInTransaction.immediate(fn) as T;
    } catch (err) {
      this.delta.clear();
      this.tailBuckets.clear();
      throw err;
    }
    if (fromEnqueue) this.commits++;
    for (const [k, d] of this.delta) this.cached[k] += d;
    this.delta.clear();
    return result;
  }

  /** Change a counter inside the current write transaction. */
  private bump(d: number, name: CounterName): void {
    if (d === 0) return;
    this.st.bump.run(d, name);
    this.delta.set(name, (this.delta.get(name) ?? 0) + d);
  }

  private readCounters(): Record<CounterName, number> {
    const c = Object.fromEntries(COUNTED.map((k) => [k, 0])) as Record<CounterName, number>;
    for (const row of this.st.counters.all() as Array<{ name: string; value: number }>) {
      if ((COUNTED as readonly string[]).includes(row.name)) c[row.name as CounterName] = row.value;
    }
    return c;
  }

  private unfinished(): number {
    const c = this.cached;
    return c.pending + c.inflight + c.retrying + c.parked;
  }

  // ---- delivery ----------------------------------------------------------------

  private recoverInflight(): void {
    const moved = this.write(() => {
      const now = this.now();
      // A key in flight may have runs of events out, not only its head: every
      // open event of the key from its head to its tail, bucket by bucket.
      const keys = this.db.prepare(`SELECT skey, seq, tail FROM heads WHERE state = 'inflight'`).all() as Array<{
        skey: string;
        seq: number;
        tail: number | null;
      }>;
      const back = this.db.prepare(
        `UPDATE events SET state = 'pending', updated_at = ? WHERE (seq >> 10) = ? AND skey = ? AND seq >= ? AND state NOT IN ('done', 'skipped') AND state = 'inflight'`,
      );
      let changes = 0;
      let last: number | undefined;
      for (const k of keys) {
        const tail = k.tail ?? (last ??= this.lastSeq());
        for (let b = bucketOf(k.seq); b <= bucketOf(tail); b++) changes += back.run(now, b, k.skey, k.seq).changes;
      }
      this.db.prepare(`UPDATE heads SET state = 'pending', next_at = NULL WHERE state = 'inflight'`).run();
      if (changes) {
        this.bump(-changes, 'inflight');
        this.bump(changes, 'pending');
      }
      return changes;
    });
    if (moved) this.log?.info({ events: moved }, 'events that were in flight at the last stop are pending again');
  }

  claim(limit: number, now = this.now(), runs?: RunPolicy): OutboxRecord[] {
    if (limit <= 0) return [];
    return this.write(() => this.claimInTx(limit, now, runs));
  }

  settleAndClaim(settlements: Settlement[], limit: number, now = this.now(), runs?: RunPolicy): OutboxRecord[] {
    return this.write(() => {
      this.settleInTx(settlements, now);
      return limit > 0 ? this.claimInTx(limit, now, runs) : [];
    });
  }

  private claimInTx(limit: number, now: number, runs?: RunPolicy): OutboxRecord[] {
    const seqs = this.st.ready.all(now, limit) as Array<{ seq: number }>;
    const heads: OutboxRecord[] = [];
    const counted = { pending: 0, retrying: 0 };
    for (const { seq } of seqs) {
      const row = this.st.bySeq.get(seq) as EventRow | undefined;
      if (!row || (row.state !== 'pending' && row.state !== 'retrying')) continue;
      counted[row.state]++;
      this.st.setState.run('inflight', now, seq);
      this.st.headState.run('inflight', null, row.skey);
      heads.push(toRecord({ ...row, state: 'inflight', updated_at: now }));
    }
    let out = heads;
    // The room left after the heads, shared evenly among the heads that may bring followers.
    const runHeads = runs && runs.max > 1 ? heads.filter((h) => runs.types.has(h.type)) : [];
    const share = runHeads.length ? Math.min(runs!.max - 1, Math.floor((limit - heads.length) / runHeads.length)) : 0;
    if (share > 0) {
      out = [];
      for (const h of heads) {
        out.push(h);
        if (runs!.types.has(h.type)) this.takeRun(h.sequenceKey, h.seq, h.type, share, now, counted, out);
      }
    }
    this.bump(-counted.pending, 'pending');
    this.bump(-counted.retrying, 'retrying');
    this.bump(out.length, 'inflight');
    return out;
  }

  claimFollowing(type: string, tails: ReadonlyArray<{ sequenceKey: string; afterSeq: number }>, perKey: number, now = this.now()): OutboxRecord[] {
    if (perKey <= 0 || tails.length === 0) return [];
    return this.write(() => {
      const out: OutboxRecord[] = [];
      const counted = { pending: 0, retrying: 0 };
      for (const { sequenceKey, afterSeq } of tails) {
        const tail = this.st.stateOf.get(afterSeq) as { state: EventState; skey: string } | undefined;
        if (tail?.state === 'inflight' && tail.skey === sequenceKey) this.takeRun(sequenceKey, afterSeq, type, perKey, now, counted, out);
      }
      this.bump(-counted.pending, 'pending');
      this.bump(-counted.retrying, 'retrying');
      this.bump(out.length, 'inflight');
      return out;
    });
  }

  oldestReadySeq(now = this.now()): number | null {
    const [row] = this.st.ready.all(now, 1) as Array<{ seq: number }>;
    return row?.seq ?? null;
  }

  settle(settlements: Settlement[], now = this.now()): void {
    if (settlements.length === 0) return;
    this.write(() => this.settleInTx(settlements, now));
  }

  private settleInTx(settlements: Settlement[], now: number): void {
    const delta = new Map<CounterName, number>();
    const add = (k: CounterName, d: number) => delta.set(k, (delta.get(k) ?? 0) + d);
    // Each touched key's head is set once at the end: a run of a key settles many events.
    const keys = new Map<string, number>();
    for (const s of settlements) {
      const row = this.st.stateOf.get(s.seq) as { state: EventState; skey: string } | undefined;
      if (!row || row.state !== 'inflight') continue;
      add('inflight', -1);
      touch(keys, row.skey, s.seq);
      switch (s.outcome) {
        case 'done':
          this.st.done.run(JSON.stringify(s.odooIds), now, s.seq);
          add('done', 1);
          break;
        case 'retry':
          this.st.retry.run(s.nextAttemptAt, s.error, s.code ?? null, now, s.seq);
          add('retrying', 1);
          break;
        case 'park':
          this.st.park.run(s.blocking ? 1 : 0, s.reason, s.code ?? null, now, s.seq);
          add('parked', 1);
          break;
        case 'release':
          this.st.release.run(now, s.seq);
          add('pending', 1);
          break;
      }
    }
    for (const [k, from] of keys) this.advanceHead(k, from);
    for (const [k, d] of delta) if (d) this.bump(d, k);
  }

  /**
   * Point the key's head at its oldest event that may be sent or blocks, or
   * drop the key when none is left. `from`: the lowest seq of the key whose
   * state just changed; nothing older than it or than the current head can
   * have become the head, and nothing newer than the key's tail is open.
   */
  private advanceHead(skey: string, from: number): void {
    this.tailBuckets.delete(skey);
    const head = this.st.headOf.get(skey) as { seq: number; tail: number | null } | undefined;
    const start = Math.min(from, head?.seq ?? from);
    type Head = { seq: number; state: EventState; next_at: number | null };
    let next = this.st.headInBucket.get(bucketOf(start), skey, start) as Head | undefined;
    let tail = head?.tail ?? null;
    if (!next) {
      tail ??= this.lastSeq();
      for (let b = bucketOf(start) + 1; !next && b <= bucketOf(tail); b++) next = this.st.headInBucket.get(b, skey, start) as Head | undefined;
    }
    if (!next) this.st.deleteHead.run(skey);
    else this.st.upsertHead.run(skey, next.seq, next.state, next.state === 'retrying' ? next.next_at : null, tail ?? this.lastSeq());
  }

  /** Open events of a key after `afterSeq`, oldest first, at most `limit`: one index seek per bucket up to the key's tail. */
  private openAfter(skey: string, afterSeq: number, limit: number): EventRow[] {
    const out = this.st.openInBucket.all(bucketOf(afterSeq), skey, afterSeq, limit) as EventRow[];
    if (out.length >= limit) return out;
    const tail = (this.st.headOf.get(skey) as { tail: number | null } | undefined)?.tail ?? this.lastSeq();
    const lastBucket = bucketOf(tail);
    for (let b = bucketOf(afterSeq) + 1; out.length < limit && b <= lastBucket; b++) {
      for (const row of this.st.openInBucket.all(b, skey, afterSeq, limit - out.length) as EventRow[]) out.push(row);
    }
    return out;
  }

  /**
   * Claim the events right behind `afterSeq` in a key, of `type`, pending or
   * retrying, at most `max`, into `out`. A run stops at the first event of
   * another type or one a person must look at; what it took is every open
   * event of the key in (afterSeq, last], marked in flight by one statement
   * per bucket.
   */
  private takeRun(
    skey: string,
    afterSeq: number,
    type: string,
    max: number,
    now: number,
    counted: { pending: number; retrying: number },
    out: OutboxRecord[],
  ): void {
    let last = 0;
    for (const row of this.openAfter(skey, afterSeq, max)) {
      if (row.type !== type || (row.state !== 'pending' && row.state !== 'retrying')) break;
      counted[row.state]++;
      last = row.seq;
      out.push(toRecord({ ...row, state: 'inflight', updated_at: now }));
    }
    for (let b = bucketOf(afterSeq + 1); last && b <= bucketOf(last); b++) this.st.runInflight.run(now, b, skey, afterSeq, last);
  }

  private lastSeq(): number {
    return (this.st.lastSeq.get() as { seq: number | null }).seq ?? 0;
  }

  // ---- reading -------------------------------------------------------------------

  counts(): OutboxCounts {
    const c = this.readCounters();
    this.cached = { ...c };
    return { ...c, unfinished: c.pending + c.inflight + c.retrying + c.parked };
  }

  oldestUnfinishedAt(): number | null {
    const r = this.st.oldest.get() as { at: number } | undefined;
    return r?.at ?? null;
  }

  nextRetryAt(): number | null {
    const r = this.st.nextRetry.get() as { at: number | null } | undefined;
    return r?.at ?? null;
  }

  get(idOrSeq: string | number): OutboxRecord | undefined {
    const row = (typeof idOrSeq === 'number' ? this.st.bySeq.get(idOrSeq) : this.st.byId.get(idOrSeq)) as EventRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  list(filter: ListFilter = {}): OutboxRecord[] {
    const { where, params } = whereOf({ state: filter.state, type: filter.type, sequenceKey: filter.sequenceKey });
    if (filter.afterSeq !== undefined) {
      where.push('seq > ?');
      params.push(filter.afterSeq);
    }
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    return (this.db.prepare(sql).all(...params, filter.limit ?? 100) as EventRow[]).map(toRecord);
  }

  listInvalid(limit = 100): InvalidRecord[] {
    return (
      this.db.prepare(`SELECT * FROM invalid_input ORDER BY rowid DESC LIMIT ?`).all(limit) as Array<{
        rowid: number;
        source: string;
        origin: string;
        reason: string;
        raw: string;
        encoding: 'utf8' | 'base64';
        received_at: string;
      }>
    ).map((r) => ({ rowid: r.rowid, source: r.source, origin: r.origin, reason: r.reason, raw: r.raw, encoding: r.encoding, receivedAt: r.received_at }));
  }

  loadRuleState(): Array<[string, unknown]> {
    return (this.db.prepare(`SELECT name, value FROM rule_state`).all() as Array<{ name: string; value: string }>).map((r) => [
      r.name,
      JSON.parse(r.value) as unknown,
    ]);
  }

  // ---- people's actions ------------------------------------------------------------

  audit(actor: string, action: string, detail: unknown): void {
    this.st.audit.run(this.now(), actor, action, JSON.stringify(detail ?? null));
  }

  listAudit(limit = 100): AuditEntry[] {
    return (
      this.db.prepare(`SELECT at, actor, action, detail FROM audit ORDER BY rowid DESC LIMIT ?`).all(limit) as Array<{
        at: number;
        actor: string;
        action: string;
        detail: string;
      }>
    ).map((r) => ({ at: r.at, actor: r.actor, action: r.action, detail: JSON.parse(r.detail) as unknown }));
  }

  private selectForAction(filter: ActionFilter, allowed: EventState[]): EventRow[] {
    const { where, params } = whereOf(filter);
    const states = filter.state ? allowed.filter((s) => s === filter.state) : allowed;
    if (states.length === 0) return [];
    where.push(`state IN (${states.map(() => '?').join(', ')})`);
    params.push(...states);
    if (filter.ids?.length) {
      where.push(`id IN (${filter.ids.map(() => '?').join(', ')})`);
      params.push(...filter.ids);
    }
    if (filter.errorContains) {
      where.push(`instr(error, ?) > 0`);
      params.push(filter.errorContains);
    }
    return this.db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY seq`).all(...params) as EventRow[];
  }

  retry(filter: ActionFilter, actor: string): number {
    return this.write(() => {
      const rows = this.selectForAction(filter, ['parked', 'retrying']);
      const now = this.now();
      const keys = new Map<string, number>();
      for (const row of rows) {
        this.db.prepare(`UPDATE events SET state = 'pending', blocking = 1, next_at = NULL, updated_at = ? WHERE seq = ?`).run(now, row.seq);
        this.bump(-1, row.state as CounterName);
        this.bump(1, 'pending');
        touch(keys, row.skey, row.seq);
      }
      for (const [k, from] of keys) this.advanceHead(k, from);
      if (rows.length) this.audit(actor, 'retry', { filter, ids: rows.map((r) => r.id) });
      return rows.length;
    });
  }

  skip(filter: ActionFilter, actor: string, reason: string): number {
    return this.write(() => {
      const rows = this.selectForAction(filter, ['parked', 'retrying', 'pending']);
      const now = this.now();
      const keys = new Map<string, number>();
      for (const row of rows) {
        this.db
          .prepare(`UPDATE events SET state = 'skipped', error = ?, next_at = NULL, updated_at = ? WHERE seq = ?`)
          .run(`skipped by ${actor}: ${reason}${row.error ? ` (was: ${row.error})` : ''}`, now, row.seq);
        this.bump(-1, row.state as CounterName);
        this.bump(1, 'skipped');
        touch(keys, row.skey, row.seq);
      }
      for (const [k, from] of keys) this.advanceHead(k, from);
      if (rows.length) this.audit(actor, 'skip', { filter, reason, ids: rows.map((r) => r.id) });
      return rows.length;
    });
  }

  edit(id: string, field: string, value: unknown, actor: string): OutboxRecord {
    return this.write(() => {
      const row = this.st.byId.get(id) as EventRow | undefined;
      if (!row) throw new AgentError('NOT_FOUND', `no event ${id}`);
      if (row.state !== 'parked' && row.state !== 'retrying') {
        throw new AgentError('NOT_EDITABLE', `event ${id} is ${row.state}; only parked or retrying events can be edited`);
      }
      const record = toRecord(row);
      const payload = structuredClone(record.event.payload) as Record<string, unknown>;
      const path = field.replace(/^payload\./, '').split('.');
      if (path.some((seg) => seg === '' || seg === '__proto__' || seg === 'constructor' || seg === 'prototype')) {
        throw new AgentError('INVALID_EDIT', `"${field}" is not a payload field name`);
      }
      setPath(payload, path, value);
      const parsed = parseEvent({ ...record.event, payload });
      if (!parsed.ok) throw new AgentError('INVALID_EDIT', `the edited event is not valid: ${parsed.reason}`);
      const now = this.now();
      this.db
        .prepare(`UPDATE events SET body = ?, original = coalesce(original, ?), state = 'pending', blocking = 1, next_at = NULL, updated_at = ? WHERE seq = ?`)
        .run(bodyOf(parsed.event), JSON.stringify(record.event.payload), now, row.seq);
      this.bump(-1, row.state as CounterName);
      this.bump(1, 'pending');
      this.advanceHead(row.skey, row.seq);
      this.audit(actor, 'edit', { id, field, from: getPath(record.event.payload, path), to: value });
      return toRecord(this.st.bySeq.get(row.seq) as EventRow);
    });
  }

  replay(since: number, until: number, actor: string): number {
    return this.write(() => {
      const rows = this.db
        .prepare(`SELECT seq, skey FROM events WHERE state = 'done' AND updated_at >= ? AND updated_at <= ? ORDER BY seq`)
        .all(since, until) as Array<{ seq: number; skey: string }>;
      const now = this.now();
      const keys = new Map<string, number>();
      const upd = this.db.prepare(`UPDATE events SET state = 'pending', next_at = NULL, updated_at = ? WHERE seq = ?`);
      for (const r of rows) {
        upd.run(now, r.seq);
        touch(keys, r.skey, r.seq);
      }
      if (rows.length) {
        this.bump(-rows.length, 'done');
        this.bump(rows.length, 'pending');
      }
      for (const [k, from] of keys) this.advanceHead(k, from);
      this.audit(actor, 'replay', { since: new Date(since).toISOString(), until: new Date(until).toISOString(), events: rows.length });
      return rows.length;
    });
  }

  prune(doneBefore: number, invalidBefore: number): { events: number; invalid: number; flowMembers: number } {
    let events = 0;
    let invalid = 0;
    // Small transactions so delivery is never held up for long.
    for (;;) {
      const removed = this.write(() => {
        const rows = this.db
          .prepare(`SELECT seq, state FROM events WHERE state IN ('done', 'skipped') AND updated_at < ? LIMIT 5000`)
          .all(doneBefore) as Array<{ seq: number; state: 'done' | 'skipped' }>;
        const del = this.db.prepare(`DELETE FROM events WHERE seq = ?`);
        let done = 0;
        for (const r of rows) {
          del.run(r.seq);
          if (r.state === 'done') done++;
        }
        if (done) this.bump(-done, 'done');
        if (rows.length - done) this.bump(-(rows.length - done), 'skipped');
        return rows.length;
      });
      events += removed;
      if (removed < 5000) break;
    }
    this.write(() => {
      const r = this.db.prepare(`DELETE FROM invalid_input WHERE created_at < ?`).run(invalidBefore);
      invalid = r.changes;
      if (invalid) this.bump(-invalid, 'invalid');
    });
    // Released members of flows keep their ids (duplicates) as long as delivered events do.
    const flowMembers = pruneFlowMembers(this.db, doneBefore, (fn) => this.write(fn));
    return { events, invalid, flowMembers };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Commit what callers already handed over before closing.
    this.clearFlushTimer();
    while (this.queue.length) this.flush();
    this.closed = true;
    this.db.close();
  }

  /** For benchmarks and diagnostics: the underlying handle. */
  get database(): Database.Database {
    return this.db;
  }
}

function bodyOf(e: CanonicalEvent): string {
  return JSON.stringify({ o: e.occurredAt, r: e.receivedAt, s: e.source, p: e.payload });
}

function toRecord(row: EventRow): OutboxRecord {
  const b = JSON.parse(row.body) as { o: string; r: string; s: string; p: unknown };
  const event = { id: row.id, type: row.type, sequenceKey: row.skey, occurredAt: b.o, receivedAt: b.r, source: b.s, payload: b.p } as CanonicalEvent;
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

function whereOf(f: { state?: string; type?: string; sequenceKey?: string }): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.state) {
    where.push('state = ?');
    params.push(f.state);
  }
  if (f.type) {
    where.push('type = ?');
    params.push(f.type);
  }
  if (f.sequenceKey) {
    where.push('skey = ?');
    params.push(f.sequenceKey);
  }
  return { where, params };
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur: Record<string, unknown> = obj;
  for (const seg of path.slice(0, -1)) {
    const next = cur[seg];
    if (next === null || typeof next !== 'object') cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}

function getPath(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Record of input the agent could not understand (re-exported for callers that only need the type). */
export type { InvalidInput };

/** Keys whose tail bucket is remembered (insertEvent); the memory is emptied when it is full. */
const TAIL_CACHE = 65_536;

/** The key index's bucket of a seq (migration 5: `seq >> 10`). */
function bucketOf(seq: number): number {
  return Math.floor(seq / 1024);
}

/** Remember the lowest seq seen per key. */
function touch(keys: Map<string, number>, skey: string, seq: number): void {
  const seen = keys.get(skey);
  if (seen === undefined || seq < seen) keys.set(skey, seq);
}
