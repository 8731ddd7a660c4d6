import type { CanonicalEvent, EventType, StoredEvent } from '../model/event';
import type { InvalidInput } from '../model/signal';
import type { FlowStatus, FlushResult } from './flows';

/**
 * The outbox: where every event waits, durably, until Odoo has it.
 * One implementation today (SQLite, sqlite-outbox.ts); test/buffer/outbox-contract
 * is the suite any implementation must pass.
 *
 * One process owns it: the running agent. Only the owner claims and settles
 * (and, at open, turns the last run's claims back to pending). Others (the
 * CLI) read it and record operator actions, which never touch a claim.
 */

/** The park code of an event dated in a period Odoo's accounting has locked (agent/sync/closed-period.ts). */
export const CLOSED_PERIOD = 'CLOSED_PERIOD';

/**
 * `flagged`: held at the edge before it was ever sent, because the master
 * data cached from Odoo says Odoo would refuse it (an unknown work center, a
 * draft order); a person resolves it like a parked event (retry, edit, skip).
 * (Events "held" by a batch or roll-up flow are another thing: flows.ts.)
 */
export type EventState = 'pending' | 'inflight' | 'retrying' | 'flagged' | 'parked' | 'done' | 'skipped';
export const EVENT_STATES: readonly EventState[] = ['pending', 'inflight', 'retrying', 'flagged', 'parked', 'done', 'skipped'];

export interface OutboxRecord {
  /** Arrival order in this outbox. */
  seq: number;
  id: string;
  type: EventType;
  sequenceKey: string;
  state: EventState;
  /** With `writeAt` when a person chose the time written to Odoo. */
  event: StoredEvent;
  attempts: number;
  /** Retrying: when the next attempt may start (ms since epoch). */
  nextAttemptAt: number | null;
  /** Parked or flagged: why; retrying: the last error. */
  error: string | null;
  errorCode: string | null;
  /** Done: the Odoo records it produced or touched. */
  odooIds: Record<string, number | number[]> | null;
  /** The payload as first received, when a person edited it. */
  originalPayload: unknown;
  createdAt: number;
  updatedAt: number;
}

export interface EnqueueResult {
  /** Events committed (queued, or held by a batch/roll-up flow). */
  inserted: number;
  /** Events whose id was already in the outbox: ignored and counted. */
  duplicates: number;
  /** Of `duplicates`, those whose content differs from the event already there: kept as conflicts for a person. */
  conflicts?: number;
  /** Of `inserted`, events a flow holds until its schedule fires. */
  held?: number;
  /** Held events of the same keys that went into the queue ahead of these events (flows.ts). */
  released?: number;
  /** Of `inserted`, events stored parked because their time of the fact is implausible (code IMPLAUSIBLE_TIME). */
  implausible?: number;
}

/** Why an event is flagged at the edge instead of queued as sendable. */
export interface Flag {
  /** Stable code (`EDGE_UNKNOWN_WORKCENTER`, ...), kept as the event's error code. */
  code: string;
  reason: string;
  /** Whether it holds back the later events of its key (false for skippable types). */
  blocking: boolean;
}

/**
 * The edge check (agent/sync/edge-check.ts): the outbox asks it about every
 * event it puts in its queue, in the same transaction.
 */
export interface EventCheck {
  /** False until there is master data to check against: events go in as pending, marked to be checked when it arrives (`recheck`). */
  readonly ready: boolean;
  /** Why Odoo would refuse the event, or undefined when the cache sees no reason (or cannot tell). */
  check(e: CanonicalEvent): Flag | undefined;
}

/** What a re-check did (after master data arrived). */
export interface RecheckResult {
  /** Events looked at: pending events never checked, and flagged events. */
  checked: number;
  /** Pending events now flagged. */
  flagged: number;
  /** Flagged events the new master data accepts: pending again. */
  released: number;
}

export interface EnqueueExtras {
  /** Rule state to persist in the same transaction as the events. */
  ruleState?: Array<[name: string, value: unknown]>;
  /** Input that could not be decoded, kept with its reason. */
  invalid?: InvalidInput[];
}

export type Settlement =
  | { seq: number; outcome: 'done'; odooIds: Record<string, number | number[]> }
  | { seq: number; outcome: 'retry'; nextAttemptAt: number; error: string; code?: string }
  | { seq: number; outcome: 'park'; reason: string; code?: string; blocking: boolean }
  /** Give the claim back without counting an attempt (sending stopped: circuit open, auth failure). */
  | { seq: number; outcome: 'release' };

/** Which heads may be claimed with the events behind them (types whose operation sends many in one ordered, all-or-nothing call). */
export interface RunPolicy {
  types: ReadonlySet<string>;
  /** Most events of one key in one claim, head included. */
  max: number;
}

export interface OutboxCounts {
  pending: number;
  inflight: number;
  retrying: number;
  /** Flagged at the edge: the cached master data says Odoo would refuse them. */
  flagged: number;
  parked: number;
  done: number;
  skipped: number;
  duplicates: number;
  invalid: number;
  /** Events refused because their id was taken by an event with other content (listConflicts). */
  conflicts: number;
  /** pending + inflight + retrying + flagged + parked: what counts against maxEvents. */
  unfinished: number;
}

export interface ListFilter {
  state?: EventState;
  type?: string;
  sequenceKey?: string;
  /** The code it was parked or is retrying with (`CLOSED_PERIOD`, `UserError`). */
  errorCode?: string;
  /** Only events with seq greater than this (paging). */
  afterSeq?: number;
  limit?: number;
}

