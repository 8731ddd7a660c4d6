/**
 * Errors that cross a component boundary carry a stable `code`, the `cause`
 * they wrap, and whether trying again later can succeed.
 */
export class AgentError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.retryable = options.retryable ?? false;
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
