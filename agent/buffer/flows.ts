import type Database from 'better-sqlite3';
import { eventId } from '../model/event-ids';
import { parseEvent, type CanonicalEvent, type EventType } from '../model/event';
import type { Logger } from '../log';

/**
 * Batch and roll-up flows (config `schedules.flows`, docs/flows.md).
 *
 * An event of a type a flow covers is not put in the outbox's queue when it
 * arrives: it is held in `flow_members`, in the same transaction that would
 * have queued it (so it is just as durable), until the flow's schedule fires.
 * Then, in one transaction, a `batch` flow queues the held events as they
 * are, and a `rollup` flow queues one event per group of alike events.
 *
 * Order per key: an event that no flow holds never overtakes a held event of
 * its key. When one arrives for a key with held events, every held event of
 * that key (of any flow) is released first, in the same transaction.
 *
 * The SQLite outbox owns the transactions; this file owns the table and the
 * rules. It never sends anything and never drops anything.
 */

export type FlowMode = 'rollup' | 'batch';

export interface FlowDefinition {
  name: string;
  /** Cron expression (node-cron, optional seconds field). */
  cron: string;
  mode: FlowMode;
  types: readonly string[];
}

/** How the quantity of alike events combines into one. */
type Combine = 'sum' | 'latest';

interface RollupRule {
  /** The payload field that carries the quantity. */
  field: string;
  combine(payload: Record<string, unknown>): Combine;
}

/**
 * Types whose events may be rolled up, from their schemas (agent/model/event.ts).
 * A quantity that is a delta adds up; a quantity that is an absolute total
 * (what was produced so far, what was counted) is taken from the latest event.
 * Every other type describes a single fact (a stop, a check, a request, a
 * state change) that cannot be merged with another: batch mode only.
 */
const ROLLUP_RULES: Partial<Record<EventType, RollupRule>> = {
  'material.consumed': { field: 'quantity', combine: () => 'sum' },
  'scrap.reported': { field: 'quantity', combine: () => 'sum' },
  'production.reported': { field: 'totalQuantity', combine: () => 'latest' },
  // A transfer moves a quantity (adds up); a count states the quantity on hand (latest wins).
  // `kind` is part of the group, so one group never mixes the two.
  'inventory.moved': { field: 'quantity', combine: (p) => (p.kind === 'count' ? 'latest' : 'sum') },
};

export const ROLLUP_TYPES = Object.keys(ROLLUP_RULES) as EventType[];

/** Why a type cannot be rolled up, or undefined when it can (for the config check). */
export function rollupRefusal(type: string): string | undefined {
  if (type in ROLLUP_RULES) return undefined;
  return `${type} cannot be rolled up: each event is a fact of its own with no quantity to add up or total to keep (roll-up types: ${ROLLUP_TYPES.join(', ')}); use mode batch for it`;
}

export interface FlowStatus {
  name: string;
  mode: FlowMode;
  cron: string;
  types: string[];
  /** Events held now, waiting for the flow's schedule. */
  held: number;
  /** Sequence keys (orders, work centers) with held events. */
  keys: number;
  /** When the oldest held event arrived (ms), or null when nothing is held. */
  heldSince: number | null;
  /** Source time of the oldest held event. */
  oldestOccurredAt: string | null;
}

export interface FlushResult {
  flow: string;
  /** Held events released. */
  members: number;
  /** Events that went into the outbox's queue (fewer than members after a roll-up). */
  events: number;
  keys: number;
}

/** Puts one event in the queue the way an enqueue does; false when its id is already there. */
export type QueueInsert = (e: CanonicalEvent, now: number) => boolean;

export type Admission = 'held' | 'duplicate' | 'pass';

interface MemberRow {
  n: number;
  id: string;
  flow: string;
  skey: string;
  mode: FlowMode;
  type: string;
  event: string;
}

/** One event to queue, standing at `at` (the arrival order of the member it takes the place of). */
interface Output {
  at: number;
  event: CanonicalEvent;
  members: number[];
}

const PRUNE_CHUNK = 5000;

