import type { Logger } from '../log';

/**
 * What a source said: telemetry, never sent to Odoo as such. Rules turn
 * signals into business events (agent/rules).
 */
export interface Signal {
  /** The configured name of the source (adapter instance). */
  source: string;
  /** What was read: a tag name, a register name, an MQTT topic, `scan`. */
  tag: string;
  value: SignalValue;
  quality: 'good' | 'uncertain' | 'bad';
  /** Source timestamp (ISO 8601). Falls back to receivedAt when the source has none. */
  sourceTime: string;
  /** When the agent received it (ISO 8601). */
  receivedAt: string;
  /** Protocol details a rule may use (MQTT qos/retain, a scanner's symbology, ...). */
  meta?: Record<string, unknown>;
}

export type SignalValue = number | boolean | string | null | { [k: string]: unknown } | unknown[];

/** Input that could not be understood: kept with its raw bytes and the reason, never dropped. */
export interface InvalidInput {
  source: string;
  /** Topic, tag or port the input came from. */
  origin: string;
  reason: string;
  /** The raw input: UTF-8 text where it is text, otherwise base64 with `encoding: 'base64'`. */
  raw: string;
  encoding?: 'utf8' | 'base64';
  receivedAt: string;
}

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
