import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths that may hold a secret anywhere in a logged object. pino replaces them
 * before the line is written, so a careless `log.info({ config })` leaks nothing.
 */
const REDACT = [
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'cookie',
  '*.cookie',
];

let root: Logger | undefined;

/** The process-wide logger: JSON lines on stdout (journald under systemd). */
export function rootLogger(): Logger {
  if (!root) {
    root = pino({
      level: process.env.EDGE_AGENT_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    });
  }
  return root;
}

/** Replace the root logger (the CLI sets the configured level; tests pass a silent one). */
export function setRootLogger(logger: Logger): void {
  root = logger;
}

export function setLogLevel(level: string): void {
  rootLogger().level = level;
}

/** A child logger for one component, optionally for one named source. */
export function componentLogger(component: string, fields: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...fields });
}
