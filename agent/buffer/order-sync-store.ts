import type Database from 'better-sqlite3';
import type { EventState } from './outbox';
import { toRecord, type EventRow, type OutboxStore } from './store';
import type { OutboxRecord } from './outbox';

/**
 * What the per-order sync view and the reconciliation against Odoo read from
 * and keep in the outbox file: the plant's side of each manufacturing order
 * (its events by state, the latest reported totals), Odoo's side as last read,
 * the done events of a window in pages, and the reconciliation runs.
 */

/** Odoo's side of one manufacturing order, as the order reader made it (agent/sync/order-reader.ts). */
export interface OdooOrderSide {
  id: number;
  name: string;
  state: string;
  product: string | null;
  productQty: number;
  qtyProducing: number;
  qtyProduced: number;
  /** Picked component quantities per product: its name, the references the plant may use for it (internal reference, barcode), the quantity. */
  components: Array<{ product: string; codes: string[]; consumed: number }>;
  /** Done scrap of the order, all products. */
  scrapped: number;
}

export interface CachedOrderSide {
  value: OdooOrderSide;
  readAt: number;
}

/** The plant's side of one manufacturing order, from the outbox. */
export interface PlantOrderSide {
  name: string;
  /** Events per state (done, pending, inflight, retrying, parked, skipped). */
  events: Partial<Record<EventState, number>>;
  /** When its last event was delivered (ms), or null. */
  lastDoneAt: number | null;
  /** The latest production total not skipped, and its state. */
  produced: { total: number; state: EventState } | null;
  /** Consumption reported per product (sum of quantities of events not skipped). */
  consumed: Record<string, number>;
  /** Scrap reported on the order (sum, events not skipped). */
  scrapped: number;
  /** Whether a completion was reported (not skipped). */
  completed: boolean;
}

/** Event types that name a manufacturing order in `payload.production`. */
const ORDER_TYPES = [
  'production.reported',
  'production.completed',
  'material.consumed',
  'scrap.reported',
  'workorder.started',
  'workorder.finished',
  'quality.recorded',
];

const PROD = `json_extract(body, '$.p.production')`;

export class OrderSyncStore {
  private readonly st: ReturnType<typeof prepare>;

  constructor(private readonly store: OutboxStore) {
    this.st = prepare(store.db);
  }

  /** Keep what Odoo held for these orders at `at` (an order read again replaces its row). */
  saveOdooSide(orders: readonly OdooOrderSide[], at: number): void {
    if (orders.length === 0) return;
    this.store.write(() => {
      for (const o of orders) this.st.putOrder.run(o.name, JSON.stringify(o), at);
    });
  }

  /** Forget orders Odoo no longer has (deleted): a read that found none of these names. */
  forgetOdooSide(names: readonly string[]): void {
    if (names.length === 0) return;
    this.store.write(() => {
      for (const n of names) this.st.dropOrder.run(n);
    });
  }

  /** Odoo's side of every order read so far, by name. */
  odooSide(): Map<string, CachedOrderSide> {
    const out = new Map<string, CachedOrderSide>();
    for (const r of this.st.orders.all() as Array<{ name: string; value: string; read_at: number }>) {
      out.set(r.name, { value: JSON.parse(r.value) as OdooOrderSide, readAt: r.read_at });
    }
    return out;
  }

  /** The plant's side of every order its events name (one pass over the events of those types). */
  plantSide(): Map<string, PlantOrderSide> {
    const out = new Map<string, PlantOrderSide>();
    const of = (name: unknown): PlantOrderSide => {
      const key = String(name);
      let o = out.get(key);
      if (!o) {
        o = { name: key, events: {}, lastDoneAt: null, produced: null, consumed: {}, scrapped: 0, completed: false };
        out.set(key, o);
      }
      return o;
    };
    type Row = { prod: string | number; type: string; state: EventState; n: number; last_done: number | null; qty: number | null; product: string | null };
    for (const r of this.st.byOrder.all(...ORDER_TYPES) as Row[]) {
      const o = of(r.prod);
      o.events[r.state] = (o.events[r.state] ?? 0) + r.n;
      if (r.last_done !== null) o.lastDoneAt = Math.max(o.lastDoneAt ?? 0, r.last_done);
      if (r.state === 'skipped') continue;
      if (r.type === 'production.completed') o.completed = true;
      if (r.type === 'scrap.reported') o.scrapped = round(o.scrapped + (r.qty ?? 0));
      if (r.type === 'material.consumed' && r.product !== null) o.consumed[r.product] = round((o.consumed[r.product] ?? 0) + (r.qty ?? 0));
    }
    for (const r of this.st.latestTotals.all() as Array<{ prod: string | number; total: number; state: EventState }>) {
      of(r.prod).produced = { total: r.total, state: r.state };
    }
    return out;
  }

