import type Database from 'better-sqlite3';
import { flowArrivals } from './flows';
import type { CanonicalEvent } from '../model/event';
import type { AuditEntry, ConflictRecord, InvalidRecord, ListFilter, OutboxCounts, OutboxRecord } from './outbox';
import { whereOf } from './operator-actions';
import { toRecord, type EventRow, type OutboxStore } from './store';

/** One row of the daily arrivals report: events of a type that arrived in a window, by where they stand now. */
export interface ArrivalRow {
  type: string;
  state: string;
  events: number;
}

/** Reads of the outbox for people and reports. Never writes. */
export class Reports {
  private readonly st: ReturnType<typeof prepare>;

  constructor(private readonly store: OutboxStore) {
    this.st = prepare(store.db);
  }

  counts(): OutboxCounts {
    const c = this.store.counters();
    return { ...c, unfinished: c.pending + c.inflight + c.retrying + c.flagged + c.parked };
  }

  oldestUnfinishedAt(): number | null {
    const r = this.st.oldest.get() as { at: number } | undefined;
    return r?.at ?? null;
  }

  get(idOrSeq: string | number): OutboxRecord | undefined {
    const row = (typeof idOrSeq === 'number' ? this.st.bySeq.get(idOrSeq) : this.st.byId.get(idOrSeq)) as EventRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  list(filter: ListFilter = {}): OutboxRecord[] {
    const { where, params } = whereOf(filter);
    if (filter.afterSeq !== undefined) {
      where.push('seq > ?');
      params.push(filter.afterSeq);
    }
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    return (this.store.db.prepare(sql).all(...params, filter.limit ?? 100) as EventRow[]).map(toRecord);
  }

  listInvalid(limit = 100): InvalidRecord[] {
    type Row = { rowid: number; source: string; origin: string; reason: string; raw: string; encoding: 'utf8' | 'base64'; received_at: string };
    return (this.st.invalid.all(limit) as Row[]).map((r) => ({
      rowid: r.rowid,
      source: r.source,
      origin: r.origin,
      reason: r.reason,
      raw: r.raw,
      encoding: r.encoding,
      receivedAt: r.received_at,
    }));
  }

  listConflicts(limit = 100): ConflictRecord[] {
    return (this.st.conflicts.all(limit) as Array<{ id: string; kept: string; refused: string; at: number }>).map((r) => ({
      id: r.id,
      kept: JSON.parse(r.kept) as CanonicalEvent,
      refused: JSON.parse(r.refused) as CanonicalEvent,
      at: r.at,
    }));
  }

  listAudit(limit = 100): AuditEntry[] {
    type Row = { at: number; actor: string; action: string; detail: string };
    return (this.st.audit.all(limit) as Row[]).map((r) => ({ at: r.at, actor: r.actor, action: r.action, detail: JSON.parse(r.detail) as unknown }));
  }

  loadRuleState(): Array<[string, unknown]> {
    return (this.st.ruleState.all() as Array<{ name: string; value: string }>).map((r) => [r.name, JSON.parse(r.value) as unknown]);
  }

  /** Events that arrived in [start, end), per type and where they stand now, and what flows held of them (the daily report). */
  arrivals(start: number, end: number): { received: ArrivalRow[]; flows: ReturnType<typeof flowArrivals> } {
    return { received: this.st.arrivals.all(start, end) as ArrivalRow[], flows: flowArrivals(this.store.db, start, end) };
  }
}

function prepare(db: Database.Database) {
  return {
    oldest: db.prepare(`SELECT e.created_at AS at FROM heads h JOIN events e ON e.seq = h.seq ORDER BY h.seq LIMIT 1`),
    bySeq: db.prepare(`SELECT * FROM events WHERE seq = ?`),
    byId: db.prepare(`SELECT * FROM events WHERE id = ?`),
    invalid: db.prepare(`SELECT * FROM invalid_input ORDER BY rowid DESC LIMIT ?`),
    audit: db.prepare(`SELECT at, actor, action, detail FROM audit ORDER BY rowid DESC LIMIT ?`),
    conflicts: db.prepare(`SELECT id, kept, refused, at FROM conflicts ORDER BY rowid DESC LIMIT ?`),
    ruleState: db.prepare(`SELECT name, value FROM rule_state`),
    arrivals: db.prepare(
      `SELECT type, state, count(*) AS events FROM events WHERE created_at >= ? AND created_at < ? GROUP BY type, state ORDER BY type, state`,
    ),
  };
}
