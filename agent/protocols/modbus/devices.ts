import type { Logger } from '../../log';
import { backoffDelay, type BackoffPolicy } from '../../retry';
import type { DeviceConfig } from './config';
import type { ReadRequest } from './plan';
import { MODBUS_EXCEPTIONS, describe } from './read-failures';

export type DeviceStatus = 'unknown' | 'ok' | 'timeout' | 'exception' | 'error';

/** A request's standing problem: an exception code, or null for a garbled reply. */
interface Problem {
  code: number | null;
  text: string;
}

/** One unit on the line: how it answers, and when it is next worth asking. */
export class Device {
  readonly name: string;
  status: DeviceStatus = 'unknown';
  exceptionCode: number | null = null;
  lastErrorText: string | null = null;
  consecutiveTimeouts = 0;
  /** Not polled before this time (ms) while it keeps timing out. */
  skipUntil = 0;
  lastReadAt: string | null = null;
  reads = 0;
  errors = 0;
  /** Requests whose last answer was an exception or a garbled reply. */
  private readonly problems = new Map<ReadRequest, Problem>();

  constructor(
    readonly config: DeviceConfig,
    private readonly log: Logger,
    private readonly backoff: BackoffPolicy,
    private readonly noteError: (err: unknown, code: string) => void,
  ) {
    this.name = config.name ?? `unit${config.unitId}`;
  }

  /**
   * The device answered a request (with data when `problem` is null). Its
   * status is the worst standing answer: a request that keeps failing with an
   * exception keeps the device in `exception` even while its other reads work.
   */
  answered(request: ReadRequest, problem: Problem | null): void {
    const was = this.status;
    const wasCode = this.exceptionCode;
    this.consecutiveTimeouts = 0;
    this.skipUntil = 0;
    if (problem) this.problems.set(request, problem);
    else this.problems.delete(request);
    const latest = [...this.problems.values()].pop();
    if (!latest) {
      this.status = 'ok';
      this.exceptionCode = null;
      this.lastErrorText = null;
    } else {
      this.status = latest.code === null ? 'error' : 'exception';
      this.exceptionCode = latest.code;
      this.lastErrorText = latest.text;
    }
    if (problem) {
      const code = problem.code === null ? 'MODBUS_BAD_RESPONSE' : 'MODBUS_EXCEPTION';
      this.noteError(new Error(problem.text), code);
    }
    if (problem && (was !== this.status || wasCode !== this.exceptionCode)) {
      this.log.warn({ unitId: this.config.unitId, device: this.name, exceptionCode: problem.code ?? undefined }, problem.text);
    } else if (!problem && was !== 'ok' && was !== 'unknown' && this.status === 'ok') {
      this.log.info({ unitId: this.config.unitId, device: this.name, was }, 'modbus device answers normally again');
    }
  }

  /** A request that was split into parts: its old problem no longer stands. */
  replaced(request: ReadRequest): void {
    this.problems.delete(request);
  }

  exceptionText(code: number, request: ReadRequest): string {
    const name = MODBUS_EXCEPTIONS[code] ?? 'unknown exception';
    return `unit ${this.config.unitId} (${this.name}): exception ${code} (${name}) reading ${describe(request)}`;
  }

  /** No answer in time: skip the device for a growing while. */
  timedOut(request: ReadRequest): void {
    this.consecutiveTimeouts++;
    // The full ceiling, without jitter: a skipped device is tried again at a predictable time.
    const skipMs = backoffDelay(this.consecutiveTimeouts, this.backoff, { random: () => 1 });
    this.skipUntil = Date.now() + skipMs;
    const message = `unit ${this.config.unitId} (${this.name}): no answer within ${this.config.timeoutMs} ms reading ${describe(request)}`;
    this.lastErrorText = message;
    this.noteError(new Error(message), 'MODBUS_TIMEOUT');
    if (this.status !== 'timeout') {
      this.log.warn({ unitId: this.config.unitId, device: this.name, skipMs }, `${message}; polling it less often until it answers`);
    } else {
      this.log.debug({ unitId: this.config.unitId, timeouts: this.consecutiveTimeouts, skipMs }, 'modbus device still not answering');
    }
    this.status = 'timeout';
    this.exceptionCode = null;
  }

  health(): Record<string, unknown> {
    return {
      unitId: this.config.unitId,
      name: this.name,
      status: this.status,
      exceptionCode: this.exceptionCode,
      exception: this.exceptionCode === null ? null : (MODBUS_EXCEPTIONS[this.exceptionCode] ?? 'unknown exception'),
      lastError: this.lastErrorText,
      consecutiveTimeouts: this.consecutiveTimeouts,
      skippedUntil: this.skipUntil > Date.now() ? new Date(this.skipUntil).toISOString() : null,
      lastReadAt: this.lastReadAt,
      reads: this.reads,
      errors: this.errors,
    };
  }
}
