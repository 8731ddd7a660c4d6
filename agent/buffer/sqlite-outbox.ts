import { AgentError } from '../errors';
import type { Logger } from '../log';
import type { CanonicalEvent } from '../model/event';
import { Delivery } from './delivery';
import { EdgeFlags } from './edge-flags';
import { FlowStore, readFlowStatus, type FlowDefinition, type FlowStatus, type FlushResult } from './flows';
import { Intake, type IntakeOptions, type WriteHealth } from './intake';
import { KeyIndex } from './key-index';
import { ReleaseStore } from './release-store';
import { MasterDataStore } from './master-data-store';
import { OrderSyncStore } from './order-sync-store';
import { OperatorActions } from './operator-actions';
import type {
  ActionFilter,
  AuditEntry,
  ConflictRecord,
  EnqueueExtras,
  EnqueueResult,
  EventCheck,
  InvalidRecord,
  ListFilter,
  Outbox,
  OutboxCounts,
  OutboxRecord,
  RecheckResult,
  RunPolicy,
  Settlement,
} from './outbox';
import { Reports } from './reports';
import { prune, type PruneResult } from './retention';
import { backupTo } from './backup';
import { asDamage, OutboxStore, type OutboxRole } from './store';

export interface SqliteOutboxOptions {
  path: string;
  /** `agent` (default): the owner, refused while another agent owns the file. `operator`: the CLI; never touches claims. */
  role?: OutboxRole;
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
  /** How long an agent waits for a tool that holds the owner lock for a moment (ms, default 5000). */
  ownerWaitMs?: number;
  /** Events with an implausible time of the fact are stored parked for a person (config clocks.eventTime). */
  eventTime?: IntakeOptions['eventTime'];
}

/**
 * The SQLite outbox (WAL): one file, parts with one job each over one store.
 * intake.ts commits events (group commit), delivery.ts claims and settles
 * them, operator-actions.ts is what people do, reports.ts what they read,
 * retention.ts prunes, flows.ts holds batch and roll-up flows, key-index.ts
 * keeps order per key, edge-flags.ts checks again what the edge check could
 * not (yet) judge.
 */
export class SqliteOutbox implements Outbox {
  private readonly store: OutboxStore;
  private readonly intake: Intake;
  private readonly delivery: Delivery;
  private readonly actions: OperatorActions;
  private readonly reports: Reports;
  private readonly keys: KeyIndex;
  private readonly edgeFlags: EdgeFlags;
  /** Held events of batch and roll-up flows; undefined when no flow is configured and nothing is held. */
  private readonly flows: FlowStore | undefined;
  private readonly flowDefinitions: readonly FlowDefinition[];
  /** Master data pulled from Odoo, kept in the same file. */
  readonly masterData: MasterDataStore;
  /** Released orders, their cursors and problems (order release). */
  readonly release: ReleaseStore;
  /** The per-order sync view's and the reconciliation's reads, Odoo's side of orders, and the reconciliation runs. */
  readonly orderSync: OrderSyncStore;

  private readonly filePath: string;

  constructor(opts: SqliteOutboxOptions) {
    this.filePath = opts.path;
    this.store = new OutboxStore({
      path: opts.path,
      role: opts.role ?? 'agent',
      synchronous: opts.synchronous,
      log: opts.log,
      now: opts.now,
      ownerWaitMs: opts.ownerWaitMs,
    });
    try {
      const keys = new KeyIndex(this.store);
      this.keys = keys;
      this.edgeFlags = new EdgeFlags(this.store, keys);
      this.delivery = new Delivery(this.store, keys);
      if (this.store.role === 'agent') this.delivery.recoverInflight();
      this.flowDefinitions = opts.flows ?? [];
      const flows = new FlowStore(this.store.db, this.flowDefinitions, (e, now) => keys.insert(e, now), opts.log);
      this.flows = flows.active ? flows : undefined;
      // A write that failed may have changed held events in memory: read them again.
      this.store.onWrite(
        () => undefined,
        () => this.flows?.reload(),
      );
      this.intake = new Intake(this.store, keys, this.flows, opts);
      this.actions = new OperatorActions(this.store, keys);
      this.reports = new Reports(this.store);
      this.masterData = new MasterDataStore(this.store);
      this.release = new ReleaseStore(this.store);
      this.orderSync = new OrderSyncStore(this.store);
    } catch (err) {
      this.store.close();
      throw asDamage(err, opts.path);
    }
  }

  /** Write transactions committed by enqueue (diagnostics: events per commit). */
  get commits(): number {
    return this.intake.commits;
  }

  /** Events stored parked for an implausible time since the start. */
  get implausibleTimes(): number {
    return this.intake.implausibleTimes;
  }

  /** Whether commits succeed now (a full disk makes them fail). */
  writeHealth(): WriteHealth {
    return this.intake.writeHealth();
  }

  /** The outbox file's path (':memory:' in tests). */
  get path(): string {
    return this.filePath;
  }

  // ---- events in

  hasRoom(n = 1): boolean {
    return this.intake.hasRoom(n);
  }

