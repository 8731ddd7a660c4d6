import type { Logger } from '../log';
import type { InvalidInput, Signal } from '../model/signal';

export interface AdapterHealth {
  connected: boolean;
  /** ISO time of the last signal, or null. */
  lastDataAt: string | null;
  lastError: { message: string; code?: string; at: string } | null;
  /** Adapter-specific figures (reconnects, devices, subscriptions, paused). */
  details?: Record<string, unknown>;
}

/** What an adapter gets from the agent. It is the adapter's only way out. */
export interface AdapterContext {
  log: Logger;
  /** The agent's state directory (certificates, PKI folders live below it). */
  stateDir: string;
  /** Plant id from config (stable client ids, event ids). */
  plant?: string;
  /**
   * Hand signals to the rules. Resolves only when every event they produced
   * (and any invalid input) is committed to the outbox: acknowledge the source
   * after that, never before. Rejects with `OutboxFullError` (code
   * `OUTBOX_FULL`) when the outbox refuses: keep the data, slow down or pause,
   * and try again later. Nothing acknowledged may be lost.
   */
  emit(signals: Signal[]): Promise<void>;
  /** Record input that could not be decoded. Resolves after it is committed. */
  reject(input: InvalidInput): Promise<void>;
}

export interface SourceAdapter {
  readonly name: string;
  readonly type: string;
  /** Connect and begin reading. Safe to call again while running (no-op). Resolves once started; connection failures are retried in the background and show in health(). */
  start(): Promise<void>;
  /** Stop reading and release everything. Safe after a failed or partial start, and safe to call twice. */
  stop(): Promise<void>;
  health(): AdapterHealth;
}

/** Registered by `type`; `create` never does I/O (start does). */
export interface AdapterFactory<C extends { type: string; name: string }> {
  readonly type: C['type'];
  create(config: C, ctx: AdapterContext): SourceAdapter;
}