export interface ActionFilter {
  ids?: string[];
  state?: EventState;
  type?: string;
  sequenceKey?: string;
  /** The code it was parked or is retrying with. */
  errorCode?: string;
  /** Error text contains this. */
  errorContains?: string;
}

export interface InvalidRecord extends InvalidInput {
  rowid: number;
}

/** An event refused because its id was already in the outbox with other content. */
export interface ConflictRecord {
  id: string;
  /** The event the outbox keeps (the first). */
  kept: CanonicalEvent;
  /** The event that came later with the same id. */
  refused: CanonicalEvent;
  at: number;
}

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  detail: unknown;
}

export interface Outbox {
  /** Commit events (group commit). Resolves after the commit. Rejects with OutboxFullError when full; never drops. */
  enqueue(events: CanonicalEvent[], extras?: EnqueueExtras): Promise<EnqueueResult>;
  /** Whether `n` more events fit now (sources check this before doing work they cannot undo). */
  hasRoom(n?: number): boolean;
  /**
   * Mark as inflight and return up to `limit` events: the oldest ready heads,
   * one per key. With `runs`, each head whose type is in `runs.types` brings the
   * events right behind it in its key (same type, not parked, in order, at most
   * `runs.max` in all); the room left after the heads is shared evenly among
   * them. A key's events never come back in two claims at once: nothing of a
   * key is claimable while any of its events is in flight.
   */
  claim(limit: number, now?: number, runs?: RunPolicy): OutboxRecord[];
  /**
   * Claim the next events of keys that already have events in flight, while
   * those are still out: for each tail (a key and the last seq it has in
   * flight), the open events right after it, of `type`, pending or retrying,
   * at most `perKey`. A key is passed over unless the event at `afterSeq` is
   * in flight. The caller must not send them before the events ahead of them
   * settled as done, and must release them otherwise.
   */
  claimFollowing(type: string, tails: ReadonlyArray<{ sequenceKey: string; afterSeq: number }>, perKey: number, now?: number): OutboxRecord[];
  /** Seq of the oldest head that could be claimed now (a key with nothing in flight), or null. */
  oldestReadySeq(now?: number): number | null;
  /** Record what happened to claimed events, in one transaction. Unknown or not-inflight seqs are ignored. */
  settle(settlements: Settlement[], now?: number): void;
  /** settle, then claim up to `limit` heads, in one transaction (one commit instead of two). */
  settleAndClaim(settlements: Settlement[], limit: number, now?: number, runs?: RunPolicy): OutboxRecord[];
  counts(): OutboxCounts;
  /** Arrival time (ms) of the oldest unfinished event, or null. */
  oldestUnfinishedAt(): number | null;
  /** Earliest time a retrying head becomes ready, or null. */
  nextRetryAt(): number | null;
  get(idOrSeq: string | number): OutboxRecord | undefined;
  list(filter?: ListFilter): OutboxRecord[];
  /** Parked, flagged or retrying events back to pending (a flagged event then goes to Odoo as it is: Odoo decides). Returns how many. */
  retry(filter: ActionFilter, actor: string): number;
  /** Parked, flagged, retrying or pending events to skipped (never sent). Returns how many. */
  skip(filter: ActionFilter, actor: string, reason: string): number;
  /** Change one payload field of a parked, flagged or retrying event (the original is kept) and make it pending. Throws when the result is not a valid event. */
  edit(id: string, field: string, value: unknown, actor: string): OutboxRecord;
  /**
   * Parked events of a locked period (code CLOSED_PERIOD) back to pending, to be
   * written to Odoo at `writeAt` instead of their occurredAt (which they keep).
   * Audited. Returns the events changed.
   */
  postAt(filter: ActionFilter, writeAt: string, actor: string): OutboxRecord[];
  /** Send done events again whose delivery time lies in [since, until]. Returns how many. */
  replay(since: number, until: number, actor: string): number;
  /** Delete done/skipped events (and released flow members) and invalid input older than the given ages. Returns rows removed. */
  prune(doneBefore: number, invalidBefore: number): { events: number; invalid: number; flowMembers: number };
  /** Per configured batch or roll-up flow: events held, keys, since when. */
  flowStatus(): FlowStatus[];
  /** Release one flow's held events into the queue now (its schedule fired, or a person), in one transaction. Throws UNKNOWN_FLOW. */
  flushFlow(name: string): FlushResult;
  /** Release held events whose flow (or whose type in it) is no longer configured. The agent calls it at start. */
  releaseUnscheduledFlows(): FlushResult[];
  /** Events held by flows now (they count against the bound). */
  readonly heldEvents: number;
  /** Check every event put in the queue from now on (undefined: none). */
  setEventCheck(check: EventCheck | undefined): void;
  /**
   * With the check set: check pending events that were queued unchecked
   * (before any master data), and look again at flagged events, in one
   * transaction; each keeps its place in its key.
   */
  recheck(): RecheckResult;
  listInvalid(limit?: number): InvalidRecord[];
  /** Newest first: events refused because their id was taken by an event with other content. */
  listConflicts(limit?: number): ConflictRecord[];
  audit(actor: string, action: string, detail: unknown): void;
  listAudit(limit?: number): AuditEntry[];
  loadRuleState(): Array<[string, unknown]>;
  close(): Promise<void>;
}