  enqueue(events: CanonicalEvent[], extras?: EnqueueExtras): Promise<EnqueueResult> {
    return this.intake.enqueue(events, extras);
  }

  // ---- the edge check (agent/sync/edge-check.ts)

  setEventCheck(check: EventCheck | undefined): void {
    this.keys.check = check;
  }

  recheck(): RecheckResult {
    const check = this.keys.check;
    if (!check) return { checked: 0, flagged: 0, released: 0 };
    return this.edgeFlags.recheck(check);
  }

  // ---- events out (the owner only)

  claim(limit: number, now = this.store.now(), runs?: RunPolicy): OutboxRecord[] {
    return this.delivery.claim(limit, now, runs);
  }

  claimFollowing(type: string, tails: ReadonlyArray<{ sequenceKey: string; afterSeq: number }>, perKey: number, now = this.store.now()): OutboxRecord[] {
    return this.delivery.claimFollowing(type, tails, perKey, now);
  }

  oldestReadySeq(now = this.store.now()): number | null {
    return this.delivery.oldestReadySeq(now);
  }

  settle(settlements: Settlement[], now = this.store.now()): void {
    this.delivery.settle(settlements, now);
  }

  settleAndClaim(settlements: Settlement[], limit: number, now = this.store.now(), runs?: RunPolicy): OutboxRecord[] {
    return this.delivery.settleAndClaim(settlements, limit, now, runs);
  }

  nextRetryAt(): number | null {
    return this.delivery.nextRetryAt();
  }

  // ---- reading

  counts(): OutboxCounts {
    return this.reports.counts();
  }

  oldestUnfinishedAt(): number | null {
    return this.reports.oldestUnfinishedAt();
  }

  get(idOrSeq: string | number): OutboxRecord | undefined {
    return this.reports.get(idOrSeq);
  }

  list(filter?: ListFilter): OutboxRecord[] {
    return this.reports.list(filter);
  }

  listInvalid(limit?: number): InvalidRecord[] {
    return this.reports.listInvalid(limit);
  }

  listConflicts(limit?: number): ConflictRecord[] {
    return this.reports.listConflicts(limit);
  }

  listAudit(limit?: number): AuditEntry[] {
    return this.reports.listAudit(limit);
  }

  loadRuleState(): Array<[string, unknown]> {
    return this.reports.loadRuleState();
  }

  /** Events that arrived in [start, end) and where they stand now (the daily reconciliation report). */
  arrivals(start: number, end: number): ReturnType<Reports['arrivals']> {
    return this.reports.arrivals(start, end);
  }

  // ---- people's actions

  audit(actor: string, action: string, detail: unknown): void {
    this.actions.audit(actor, action, detail);
  }

  retry(filter: ActionFilter, actor: string): number {
    return this.actions.retry(filter, actor);
  }

  skip(filter: ActionFilter, actor: string, reason: string): number {
    return this.actions.skip(filter, actor, reason);
  }

  edit(id: string, field: string, value: unknown, actor: string): OutboxRecord {
    return this.actions.edit(id, field, value, actor);
  }

  postAt(filter: ActionFilter, writeAt: string, actor: string): OutboxRecord[] {
    return this.actions.postAt(filter, writeAt, actor);
  }

  replay(since: number, until: number, actor: string): number {
    return this.actions.replay(since, until, actor);
  }

  /** Send these done events again, by id (the ids a reconciliation found missing in Odoo). */
  replayIds(ids: readonly string[], actor: string): number {
    return this.actions.replayIds(ids, actor);
  }

  prune(doneBefore: number, invalidBefore: number): PruneResult {
    return prune(this.store, doneBefore, invalidBefore);
  }

  // ---- batch and roll-up flows (flows.ts)

  flushFlow(name: string): FlushResult {
    const flows = this.flows;
    if (!flows?.has(name)) {
      throw new AgentError('UNKNOWN_FLOW', `no flow named "${name}" (flows: ${this.flowDefinitions.map((f) => f.name).join(', ') || 'none configured'})`);
    }
    return this.store.write(() => {
      flows.refresh();
      const r = flows.flush(name, this.store.now());
      this.store.bump(r.events, 'pending');
      return r;
    });
  }

  releaseUnscheduledFlows(): FlushResult[] {
    const flows = this.flows;
    if (!flows) return [];
    return this.store.write(() => {
      flows.refresh();
      const r = flows.releaseUnscheduled(this.store.now());
      this.store.bump(
        r.reduce((n, x) => n + x.events, 0),
        'pending',
      );
      return r;
    });
  }

  flowStatus(): FlowStatus[] {
    return readFlowStatus(this.store.db, this.flowDefinitions);
  }

  get heldEvents(): number {
    return this.flows?.held ?? 0;
  }

  // ---- the file

  /** A consistent copy of the outbox at one moment, written while the agent goes on (SQLite's online backup). Resolves with its size in pages. */
  backup(file: string): Promise<number> {
    return backupTo(this.store.db, file);
  }

  async close(): Promise<void> {
    if (!this.store.db.open) return;
    // Commit what callers already handed over before closing.
    this.intake.close();
    this.store.close();
  }
}