  /**
   * Done events delivered in [since, until], in delivery order, after `after`
   * (the last one of the previous page), of `types` when given.
   */
  doneBetween(
    since: number,
    until: number,
    types: readonly string[] | undefined,
    after: { at: number; seq: number } | undefined,
    limit: number,
  ): OutboxRecord[] {
    const typeSql = types?.length ? `AND type IN (${types.map(() => '?').join(', ')})` : '';
    const sql =
      `SELECT * FROM events WHERE state IN ('done', 'skipped') AND state = 'done' AND updated_at <= ? ` +
      `AND (updated_at > ? OR (updated_at = ? AND seq > ?)) ${typeSql} ORDER BY updated_at, seq LIMIT ?`;
    const from = after ?? { at: since - 1, seq: Number.MAX_SAFE_INTEGER };
    const rows = this.cached(sql).all(until, from.at, from.at, from.seq, ...(types ?? []), limit) as EventRow[];
    return rows.map(toRecord);
  }

  /** Per manufacturing order, the seq of its latest done event of `type` (a later total supersedes an earlier one). */
  latestDone(type: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.st.latestDone.all(type) as Array<{ prod: string | number; seq: number }>) out.set(String(r.prod), r.seq);
    return out;
  }

  /** Record a reconciliation run; the last 50 are kept. */
  saveRun(startedAt: number, finishedAt: number, result: unknown): void {
    this.store.write(() => {
      this.st.putRun.run(startedAt, finishedAt, JSON.stringify(result));
      this.st.pruneRuns.run();
    });
  }

  /** The latest reconciliation run, or undefined when none ran. */
  lastRun<T>(): { startedAt: number; finishedAt: number; result: T } | undefined {
    const r = this.st.lastRun.get() as { started_at: number; finished_at: number; result: string } | undefined;
    return r ? { startedAt: r.started_at, finishedAt: r.finished_at, result: JSON.parse(r.result) as T } : undefined;
  }

  private readonly statements = new Map<string, Database.Statement>();
  private cached(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.store.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}

function round(n: number): number {
  return Number(n.toPrecision(12));
}

function prepare(db: Database.Database) {
  const types = ORDER_TYPES.map(() => '?').join(', ');
  return {
    putOrder: db.prepare(
      `INSERT INTO odoo_orders(name, value, read_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value, read_at = excluded.read_at`,
    ),
    dropOrder: db.prepare(`DELETE FROM odoo_orders WHERE name = ?`),
    orders: db.prepare(`SELECT name, value, read_at FROM odoo_orders`),
    byOrder: db.prepare(
      `SELECT ${PROD} AS prod, type, state, count(*) AS n,
              max(CASE WHEN state = 'done' THEN updated_at END) AS last_done,
              CASE WHEN type IN ('material.consumed', 'scrap.reported') THEN sum(json_extract(body, '$.p.quantity')) END AS qty,
              CASE WHEN type = 'material.consumed' THEN json_extract(body, '$.p.product') END AS product
       FROM events WHERE type IN (${types}) AND ${PROD} IS NOT NULL
       GROUP BY prod, type, state, product`,
    ),
    latestTotals: db.prepare(
      `SELECT ${PROD} AS prod, json_extract(body, '$.p.totalQuantity') AS total, state FROM events
       WHERE seq IN (SELECT max(seq) FROM events WHERE type = 'production.reported' AND state != 'skipped' GROUP BY ${PROD})`,
    ),
    latestDone: db.prepare(`SELECT ${PROD} AS prod, max(seq) AS seq FROM events WHERE type = ? AND state = 'done' AND ${PROD} IS NOT NULL GROUP BY prod`),
    putRun: db.prepare(`INSERT INTO reconcile_runs(started_at, finished_at, result) VALUES (?, ?, ?)`),
    pruneRuns: db.prepare(`DELETE FROM reconcile_runs WHERE rowid <= (SELECT max(rowid) FROM reconcile_runs) - 50`),
    lastRun: db.prepare(`SELECT started_at, finished_at, result FROM reconcile_runs ORDER BY rowid DESC LIMIT 1`),
  };
}
