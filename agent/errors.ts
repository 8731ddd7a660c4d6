/** What the sync worker does with an event whose delivery failed. */
export type FailureAction = 'retry' | 'park' | 'stop' | 'down' | 'release';

/**
 * The agent's one failure shape: a stable `code`, the `cause` it wraps, and
 * for a failure to deliver an event, what to do about it (`action`):
 *   retry    the event keeps its place and goes again after a backoff;
 *   park     the event needs a person;
 *   stop     nothing can succeed until a person fixes the link: pause all sending, park nothing;
 *   down     no answer from Odoo (refused, reset, DNS, timeout): not the event's fault; hand it
 *            back without counting an attempt and pause sending until a probe gets an answer;
 *   release  hand the event back without counting an attempt.
 * Failures that are not about delivery (config, outbox, sources) have no action.
 * `retryable`: trying again later can succeed (by default: the action is retry or down).
 */
export class Failure extends Error {
  readonly code: string;
  readonly action: FailureAction | undefined;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { action?: FailureAction; cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Failure';
    this.code = code;
    this.action = options.action;
    this.retryable = options.retryable ?? (options.action === 'retry' || options.action === 'down');
  }
}

/** A failure that is not about delivering an event: a refusal to show a person (usage, config, outbox, sources). */
export class AgentError extends Failure {
  constructor(code: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(code, message, options);
    this.name = 'AgentError';
  }
}

/** The outbox holds as many unfinished events as config allows: the source must hold its data and try again later. */
export class OutboxFullError extends AgentError {
  constructor(limit: number) {
    super('OUTBOX_FULL', `outbox is full (${limit} unfinished events); apply back-pressure and retry later`, { retryable: true });
    this.name = 'OutboxFullError';
  }
}

/** A config file that does not validate. `problems` are printable lines `file:line:col: path: message`. */
export class ConfigError extends AgentError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('CONFIG_INVALID', `configuration is invalid:\n${problems.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}
