import type Database from 'better-sqlite3';
import type { ReleasedOrder } from '../release/orders';
import type { OutboxStore } from './store';

/** A problem the release met, as kept for a person to look at. */
export interface ReleaseProblem {
  kind: ReleaseProblemKind;
  /** What it is about: an order, a topic, a work center. */
  subject: string;
  detail: string;
  /** The content that could not be used (a foreign message), clipped. */
  raw: string | null;
  firstAt: number;
  lastAt: number;
  count: number;
}

export type ReleaseProblemKind = 'unknown-workcenter' | 'foreign-content' | 'unknown-ack' | 'write-refused' | 'bad-ack';

export interface StoredOrder {
  order: ReleasedOrder;
  asOf: number;
  ack: { at: number; version: string; by: string | null } | null;
}

/** Problems kept at most; the oldest go first. */
const MAX_PROBLEMS = 1000;
const MAX_RAW = 2000;

/**
 * The release's part of the outbox file: the orders last read from Odoo, its
 * cursors, MES acknowledgements and the problems it met. The follower
 * (agent/release) is its only writer.
 */
export class ReleaseStore {
  private readonly st: Record<string, Database.Statement>;

  constructor(private readonly store: OutboxStore) {
    const db = store.db;
    this.st = {
      all: db.prepare(`SELECT id, body, as_of, acked_at, acked_version, acked_by FROM release_orders`),
      upsert: db.prepare(
        `INSERT INTO release_orders(id, name, body, as_of) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, body = excluded.body, as_of = excluded.as_of`,
      ),
      remove: db.prepare(`DELETE FROM release_orders WHERE id = ?`),
      ack: db.prepare(`UPDATE release_orders SET acked_at = ?, acked_version = ?, acked_by = ? WHERE id = ?`),
      meta: db.prepare(`SELECT key, value FROM release_meta`),
      setMeta: db.prepare(`INSERT INTO release_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
      problem: db.prepare(
        `INSERT INTO release_problems(kind, subject, detail, raw, first_at, last_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(kind, subject) DO UPDATE SET detail = excluded.detail, raw = excluded.raw, last_at = excluded.last_at, count = count + 1`,
      ),
      trim: db.prepare(`DELETE FROM release_problems WHERE rowid IN (SELECT rowid FROM release_problems ORDER BY last_at DESC LIMIT -1 OFFSET ?)`),
      problems: db.prepare(
        `SELECT kind, subject, detail, raw, first_at AS firstAt, last_at AS lastAt, count FROM release_problems ORDER BY last_at DESC, rowid DESC LIMIT ?`,
      ),
      problemCounts: db.prepare(`SELECT kind, sum(count) AS n FROM release_problems GROUP BY kind`),
    };
  }

  orders(): StoredOrder[] {
    return (
      this.st.all.all() as Array<{ id: number; body: string; as_of: number; acked_at: number | null; acked_version: string | null; acked_by: string | null }>
    ).map((r) => ({
      order: JSON.parse(r.body) as ReleasedOrder,
      asOf: r.as_of,
      ack: r.acked_at === null ? null : { at: r.acked_at, version: r.acked_version ?? '', by: r.acked_by },
    }));
  }

  /** Store what changed and the new cursors in one transaction. */
  save(changed: ReadonlyArray<{ order: ReleasedOrder; asOf: number }>, removed: readonly number[], meta: Record<string, string>): void {
    this.store.write(() => {
      for (const c of changed) this.st.upsert.run(c.order.id, c.order.name, JSON.stringify(c.order), c.asOf);
      for (const id of removed) this.st.remove.run(id);
      for (const [k, v] of Object.entries(meta)) this.st.setMeta.run(k, v);
    });
  }

  meta(): Record<string, string> {
    return Object.fromEntries((this.st.meta.all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
  }

  ack(id: number, at: number, version: string, by: string | null): void {
    this.store.write(() => this.st.ack.run(at, version, by, id));
  }

  /** Keep a problem (counted when the same kind and subject come again). */
  problem(kind: ReleaseProblemKind, subject: string, detail: string, raw?: string): void {
    const at = this.store.now();
    this.store.write(() => {
      this.st.problem.run(kind, subject, detail, raw === undefined ? null : raw.slice(0, MAX_RAW), at, at);
      this.st.trim.run(MAX_PROBLEMS);
    });
  }

  problems(limit = 50): ReleaseProblem[] {
    return this.st.problems.all(limit) as ReleaseProblem[];
  }

  /** How often each kind of problem was met (all kept rows). */
  problemCounts(): Partial<Record<ReleaseProblemKind, number>> {
    return Object.fromEntries((this.st.problemCounts.all() as Array<{ kind: string; n: number }>).map((r) => [r.kind, r.n]));
  }
}
