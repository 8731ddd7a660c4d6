import type Database from 'better-sqlite3';
import type { CanonicalEvent } from '../model/event';
import type { EventCheck, EventState, Flag, OutboxRecord } from './outbox';
import { bodyOf, toRecord, type EventRow, type OutboxStore } from './store';

/**
 * Order per key: the `heads` table names each open key's oldest event that may
 * be sent (or that blocks it), and the key's tail, a seq in the key's newest
 * bucket. Open events are indexed by arrival bucket (`seq >> 10`, migration 5),
 * so a key's next events are found bucket by bucket up to its tail, and new
 * events land in the newest bucket's few index pages.
 *
 * Every change of an event's state goes through `advance` for its key, inside
 * the store's write transaction.
 */
export class KeyIndex {
  private readonly st: ReturnType<typeof prepare>;
  /** The edge check every event put in the queue passes (set by the outbox owner; undefined: none). */
  check: EventCheck | undefined;

  /**
   * Keys whose heads row exists with its tail in the given bucket, as this
   * connection last wrote or saw it: an insert into that bucket would leave
   * the row as it is, so it is not run. Emptied when a write transaction fails
   * and when another connection committed; a key's entry goes when its head moves.
   */
  private readonly tailBuckets = new Map<string, number>();

  constructor(private readonly store: OutboxStore) {
    this.st = prepare(store.db);
    store.onWrite(
      (otherWrote) => {
        if (otherWrote) this.tailBuckets.clear();
      },
      () => this.tailBuckets.clear(),
    );
  }

  /**
   * Put one event in the queue (its key's head when the key has none). False
   * when its id is already there. With `parked`, it is stored parked for a
   * person with that reason (blocking its key unless told otherwise). With an
   * edge check, an event it flags goes in as `flagged` (the caller counts it as
   * pending; this corrects the counters), and before any master data, as
   * pending marked unchecked.
   */
  insert(e: CanonicalEvent, now: number, parked?: { reason: string; code: string; blocking: boolean }): boolean {
    const check = this.check;
    let insert = this.st.insert;
    if (!parked && check !== undefined) {
      if (!check.ready) insert = this.st.insertUnchecked;
      else {
        const flag = check.check(e);
        if (flag !== undefined) return this.insertFlagged(e, now, flag);
      }
    }
    const info = parked
      ? this.st.insertParked.run(e.id, e.type, e.sequenceKey, parked.blocking ? 1 : 0, bodyOf(e), parked.reason, parked.code, now, now)
      : insert.run(e.id, e.type, e.sequenceKey, bodyOf(e), now, now);
    if (info.changes !== 1) return false;
    const seq = Number(info.lastInsertRowid);
    const bucket = bucketOf(seq);
    if (parked || this.tailBuckets.get(e.sequenceKey) !== bucket) {
      this.st.insertHead.run(e.sequenceKey, seq, seq);
      if (this.tailBuckets.size >= TAIL_CACHE) this.tailBuckets.clear();
      this.tailBuckets.set(e.sequenceKey, bucket);
    }
    // A parked event: let the head say what the key waits for.
    if (parked) this.advance(e.sequenceKey, seq);
    return true;
  }

  private insertFlagged(e: CanonicalEvent, now: number, flag: Flag): boolean {
    const info = this.st.insertFlagged.run(e.id, e.type, e.sequenceKey, bodyOf(e), flag.blocking ? 1 : 0, flag.reason, flag.code, now, now);
    if (info.changes !== 1) return false;
    this.store.bump(-1, 'pending');
    this.store.bump(1, 'flagged');
    const seq = Number(info.lastInsertRowid);
    this.st.insertHead.run(e.sequenceKey, seq, seq); // the key's tail moves to this bucket
    this.advance(e.sequenceKey, seq);
    this.store.log?.warn(
      { id: e.id, type: e.type, sequenceKey: e.sequenceKey, code: flag.code },
      `flagged at the edge, not sent: ${flag.reason} (a person retries, edits or skips it; the next master-data pull looks again)`,
    );
    return true;
  }

