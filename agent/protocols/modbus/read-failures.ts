import { AgentError } from '../../errors';
import type { ReadRequest } from './plan';

/** Names of the Modbus exception codes, as a device reports them. */
export const MODBUS_EXCEPTIONS: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** An exception as a sentence: "Illegal data address (exception 2)". */
export function exceptionReason(code: number): string {
  const name = MODBUS_EXCEPTIONS[code] ?? 'unknown exception';
  return `${name[0]!.toUpperCase()}${name.slice(1)} (exception ${code})`;
}

export type ReadFailure =
  | { kind: 'timeout'; message: string }
  | { kind: 'exception'; code: number; message: string }
  | { kind: 'connection'; message: string }
  | { kind: 'error'; message: string };

/** The connection went away under a request (closed, reset, or the source stopped). */
export class ConnectionLostError extends AgentError {
  constructor(message: string) {
    super('MODBUS_CONNECTION_LOST', message, { retryable: true });
    this.name = 'ConnectionLostError';
  }
}

/** What kind of failure a read ended in; modbus-serial marks them by fields, not classes. */
export function classify(err: unknown): ReadFailure {
  const e = (err ?? {}) as { modbusCode?: unknown; errno?: unknown; name?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.modbusCode === 'number') return { kind: 'exception', code: e.modbusCode, message };
  if (err instanceof ConnectionLostError) return { kind: 'connection', message };
  if (e.errno === 'ETIMEDOUT' || e.name === 'TransactionTimedOutError') return { kind: 'timeout', message };
  if (e.name === 'PortNotOpenError' || e.errno === 'ECONNREFUSED') return { kind: 'connection', message };
  return { kind: 'error', message };
}

/** A timeout as modbus-serial reports one. */
export function timeoutError(): Error {
  const err = new Error('Timed out') as Error & { errno: string };
  err.errno = 'ETIMEDOUT';
  return err;
}

/** `holding 10` or `holding 10..13`, for messages. */
export function describe(request: ReadRequest): string {
  return request.count === 1 ? `${request.area} ${request.address}` : `${request.area} ${request.address}..${request.address + request.count - 1}`;
}
