import type { Logger } from '../../log';
import type { CanonicalEvent, EventType } from '../../events/schema';
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
   * Resolves with one outcome or error per event, in input order. The worker
   * only batches events whose keys are all ready, and splits a failed batch to
   * isolate a bad row.
   */
  executeBatch?(events: E[], ctx: OperationContext): Promise<Array<OperationOutcome | Error>>;
}

export interface OperationContext {
  odoo: OdooClient;
  server: OdooServerInfo;
  /** External-id module for every keyed create, e.g. `edge_plant1` (never an installed module's name). */
  xmlidModule: string;
  log: Logger;
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
export class OperationError extends Error {
  readonly code: string;
  readonly action: 'retry' | 'park' | 'stop';
  constructor(code: string, message: string, action: 'retry' | 'park' | 'stop' = 'park') {
    super(message);
    this.name = 'OperationError';
    this.code = code;
    this.action = action;
  }
}

export type OperationRegistry = Map<EventType, Operation>;

/** Settings shared by the built-in operations. */
export interface OperationOptions {
  /** How long a resolved name (product, work center, loss, location) is cached per Odoo connection, in ms. Default 5 minutes. */
  lookupTtlMs?: number;
}
