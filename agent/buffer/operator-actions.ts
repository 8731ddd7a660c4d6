import type Database from 'better-sqlite3';
import { AgentError } from '../errors';
import { parseEvent } from '../model/event';
import { touch, type KeyIndex } from './key-index';
import { CLOSED_PERIOD, type ActionFilter, type EventState, type OutboxRecord } from './outbox';
import { bodyOf, eventOf, toRecord, type CounterName, type EventRow, type OutboxStore } from './store';

/**
 * What a person does to events (page or CLI), each in one transaction and
 * written to the audit log: retry, skip or edit what waits for them, replay
 * what was delivered. None of them touches an event in flight, so the CLI may
 * run them while the agent delivers.
 */
export class OperatorActions {
  private readonly st: ReturnType<typeof prepare>;

  constructor(
    private readonly store: OutboxStore,
    private readonly keys: KeyIndex,
  ) {
    this.st = prepare(store.db);
  }

  audit(actor: string, action: string, detail: unknown): void {
    this.st.audit.run(this.store.now(), actor, action, JSON.stringify(detail ?? null));
  }

  retry(filter: ActionFilter, actor: string): number {
    return this.store.write(() => {
      const rows = this.select(filter, ['parked', 'flagged', 'retrying']);
      const now = this.store.now();
      const touched = new Map<string, number>();
      for (const row of rows) {
        this.st.toPending.run(now, row.seq);
        this.move(row.state, 'pending');
        touch(touched, row.skey, row.seq);
      }
      this.keys.advanceAll(touched);
      if (rows.length) this.audit(actor, 'retry', { filter, ids: rows.map((r) => r.id) });
      return rows.length;
    });
  }

  skip(filter: ActionFilter, actor: string, reason: string): number {
    return this.store.write(() => {
      const rows = this.select(filter, ['parked', 'flagged', 'retrying', 'pending']);
      const now = this.store.now();
      const touched = new Map<string, number>();
      for (const row of rows) {
        this.st.toSkipped.run(`skipped by ${actor}: ${reason}${row.error ? ` (was: ${row.error})` : ''}`, now, row.seq);
        this.move(row.state, 'skipped');
        touch(touched, row.skey, row.seq);
      }
      this.keys.advanceAll(touched);
      if (rows.length) this.audit(actor, 'skip', { filter, reason, ids: rows.map((r) => r.id) });
      return rows.length;
    });
  }

  edit(id: string, field: string, value: unknown, actor: string): OutboxRecord {
    return this.store.write(() => {
      const row = this.st.byId.get(id) as EventRow | undefined;
      if (!row) throw new AgentError('NOT_FOUND', `no event ${id}`);
      if (row.state !== 'parked' && row.state !== 'flagged' && row.state !== 'retrying') {
        throw new AgentError('NOT_EDITABLE', `event ${id} is ${row.state}; only parked, flagged or retrying events can be edited`);
      }
      const record = toRecord(row);
      const payload = structuredClone(record.event.payload) as Record<string, unknown>;
      const path = field.replace(/^payload\./, '').split('.');
      if (path.some((seg) => seg === '' || seg === '__proto__' || seg === 'constructor' || seg === 'prototype')) {
        throw new AgentError('INVALID_EDIT', `"${field}" is not a payload field name`);
      }
      setPath(payload, path, value);
      const { writeAt, ...event } = record.event;
      const parsed = parseEvent({ ...event, payload });
      if (!parsed.ok) throw new AgentError('INVALID_EDIT', `the edited event is not valid: ${parsed.reason}`);
      this.st.edit.run(bodyOf({ ...parsed.event, writeAt }), JSON.stringify(record.event.payload), this.store.now(), row.seq);
      this.move(row.state, 'pending');
      this.keys.advance(row.skey, row.seq);
      this.audit(actor, 'edit', { id, field, from: getPath(record.event.payload, path), to: value });
      return toRecord(this.st.bySeq.get(row.seq) as EventRow);
    });
  }

