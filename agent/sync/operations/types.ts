import { Failure } from '../../errors';
import type { Logger } from '../../log';
import type { CanonicalEvent, EventType } from '../../model/event';
import type { OdooClient, OdooServerInfo } from '../../odoo/types';

/**
 * An operation turns one event type into Odoo calls. It knows the models and
 * methods per Odoo version, and it is idempotent by one of three means: a keyed
 * create through `load()` with an external id, a state-guarded call, or an
 * absolute total. Resending an event that Odoo already applied changes nothing.
 */
export interface Operation<E extends CanonicalEvent = CanonicalEvent> {
  readonly type: E['type'];
  /** The Odoo models this operation writes, per major version (for docs and `check-config`). */
  models(major: number): string[];
  /** Send one event. Throws OdooError (classified) or OperationError. */
  execute(event: E, ctx: OperationContext): Promise<OperationOutcome>;
  /**
   * Optional: send many events of this type in one call (one `load()`).
   * Resolves with one outcome or error per event, in input order. The batch
   * may hold several events of one key (a run, in order): the call must keep
   * them in order and all-or-nothing, and leave out the later events of a key
   * whose earlier event could not be prepared (KeyOrderGuard). The worker
   * splits a batch that failed as a whole to isolate a bad row.
   */
  executeBatch?(events: E[], ctx: OperationContext): Promise<Array<OperationOutcome | Error>>;
}

export interface OperationContext {
  odoo: OdooClient;
  server: OdooServerInfo;
  /** External-id module for every keyed create, e.g. `edge_plant1` (never an installed module's name). */
  xmlidModule: string;
  log: Logger;
  /** The plant's IANA time zone: stock valuation entries are dated on the plant's day of the event. Unset: UTC. */
  timeZone?: string;
}

/** Odoo record ids the event produced or touched, stored with the done event. */
export interface OperationOutcome {
  odooIds: Record<string, number | number[]>;
  /** True when Odoo already was in the target state (a replay); counted, not an error. */
  alreadyApplied?: boolean;
}

/**
 * A failure decided by the operation itself (an unknown work center, a wizard
 * that needs a person). `action` is park unless said otherwise.
 */
export class OperationError extends Failure {
  declare readonly action: 'retry' | 'park' | 'stop';
  constructor(code: string, message: string, action: 'retry' | 'park' | 'stop' = 'park') {
    super(code, message, { action });
    this.name = 'OperationError';
  }
}

export type OperationRegistry = Map<EventType, Operation>;

/** Settings shared by the built-in operations. */
export interface OperationOptions {
  /** How long a resolved name (product, work center, loss, location) is cached per Odoo connection, in ms. Default 5 minutes. */
  lookupTtlMs?: number;
  /**
   * How long a work-order start that Odoo refuses because the work center is
   * blocked (an open downtime) is retried before it parks, from its first
   * refusal, in ms. Default 10 minutes (`sync.blockedStartWaitMs`).
   */
  blockedStartWaitMs?: number;
  /** Clock for the waits above (tests). */
  now?: () => number;
}

/**
 * An event left out of its batch because an earlier event of its key in the
 * same batch failed before anything was sent: sending it would put it ahead of
 * that one. The worker hands it back without counting an attempt.
 */
export class HeldBackError extends Failure {
  declare readonly code: 'HELD_BACK';
  declare readonly action: 'release';
  constructor(sequenceKey: string) {
    super('HELD_BACK', `held back: an earlier event of ${sequenceKey} in the same batch was not sent`, { action: 'release' });
    this.name = 'HeldBackError';
  }
}

/**
 * Keeps a batch in order per key while its rows are prepared one by one: once
 * an event of a key fails (an unknown name, say), the later events of that key
 * stay out of the call. Events of other keys go on.
 */
export class KeyOrderGuard {
  private readonly failedKeys = new Set<string>();

  /** A HeldBackError when an earlier event of this key failed, else undefined. */
  heldBack(event: { sequenceKey: string }): HeldBackError | undefined {
    return this.failedKeys.has(event.sequenceKey) ? new HeldBackError(event.sequenceKey) : undefined;
  }

  failed(event: { sequenceKey: string }): void {
    this.failedKeys.add(event.sequenceKey);
  }
}
