import type { Logger } from '../log';
import type { InvalidInput, Signal, SignalValue } from '../model/signal';

export interface AdapterHealth {
  connected: boolean;
  /** ISO time of the last signal, or null. */
  lastDataAt: string | null;
  lastError: { message: string; code?: string; at: string } | null;
  /** Adapter-specific figures (reconnects, devices, subscriptions, paused). */
  details?: Record<string, unknown>;
  /** Devices behind the source that come and go on their own (Sparkplug edge nodes and devices), with their last values: shown on the status page. */
  devices?: DeviceHealth[];
}

/** A device behind a source: online, or stale since its death (its last values kept, quality bad), or not yet born. */
export interface DeviceHealth {
  /** How the source names it (Sparkplug: `group/node` or `group/node/device`). */
  name: string;
  state: 'online' | 'stale' | 'unborn';
  /** When the state last changed (ISO 8601), or null. */
  since: string | null;
  /** Sparkplug: the bdSeq of the edge node's current birth. */
  bdSeq?: string;
  /** Metrics whose last value is known. */
  metrics: number;
  /** Some of those last values (the page shows them), with their quality. */
  values: Array<{ metric: string; value: SignalValue; quality: Signal['quality']; at: string }>;
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
  /**
   * Write values to the device through this source's own connection (order
   * release to a line without MQTT). Each value is checked after the write
   * (the server's status code, or a read back) and reported one by one;
   * never throws for a refused value. Absent on sources that cannot write.
   */
  write?(values: readonly WriteRequest[]): Promise<WriteResult[]>;
}

/** One value to write: where (an OPC UA NodeId, or a Modbus unit, area and address) and as what type. */
export type WriteRequest =
  | {
      kind: 'opcua';
      nodeId: string;
      value: string | number | boolean;
      dataType?: 'String' | 'Double' | 'Float' | 'Int16' | 'Int32' | 'UInt16' | 'UInt32' | 'Boolean';
    }
  | {
      kind: 'modbus';
      unitId: number;
      /** Zero-based holding register address. */
      address: number;
      type: 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64' | 'string';
      wordOrder?: 'ABCD' | 'CDAB' | 'BADC' | 'DCBA';
      /** For `string`: registers to fill (two characters each; the rest padded with NUL). */
      length?: number;
      value: string | number;
    };

/** What became of one write: verified, or refused with the device's reason. */
export interface WriteResult {
  ok: boolean;
  /** The device's own answer (an OPC UA status code name, a Modbus exception) when refused or not verified. */
  reason?: string;
  /** What reading it back gave, when it was read back. */
  readBack?: unknown;
}

/** Registered by `type`; `create` never does I/O (start does). */
export interface AdapterFactory<C extends { type: string; name: string }> {
  readonly type: C['type'];
  create(config: C, ctx: AdapterContext): SourceAdapter;
}
