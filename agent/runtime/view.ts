import type { FlowStatus, FlushResult } from '../buffer/flows';
import type { ActionFilter, Outbox, OutboxRecord } from '../buffer/outbox';
import type { AgentConfig } from '../config/schema';
import type { ReleaseStatus } from '../release/release';
import type { AdapterHealth } from '../protocols/types';
import type { RequestObservation, SyncStatus } from '../sync/worker';
import type { OrderSyncView } from '../sync/order-view';
import type { StoredRun } from '../sync/reconcile/job';
import type { StorageStatus } from './storage-watch';
import type { ClockReading } from './clock-watch';

export interface SourceStatus extends AdapterHealth {
  name: string;
  type: string;
  enabled: boolean;
}

/** What the sources handed to the rules since the start: in all, and per source. */
export interface IntakeFigures {
  signals: number;
  events: number;
  invalid: number;
  /** Signals refused because the outbox was full (the sources held back). */
  refused: number;
  bySource: ReadonlyMap<string, { received: number; enqueued: number; duplicates: number; invalid: number }>;
}

/** The measured clocks, the sources that carry no time of their own, and the warning threshold. */
export interface ClockStatus {
  readings: ClockReading[];
  gatewayStamped: string[];
  warnOffsetMs: number;
}

/** The outbox as the page reads it. */
export type OutboxReader = Pick<Outbox, 'counts' | 'oldestUnfinishedAt' | 'get' | 'list' | 'listInvalid' | 'listConflicts' | 'listAudit'>;

/**
 * What the status page, /metrics and `edge-agent status` see of a running
 * agent. Read-only: what people may change goes through AgentActions.
 */
export interface AgentView {
  readonly config: AgentConfig;
  readonly startedAt: number;
  sources(): SourceStatus[];
  /** The link to Odoo; undefined when the agent only buffers (no odoo section, or sync disabled). */
  sync(): SyncStatus | undefined;
  readonly outbox: OutboxReader;
  /** Each configured flow with what it holds and when its schedule releases it next. */
  flows(): Array<FlowStatus & { nextFlushAt: number | null }>;
  intake(): IntakeFigures;
  /** Whether events can be stored, and how close the gateway is to not being able to. */
  storage(): StorageStatus;
  /** Order release (Odoo -> plant); undefined when not configured. */
  release?(): ReleaseStatus | undefined;
  /** Odoo's clock and the sources' against the gateway's (docs/status-page.md, "Clocks"). */
  clocks?(): ClockStatus;
  /** Every settled request to Odoo (metrics subscribe here). */
  onRequest(listener: (o: RequestObservation) => void): void;
  /** The per-order sync view as last made (from the outbox and Odoo's side as last read). */
  orders?(): OrderSyncView;
  /** The latest reconciliation against Odoo, or undefined when none ran. */
  lastReconcile?(): StoredRun | undefined;
  /** The last day Odoo's accounting has locked (from the master data), or null. */
  closedUntil?(): string | null;
  /** When master data was last pulled from Odoo (ms), or null when never: what the edge check goes by. */
  masterDataAt?(): number | null;
}

/** What people may do to a running agent, each written to the audit log; the agent sends again at once where that applies. */
export interface AgentActions {
  retry(filter: ActionFilter, actor: string): number;
  skip(filter: ActionFilter, actor: string, reason: string): number;
  edit(id: string, field: string, value: unknown, actor: string): OutboxRecord;
  /** Parked events of a locked period to be written at the first open date (closed-period.ts). Throws NO_LOCK_DATE, NOT_OPEN_YET. */
  postAtOpenDate?(filter: ActionFilter, actor: string): OutboxRecord[];
  /** Release a flow's held events now. Throws UNKNOWN_FLOW. */
  releaseFlow(name: string, actor: string): FlushResult;
  /** Record what happened at the door (logins, refusals). */
  audit(actor: string, action: string, detail: unknown): void;
}