/**
 * The held events of one outbox, and the in-memory index the enqueue path
 * consults: which keys have held events, how many are held. The index is
 * loaded at open, changed inside the outbox's write transactions, reloaded
 * after a transaction that failed, and after another connection (the CLI)
 * committed (SQLite's data_version).
 */
export class FlowStore {
  private readonly flows = new Map<string, FlowDefinition>();
  private readonly flowOfType = new Map<string, FlowDefinition>();
  /** Key -> held events (of any flow). */
  private readonly heldKeys = new Map<string, number>();
  /** Types that went into roll-ups but no flow covers now: their ids are checked against flow_members. */
  private retiredTypes = new Set<string>();
  private heldTotal = 0;
  private dataVersion = -1;
  /** Events released into the queue during the transaction under way (read by the outbox after each event). */
  released = 0;
  private readonly st: ReturnType<FlowStore['prepare']>;

  constructor(
    private readonly db: Database.Database,
    definitions: readonly FlowDefinition[],
    private readonly insert: QueueInsert,
    private readonly log?: Logger,
  ) {
    for (const f of definitions) {
      this.flows.set(f.name, f);
      for (const t of f.types) this.flowOfType.set(t, f);
    }
    this.st = this.prepare();
    this.reload();
  }

  private prepare() {
    const db = this.db;
    return {
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      inQueue: db.prepare('SELECT 1 FROM events WHERE id = ?').pluck(),
      isMember: db.prepare('SELECT 1 FROM flow_members WHERE id = ?').pluck(),
      hold: db.prepare(`INSERT INTO flow_members(id, flow, mode, type, skey, event, held_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`),
      heldOfKey: db.prepare(`SELECT n, id, flow, skey, mode, type, event FROM flow_members WHERE skey = ? AND flushed_into IS NULL ORDER BY n`),
      keysOfFlow: db.prepare(`SELECT skey, min(n) AS first FROM flow_members WHERE flow = ? AND flushed_into IS NULL GROUP BY skey ORDER BY first`),
      heldFlows: db.prepare(`SELECT DISTINCT flow FROM flow_members WHERE flushed_into IS NULL`).pluck(),
      markFlushed: db.prepare(`UPDATE flow_members SET flushed_into = ?, flushed_at = ? WHERE n = ?`),
      rolledUp: db.prepare(`INSERT INTO flow_rollup_types(type, last_at) VALUES (?, ?) ON CONFLICT(type) DO UPDATE SET last_at = excluded.last_at`),
      heldByKey: db.prepare(`SELECT skey, count(*) AS held FROM flow_members WHERE flushed_into IS NULL GROUP BY skey`),
      rollupTypes: db.prepare(`SELECT type FROM flow_rollup_types`).pluck(),
    };
  }

  /** Whether anything needs the enqueue path to look here: a flow is configured, events are held, or roll-up ids must be remembered. */
  get active(): boolean {
    return this.flows.size > 0 || this.heldTotal > 0 || this.retiredTypes.size > 0;
  }

  /** Events held now (all flows): they count against the outbox's limit. */
  get held(): number {
    return this.heldTotal;
  }

  has(name: string): boolean {
    return this.flows.has(name);
  }

  /** Read the index again from the table (at open, after a failed transaction, after another connection wrote). */
  reload(): void {
    this.heldKeys.clear();
    this.heldTotal = 0;
    for (const r of this.st.heldByKey.all() as Array<{ skey: string; held: number }>) {
      this.heldKeys.set(r.skey, r.held);
      this.heldTotal += r.held;
    }
    this.retiredTypes = new Set((this.st.rollupTypes.all() as string[]).filter((t) => !this.flowOfType.has(t)));
    this.dataVersion = this.st.dataVersion.get() as number;
  }

  /** At the start of a write transaction: reload when another connection committed since the last look. */
  refresh(): void {
    this.released = 0;
    if ((this.st.dataVersion.get() as number) !== this.dataVersion) this.reload();
  }

