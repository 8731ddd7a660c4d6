import type { OutboxRecord, Settlement } from '../buffer/outbox';
import { Failure, type FailureAction } from '../errors';
import { isLockDateRefusal, shortName } from '../odoo/classify';
import { CLOSED_PERIOD } from './closed-period';
import { OdooError } from '../odoo/types';
import { backoffDelay, type BackoffPolicy } from '../retry';
import type { OperationOutcome } from './operations/types';

/** What a request gave for one event: Odoo's ids, or why it failed. */
export type Result = OperationOutcome | Error;

export interface OutcomeOptions {
  now: number;
  backoff: BackoffPolicy;
  random: () => number;
  /** Types whose parked event does not block its key. */
  skippable: ReadonlySet<string>;
}

/** A request's results as the outbox records them, and what they mean for the link. */
export interface Outcomes {
  settlements: Settlement[];
  sent: number;
  retried: number;
  /** Events parked, with why: a person must act on each. */
  parked: Array<{ record: OutboxRecord; reason: string }>;
  /** Events that failed, whatever the action. */
  failed: number;
  /** Odoo refused the agent's credentials: stop all sending. */
  stop: Error | undefined;
  /** Odoo gave no answer: the link is down; the events went back unsent. */
  down: Error | undefined;
  /** What the request's observation reports, and the failure it names. */
  result: 'done' | 'retry' | 'park' | 'stop' | 'down';
  error: Error | undefined;
}

/**
 * Map one request's results (one per record, in order) to settlements: done
 * with Odoo's ids, retry after a backoff, park for a person, or released
 * without an attempt (a held-back event, an event whose request got no
 * answer, or all of them when sending stops).
 */
export function mapOutcomes(records: OutboxRecord[], results: Result[], opts: OutcomeOptions): Outcomes {
  const out: Outcomes = { settlements: [], sent: 0, retried: 0, parked: [], failed: 0, stop: undefined, down: undefined, result: 'done', error: undefined };
  let first: Error | undefined;
  records.forEach((rec, i) => {
    const r = results[i]!;
    if (!(r instanceof Error)) {
      out.settlements.push({ seq: rec.seq, outcome: 'done', odooIds: r.odooIds });
      out.sent++;
      return;
    }
    out.failed++;
    const action = actionOf(r);
    if (action !== 'release') first ??= r;
    const reason = reasonOf(r);
    if (action === 'release') {
      out.settlements.push({ seq: rec.seq, outcome: 'release' });
    } else if (action === 'stop') {
      out.stop = r;
      out.settlements.push({ seq: rec.seq, outcome: 'release' });
    } else if (action === 'down') {
      out.down ??= r;
      out.settlements.push({ seq: rec.seq, outcome: 'release' });
    } else if (action === 'retry') {
      const retryAfterMs = r instanceof OdooError ? r.retryAfterMs : undefined;
      const delay = backoffDelay(rec.attempts + 1, opts.backoff, { retryAfterMs, random: opts.random });
      out.settlements.push({ seq: rec.seq, outcome: 'retry', nextAttemptAt: opts.now + delay, error: reason, code: errorClass(r) });
      out.retried++;
    } else {
      const code = isLockDateRefusal(r) ? CLOSED_PERIOD : errorClass(r);
      out.settlements.push({ seq: rec.seq, outcome: 'park', reason, code, blocking: !opts.skippable.has(rec.type) });
      out.parked.push({ record: rec, reason });
    }
  });
  if (out.stop) {
    out.result = 'stop';
    out.error = out.stop;
  } else if (out.down) {
    out.result = 'down';
    out.error = out.down;
  } else if (first) {
    out.result = actionOf(first) === 'retry' ? 'retry' : out.failed === results.length ? 'park' : 'done';
    out.error = first;
  }
  return out;
}

/** Anything thrown, as an Error (a thrown string becomes its message). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * What the worker does with a failed event: the failure's own action. A
 * failure that names none (not about delivery) and anything that is not a
 * Failure (a bug in an operation) park: a person sees it, and one bad event
 * cannot stall the backlog.
 */
export function actionOf(err: Error): FailureAction {
  return (err instanceof Failure && err.action) || 'park';
}

/**
 * The error class recorded with the event and counted in `edge_errors_total`:
 * Odoo's exception name or the transport code where the client saw one
 * (`ValidationError`, `ECONNREFUSED`), else the failure's code; anything that
 * is not a Failure goes by its name (`TypeError`).
 */
export function errorClass(err: Error): string {
  if (err instanceof OdooError && err.odooName) return shortName(err.odooName)!;
  return err instanceof Failure ? err.code : err.name;
}

/** Why the event failed, as the outbox keeps it and a person reads it: its class (unless the message names it), then the message. */
export function reasonOf(err: Error): string {
  const cls = err instanceof OdooError && err.odooName ? shortName(err.odooName) : err instanceof Failure ? err.code : undefined;
  return cls && !err.message.includes(cls) ? `${cls}: ${err.message}` : err.message;
}