  /** Parked events of a locked period: written to Odoo at `writeAt` (occurredAt kept), pending again, audited. */
  postAt(filter: ActionFilter, writeAt: string, actor: string): OutboxRecord[] {
    if (Number.isNaN(Date.parse(writeAt))) throw new AgentError('USAGE', `"${writeAt}" is not a time`);
    return this.store.write(() => {
      const rows = this.select({ ...filter, errorCode: CLOSED_PERIOD }, ['parked']);
      const now = this.store.now();
      const touched = new Map<string, number>();
      for (const row of rows) {
        this.st.postAt.run(bodyOf({ ...eventOf(row), writeAt }), now, row.seq);
        this.move(row.state, 'pending');
        touch(touched, row.skey, row.seq);
      }
      this.keys.advanceAll(touched);
      if (rows.length) {
        this.audit(actor, 'post-at-open-date', { ids: rows.map((r) => r.id), writeAt, occurredAt: rows.map((r) => eventOf(r).occurredAt) });
      }
      return rows.map((r) => toRecord(this.st.bySeq.get(r.seq) as EventRow));
    });
  }

  replay(since: number, until: number, actor: string): number {
    return this.store.write(() => {
      const rows = this.st.doneBetween.all(since, until) as Array<{ seq: number; skey: string }>;
      const now = this.store.now();
      const touched = new Map<string, number>();
      for (const r of rows) {
        this.st.replay.run(now, r.seq);
        touch(touched, r.skey, r.seq);
      }
      if (rows.length) {
        this.store.bump(-rows.length, 'done');
        this.store.bump(rows.length, 'pending');
      }
      this.keys.advanceAll(touched);
      this.audit(actor, 'replay', { since: new Date(since).toISOString(), until: new Date(until).toISOString(), events: rows.length });
      return rows.length;
    });
  }

  /** Send these done events again (a reconciliation found their records missing in Odoo). Returns how many; ids not done are left as they are. */
  replayIds(ids: readonly string[], actor: string): number {
    return this.store.write(() => {
      const now = this.store.now();
      const touched = new Map<string, number>();
      let n = 0;
      for (const id of ids) {
        const row = this.st.byId.get(id) as EventRow | undefined;
        if (!row || row.state !== 'done') continue;
        this.st.replay.run(now, row.seq);
        touch(touched, row.skey, row.seq);
        n++;
      }
      if (n) {
        this.store.bump(-n, 'done');
        this.store.bump(n, 'pending');
      }
      this.keys.advanceAll(touched);
      this.audit(actor, 'replay', { ids: [...ids], events: n });
      return n;
    });
  }

  private move(from: EventState, to: CounterName): void {
    this.store.bump(-1, from as CounterName);
    this.store.bump(1, to);
  }

  private select(filter: ActionFilter, allowed: EventState[]): EventRow[] {
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
    return this.store.db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY seq`).all(...params) as EventRow[];
  }
}

function prepare(db: Database.Database) {
  return {
    audit: db.prepare(`INSERT INTO audit(at, actor, action, detail) VALUES (?, ?, ?, ?)`),
    byId: db.prepare(`SELECT * FROM events WHERE id = ?`),
    bySeq: db.prepare(`SELECT * FROM events WHERE seq = ?`),
    toPending: db.prepare(`UPDATE events SET state = 'pending', blocking = 1, next_at = NULL, updated_at = ? WHERE seq = ?`),
    toSkipped: db.prepare(`UPDATE events SET state = 'skipped', error = ?, next_at = NULL, updated_at = ? WHERE seq = ?`),
    edit: db.prepare(
      `UPDATE events SET body = ?, original = coalesce(original, ?), state = 'pending', blocking = 1, next_at = NULL, updated_at = ? WHERE seq = ?`,
    ),
    postAt: db.prepare(`UPDATE events SET body = ?, state = 'pending', blocking = 1, next_at = NULL, updated_at = ? WHERE seq = ?`),
    doneBetween: db.prepare(`SELECT seq, skey FROM events WHERE state = 'done' AND updated_at >= ? AND updated_at <= ? ORDER BY seq`),
    replay: db.prepare(`UPDATE events SET state = 'pending', next_at = NULL, updated_at = ? WHERE seq = ?`),
  };
}

/** WHERE clauses for the filters lists and actions share. */
export function whereOf(f: { state?: string; type?: string; sequenceKey?: string; errorCode?: string }): { where: string[]; params: unknown[] } {
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
  if (f.errorCode) {
    where.push('error_code = ?');
    params.push(f.errorCode);
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