  /**
   * Inside an enqueue transaction, before `e` would be queued: hold it (a flow
   * covers its type), refuse it as a duplicate, or let it pass after releasing
   * its key's held events ahead of it. `notHeld`: let it pass whatever its
   * type (an event parked for a person on arrival).
   */
  admit(e: CanonicalEvent, now: number, notHeld = false): Admission {
    const flow = notHeld ? undefined : this.flowOfType.get(e.type);
    if (flow) {
      if (this.st.inQueue.get(e.id) !== undefined) return 'duplicate';
      const r = this.st.hold.run(e.id, flow.name, flow.mode, e.type, e.sequenceKey, JSON.stringify(e), now);
      if (r.changes === 0) return 'duplicate';
      this.heldKeys.set(e.sequenceKey, (this.heldKeys.get(e.sequenceKey) ?? 0) + 1);
      this.heldTotal++;
      return 'held';
    }
    if (this.retiredTypes.has(e.type) && this.st.isMember.get(e.id) !== undefined) return 'duplicate';
    if (this.heldKeys.has(e.sequenceKey)) this.released += this.releaseKey(e.sequenceKey, now);
    return 'pass';
  }

  /** Release every held event of one key (all flows), in arrival order. Returns the events queued. */
  private releaseKey(skey: string, now: number): number {
    const rows = this.st.heldOfKey.all(skey) as MemberRow[];
    return this.release(rows, now);
  }

  /** Release one flow's held events, key by key (the key with the oldest held event first). */
  flush(name: string, now: number): FlushResult {
    const keys = this.st.keysOfFlow.all(name) as Array<{ skey: string }>;
    let members = 0;
    let events = 0;
    for (const { skey } of keys) {
      const rows = (this.st.heldOfKey.all(skey) as MemberRow[]).filter((r) => r.flow === name);
      members += rows.length;
      events += this.release(rows, now);
    }
    return { flow: name, members, events, keys: keys.length };
  }

  /**
   * Release held events whose flow is no longer configured, or whose type
   * their flow no longer covers (the config changed while they were held).
   * Each is released the way its flow would have: rolled up or as it is.
   */
  releaseUnscheduled(now: number): FlushResult[] {
    const out: FlushResult[] = [];
    for (const name of this.st.heldFlows.all() as string[]) {
      const flow = this.flows.get(name);
      const keys = this.st.keysOfFlow.all(name) as Array<{ skey: string }>;
      const result: FlushResult = { flow: name, members: 0, events: 0, keys: 0 };
      for (const { skey } of keys) {
        const rows = (this.st.heldOfKey.all(skey) as MemberRow[]).filter((r) => r.flow === name && (!flow || !flow.types.includes(r.type)));
        if (rows.length === 0) continue;
        result.keys++;
        result.members += rows.length;
        result.events += this.release(rows, now);
      }
      if (result.members) out.push(result);
    }
    return out;
  }

  /** Queue what `rows` (held events of one key, in arrival order) become, and mark them released. */
  private release(rows: MemberRow[], now: number): number {
    if (rows.length === 0) return 0;
    const outputs: Output[] = [];
    const byFlow = new Map<string, MemberRow[]>();
    for (const r of rows) {
      const list = byFlow.get(r.flow);
      if (list) list.push(r);
      else byFlow.set(r.flow, [r]);
    }
    for (const [name, members] of byFlow) {
      const mode = this.flows.get(name)?.mode ?? members[0]!.mode;
      if (mode === 'rollup') outputs.push(...this.rollUp(name, members, now));
      else for (const m of members) outputs.push({ at: m.n, event: JSON.parse(m.event) as CanonicalEvent, members: [m.n] });
    }
    // A roll-up takes the place of its last member; everything goes out in that order.
    outputs.sort((a, b) => a.at - b.at);
    let queued = 0;
    for (const o of outputs) {
      if (this.insert(o.event, now)) queued++;
      for (const n of o.members) this.st.markFlushed.run(o.event.id, now, n);
    }
    const skey = rows[0]!.skey;
    const left = (this.heldKeys.get(skey) ?? rows.length) - rows.length;
    if (left > 0) this.heldKeys.set(skey, left);
    else this.heldKeys.delete(skey);
    this.heldTotal = Math.max(0, this.heldTotal - rows.length);
    return queued;
  }

