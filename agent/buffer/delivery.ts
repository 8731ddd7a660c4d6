import type Database from 'better-sqlite3';
import { AgentError } from '../errors';
import { touch, type KeyIndex } from './key-index';
import type { EventState, OutboxRecord, RunPolicy, Settlement } from './outbox';
import { toRecord, type CounterName, type EventRow, type OutboxStore } from './store';

/**
 * Events out, for the agent that owns the outbox: claims (only a key's head,
 * or a run of events behind it), settlements, and after a restart the claims
 * of the last run back to pending. Nothing of a key is claimable while any of
 * its events is in flight.
 */
export class Delivery {
  private readonly st: ReturnType<typeof prepare>;

  constructor(
    private readonly store: OutboxStore,
    private readonly keys: KeyIndex,
  ) {
    this.st = prepare(store.db);
  }

  /** The last run's claims back to pending: their requests may or may not have reached Odoo, and every operation is idempotent. */
  recoverInflight(): void {
    this.mustOwn();
    const moved = this.store.write(() => {
      const changes = this.keys.releaseAllInflight(this.store.now());
      if (changes) {
        this.store.bump(-changes, 'inflight');
        this.store.bump(changes, 'pending');
      }
      return changes;
    });
    if (moved) this.store.log?.info({ events: moved }, 'events that were in flight at the last stop are pending again');
  }

  claim(limit: number, now: number, runs?: RunPolicy): OutboxRecord[] {
    if (limit <= 0) return [];
    this.mustOwn();
    return this.store.write(() => this.claimInTx(limit, now, runs));
  }

  settleAndClaim(settlements: Settlement[], limit: number, now: number, runs?: RunPolicy): OutboxRecord[] {
    this.mustOwn();
    return this.store.write(() => {
      this.settleInTx(settlements, now);
      return limit > 0 ? this.claimInTx(limit, now, runs) : [];
    });
  }

  claimFollowing(type: string, tails: ReadonlyArray<{ sequenceKey: string; afterSeq: number }>, perKey: number, now: number): OutboxRecord[] {
    if (perKey <= 0 || tails.length === 0) return [];
    this.mustOwn();
    return this.store.write(() => {
      const out: OutboxRecord[] = [];
      const counted = { pending: 0, retrying: 0 };
      for (const { sequenceKey, afterSeq } of tails) {
        const tail = this.st.stateOf.get(afterSeq) as { state: EventState; skey: string } | undefined;
        if (tail?.state === 'inflight' && tail.skey === sequenceKey) this.keys.takeRun(sequenceKey, afterSeq, type, perKey, now, counted, out);
      }
      this.countClaimed(counted, out.length);
      return out;
    });
  }

  oldestReadySeq(now: number): number | null {
    const [row] = this.st.ready.all(now, 1) as Array<{ seq: number }>;
    return row?.seq ?? null;
  }

  nextRetryAt(): number | null {
    const r = this.st.nextRetry.get() as { at: number | null } | undefined;
    return r?.at ?? null;
  }

  settle(settlements: Settlement[], now: number): void {
    if (settlements.length === 0) return;
    this.mustOwn();
    this.store.write(() => this.settleInTx(settlements, now));
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
        if (runs!.types.has(h.type)) this.keys.takeRun(h.sequenceKey, h.seq, h.type, share, now, counted, out);
      }
    }
    this.countClaimed(counted, out.length);
    return out;
  }

  private countClaimed(counted: { pending: number; retrying: number }, claimed: number): void {
    this.store.bump(-counted.pending, 'pending');
    this.store.bump(-counted.retrying, 'retrying');
    this.store.bump(claimed, 'inflight');
  }

  private settleInTx(settlements: Settlement[], now: number): void {
    const delta = new Map<CounterName, number>();
    const add = (k: CounterName, d: number) => delta.set(k, (delta.get(k) ?? 0) + d);
    // Each touched key's head is set once at the end: a run of a key settles many events.
    const touched = new Map<string, number>();
    for (const s of settlements) {
      const row = this.st.stateOf.get(s.seq) as { state: EventState; skey: string } | undefined;
      if (!row || row.state !== 'inflight') continue;
      add('inflight', -1);
      touch(touched, row.skey, s.seq);
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
    this.keys.advanceAll(touched);
    for (const [k, d] of delta) if (d) this.store.bump(d, k);
  }

  /** Claims belong to the agent that owns the outbox; a tool never makes or settles one. */
  private mustOwn(): void {
    if (this.store.role !== 'agent') throw new AgentError('NOT_OWNER', 'only the agent that owns the outbox claims and settles events');
  }
}

function prepare(db: Database.Database) {
  return {
    ready: db.prepare(`SELECT seq FROM heads WHERE state = 'pending' OR (state = 'retrying' AND next_at <= ?) ORDER BY seq LIMIT ?`),
    bySeq: db.prepare(`SELECT * FROM events WHERE seq = ?`),
    // A claimed event is no longer one to check when master data arrives (it may have reached Odoo).
    setState: db.prepare(`UPDATE events SET state = ?, unchecked = 0, updated_at = ? WHERE seq = ?`),
    headState: db.prepare(`UPDATE heads SET state = ?, next_at = ? WHERE skey = ?`),
    stateOf: db.prepare(`SELECT state, skey FROM events WHERE seq = ?`),
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
    nextRetry: db.prepare(`SELECT min(next_at) AS at FROM heads WHERE state = 'retrying'`),
  };
}