  /**
   * Point the key's head at its oldest event that may be sent or blocks, or
   * drop the key when none is left. `from`: the lowest seq of the key whose
   * state just changed; nothing older than it or than the current head can
   * have become the head, and nothing newer than the key's tail is open.
   */
  advance(skey: string, from: number): void {
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

  /** Advance every key touched, from the lowest seq touched in each. */
  advanceAll(touched: Map<string, number>): void {
    for (const [k, from] of touched) this.advance(k, from);
  }

  /** Open events of a key after `afterSeq`, oldest first, at most `limit`: one index seek per bucket up to the key's tail. */
  openAfter(skey: string, afterSeq: number, limit: number): EventRow[] {
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
  takeRun(skey: string, afterSeq: number, type: string, max: number, now: number, counted: { pending: number; retrying: number }, out: OutboxRecord[]): void {
    let last = 0;
    for (const row of this.openAfter(skey, afterSeq, max)) {
      if (row.type !== type || (row.state !== 'pending' && row.state !== 'retrying')) break;
      counted[row.state]++;
      last = row.seq;
      out.push(toRecord({ ...row, state: 'inflight', updated_at: now }));
    }
    for (let b = bucketOf(afterSeq + 1); last && b <= bucketOf(last); b++) this.st.runInflight.run(now, b, skey, afterSeq, last);
  }

  /** Every open event of the keys in flight back to pending (the agent's start after a stop or a crash). Returns how many. */
  releaseAllInflight(now: number): number {
    const keys = this.st.inflightHeads.all() as Array<{ skey: string; seq: number; tail: number | null }>;
    let changes = 0;
    let last: number | undefined;
    for (const k of keys) {
      const tail = k.tail ?? (last ??= this.lastSeq());
      for (let b = bucketOf(k.seq); b <= bucketOf(tail); b++) changes += this.st.backToPending.run(now, b, k.skey, k.seq).changes;
    }
    this.st.headsPending.run();
    return changes;
  }

  lastSeq(): number {
    return (this.st.lastSeq.get() as { seq: number | null }).seq ?? 0;
  }
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(
      `INSERT INTO events(id, type, skey, state, body, created_at, updated_at)
       VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
    ),
    insertParked: db.prepare(
      `INSERT INTO events(id, type, skey, state, blocking, body, error, error_code, created_at, updated_at)
       VALUES (?, ?, ?, 'parked', ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
    ),
    insertUnchecked: db.prepare(
      `INSERT INTO events(id, type, skey, state, body, created_at, updated_at, unchecked)
       VALUES (?, ?, ?, 'pending', ?, ?, ?, 1) ON CONFLICT(id) DO NOTHING`,
    ),
    insertFlagged: db.prepare(
      `INSERT INTO events(id, type, skey, state, body, blocking, error, error_code, created_at, updated_at)
       VALUES (?, ?, ?, 'flagged', ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
    ),
    // A new key's head; for a key that has one, only its tail moves, and only
    // into a newer bucket (searches stop at the tail's bucket): most inserts
    // leave the heads page alone.
    insertHead: db.prepare(
      `INSERT INTO heads(skey, seq, state, tail) VALUES (?, ?, 'pending', ?)
       ON CONFLICT(skey) DO UPDATE SET tail = excluded.tail WHERE heads.tail IS NULL OR (heads.tail >> 10) < (excluded.tail >> 10)`,
    ),
    openInBucket: db.prepare(`SELECT * FROM events WHERE (seq >> 10) = ? AND skey = ? AND seq > ? AND state NOT IN ('done', 'skipped') ORDER BY seq LIMIT ?`),
    headInBucket: db.prepare(
      `SELECT seq, state, next_at FROM events
       WHERE (seq >> 10) = ? AND skey = ? AND seq >= ? AND state NOT IN ('done', 'skipped') AND NOT (state IN ('parked', 'flagged') AND blocking = 0)
       ORDER BY seq LIMIT 1`,
    ),
    runInflight: db.prepare(
      `UPDATE events SET state = 'inflight', unchecked = 0, updated_at = ?
       WHERE (seq >> 10) = ? AND skey = ? AND seq > ? AND seq <= ? AND state NOT IN ('done', 'skipped')`,
    ),
    lastSeq: db.prepare(`SELECT max(seq) AS seq FROM events`),
    headOf: db.prepare(`SELECT seq, tail FROM heads WHERE skey = ?`),
    upsertHead: db.prepare(
      `INSERT INTO heads(skey, seq, state, next_at, tail) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(skey) DO UPDATE SET seq = excluded.seq, state = excluded.state, next_at = excluded.next_at, tail = coalesce(heads.tail, excluded.tail)`,
    ),
    deleteHead: db.prepare(`DELETE FROM heads WHERE skey = ?`),
    inflightHeads: db.prepare(`SELECT skey, seq, tail FROM heads WHERE state = 'inflight'`),
    backToPending: db.prepare(
      `UPDATE events SET state = 'pending', updated_at = ? WHERE (seq >> 10) = ? AND skey = ? AND seq >= ? AND state NOT IN ('done', 'skipped') AND state = 'inflight'`,
    ),
    headsPending: db.prepare(`UPDATE heads SET state = 'pending', next_at = NULL WHERE state = 'inflight'`),
  };
}

/** Keys whose tail bucket is remembered; the memory is emptied when it is full. */
const TAIL_CACHE = 65_536;

/** The key index's bucket of a seq (migration 5: `seq >> 10`). */
export function bucketOf(seq: number): number {
  return Math.floor(seq / 1024);
}

/** Remember the lowest seq seen per key. */
export function touch(keys: Map<string, number>, skey: string, seq: number): void {
  const seen = keys.get(skey);
  if (seen === undefined || seq < seen) keys.set(skey, seq);
}