  /** One event per group of alike events (same type, source and payload but for the quantity). */
  private rollUp(flow: string, members: MemberRow[], now: number): Output[] {
    const groups = new Map<string, Array<{ row: MemberRow; event: CanonicalEvent }>>();
    const asIs: Output[] = [];
    for (const row of members) {
      const event = JSON.parse(row.event) as CanonicalEvent;
      const rule = ROLLUP_RULES[event.type];
      if (!rule) {
        // The type is not one that rolls up (the flow's mode changed while it was held): as it is.
        asIs.push({ at: row.n, event, members: [row.n] });
        continue;
      }
      const key = groupKey(event, rule.field);
      const g = groups.get(key);
      if (g) g.push({ row, event });
      else groups.set(key, [{ row, event }]);
    }
    const out = asIs;
    for (const group of groups.values()) {
      const last = group[group.length - 1]!;
      if (group.length === 1) {
        // A roll-up of one event is that event.
        out.push({ at: last.row.n, event: last.event, members: [last.row.n] });
        continue;
      }
      const rolled = combine(
        flow,
        group.map((g) => g.event),
        new Date(now).toISOString(),
      );
      if (rolled.ok) {
        this.st.rolledUp.run(last.event.type, now);
        if (!this.flowOfType.has(last.event.type)) this.retiredTypes.add(last.event.type);
        out.push({ at: last.row.n, event: rolled.event, members: group.map((g) => g.row.n) });
      } else {
        // Never hold a key back for a roll-up that cannot be made (a sum out of range): release the events as they are.
        this.log?.error(
          { flow, type: last.event.type, sequenceKey: last.event.sequenceKey, members: group.length, reason: rolled.reason },
          'roll-up not possible; the held events are queued as they are',
        );
        for (const g of group) out.push({ at: g.row.n, event: g.event, members: [g.row.n] });
      }
    }
    return out;
  }
}

/** Events that roll up together: same type, key, source and payload apart from the quantity. */
function groupKey(e: CanonicalEvent, quantityField: string): string {
  const rest = Object.entries(e.payload as Record<string, unknown>)
    .filter(([k]) => k !== quantityField)
    .map(([k, v]): [string, unknown] => (k === 'shift' ? [k, shiftOf(v)] : [k, v]))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([e.type, e.sequenceKey, e.source, rest]);
}

/** A report's shift without its running quantity: reports of one shift roll up together. */
function shiftOf(v: unknown): unknown {
  if (!v || typeof v !== 'object') return v;
  const { name, day } = v as { name?: unknown; day?: unknown };
  return { name, day };
}

function occurredMs(e: CanonicalEvent): number {
  return Date.parse(e.occurredAt);
}

/**
 * The one event that stands for `events` (alike, in arrival order, at least
 * two). Its id is derived from the flow and the sorted member ids, so a flush
 * that is re-run after a crash makes the same event, never a second one.
 * "The latest" is the member that arrived last, whatever the source times
 * say (a clock that stepped back must not bring back an older total); its
 * source time is the roll-up's, its receipt time the flush's.
 */
export function combine(flow: string, events: CanonicalEvent[], receivedAt: string): { ok: true; event: CanonicalEvent } | { ok: false; reason: string } {
  const first = events[0]!;
  const rule = ROLLUP_RULES[first.type]!;
  // The latest to arrive (events come in arrival order).
  const latest = events[events.length - 1]!;
  const payload = { ...(latest.payload as Record<string, unknown>) };
  if (rule.combine(payload) === 'sum') {
    const sum = events.reduce((s, e) => s + ((e.payload as Record<string, unknown>)[rule.field] as number), 0);
    // 15 significant digits: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    payload[rule.field] = Number(sum.toPrecision(15));
  }
  const ids = events.map((e) => e.id).sort();
  const parsed = parseEvent({
    id: rollupId(flow, ids, occurredMs(latest)),
    type: first.type,
    sequenceKey: first.sequenceKey,
    occurredAt: latest.occurredAt,
    receivedAt,
    source: first.source,
    payload,
  });
  return parsed.ok ? { ok: true, event: parsed.event } : { ok: false, reason: parsed.reason };
}

/** The id of a roll-up: time-ordered by its source time, deterministic from the flow and its members. */
export function rollupId(flow: string, sortedMemberIds: readonly string[], occurredAtMs: number): string {
  return eventId(occurredAtMs, 'flow-rollup', flow, ...sortedMemberIds);
}

/** Per configured flow: how many events wait for it, for how many keys, since when. Reads the table only. */
export function readFlowStatus(db: Database.Database, flows: readonly FlowDefinition[]): FlowStatus[] {
  const rows = db
    .prepare(`SELECT flow, count(*) AS held, count(DISTINCT skey) AS keys, min(n) AS first FROM flow_members WHERE flushed_into IS NULL GROUP BY flow`)
    .all() as Array<{ flow: string; held: number; keys: number; first: number }>;
  const firstOf = db.prepare(`SELECT held_at, event FROM flow_members WHERE n = ?`);
  const byName = new Map(rows.map((r) => [r.flow, r]));
  return flows.map((f) => {
    const r = byName.get(f.name);
    const first = r ? (firstOf.get(r.first) as { held_at: number; event: string } | undefined) : undefined;
    return {
      name: f.name,
      mode: f.mode,
      cron: f.cron,
      types: [...f.types],
      held: r?.held ?? 0,
      keys: r?.keys ?? 0,
      heldSince: first?.held_at ?? null,
      oldestOccurredAt: first ? (JSON.parse(first.event) as CanonicalEvent).occurredAt : null,
    };
  });
}

export interface FlowJson extends Omit<FlowStatus, 'heldSince'> {
  heldSince: string | null;
  /** When the flow's schedule releases next; null when the agent does not run it (or absent: not known here). */
  nextFlushAt?: string | null;
}

/** Flow status as JSON (/api/status, `edge-agent status --json`, `edge-agent flows --json`): times in ISO 8601. */
export function flowsJson(flows: ReadonlyArray<FlowStatus & { nextFlushAt?: number | null }>): FlowJson[] {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return flows.map(({ nextFlushAt, ...f }) => ({ ...f, heldSince: iso(f.heldSince), ...(nextFlushAt !== undefined ? { nextFlushAt: iso(nextFlushAt) } : {}) }));
}

/** Held events that arrived in [start, end), per flow, type and whether they are still held (the reconciliation report). */
export function flowArrivals(
  db: Database.Database,
  start: number,
  end: number,
): Array<{ flow: string; type: string; state: 'held' | 'released'; events: number }> {
  return db
    .prepare(
      `SELECT flow, type, CASE WHEN flushed_into IS NULL THEN 'held' ELSE 'released' END AS state, count(*) AS events
       FROM flow_members WHERE held_at >= ? AND held_at < ? GROUP BY flow, type, state ORDER BY flow, type, state`,
    )
    .all(start, end) as Array<{ flow: string; type: string; state: 'held' | 'released'; events: number }>;
}

/**
 * Retention: delete released members older than `before` (in small
 * transactions), and forget roll-up types with no member left that young.
 * Runs inside the caller's write helper, once per chunk.
 */
export function pruneFlowMembers(db: Database.Database, before: number, inTransaction: (fn: () => number) => number): number {
  const del = db.prepare(
    `DELETE FROM flow_members WHERE n IN (SELECT n FROM flow_members WHERE flushed_into IS NOT NULL AND flushed_at < ? LIMIT ${PRUNE_CHUNK})`,
  );
  let removed = 0;
  for (;;) {
    const n = inTransaction(() => del.run(before).changes);
    removed += n;
    if (n < PRUNE_CHUNK) break;
  }
  inTransaction(() => db.prepare(`DELETE FROM flow_rollup_types WHERE last_at < ?`).run(before).changes);
  return removed;
}
