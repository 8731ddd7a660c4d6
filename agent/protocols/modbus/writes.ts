import type { Logger } from '../../log';
import type { WriteRequest, WriteResult } from '../types';
import type { ModbusSourceConfig } from './config';
import { ConnectionLostError, classify, exceptionReason } from './read-failures';
import type { ModbusConnection, OpenConnection } from './connection';
import { decodeRaw, shortestFloat32 } from './decode';
import { encodeRegisters, type WriteSpec } from './encode';

type ModbusWrite = Extract<WriteRequest, { kind: 'modbus' }>;

/** One value ready to go: its registers, or already refused. */
type Prepared = { ok: true; value: ModbusWrite; spec: WriteSpec; words: number[] } | { ok: false; reason: string };

interface Call {
  values: Prepared[];
  resolve: (results: WriteResult[]) => void;
}

/** What writing needs from the source. */
export interface WriteOwner {
  /** The poll loop should look again: a call is waiting. */
  wake(): void;
}

/**
 * Writes to holding registers for order release. Calls wait in a queue and
 * the poll loop runs them between two poll groups (`runWaiting`), so a write
 * never overlaps a read on the one connection. Each value is one function 16
 * request (function 6 for a one-register value on a unit that refuses 16),
 * then one read of the same registers, compared word for word.
 */
export class RegisterWriter {
  written = 0;
  refused = 0;
  private queue: Call[] = [];
  /** Units that answered function 16 with "illegal function": one-register values go as function 6. */
  private readonly singleRegisterUnits = new Set<number>();
  private readonly fallbackTimeoutMs: number;

  constructor(
    private readonly config: ModbusSourceConfig,
    private readonly log: Logger,
    private readonly connection: ModbusConnection,
    private readonly owner: WriteOwner,
  ) {
    this.fallbackTimeoutMs = Math.max(...config.devices.map((d) => d.timeoutMs));
  }

  get waiting(): boolean {
    return this.queue.length > 0;
  }

  /** Queue a call; refused at once when the connection is not open. Never rejects. */
  submit(values: readonly WriteRequest[], running: boolean): Promise<WriteResult[]> {
    const prepared = values.map((v) => this.prepare(v));
    const notNow = !running ? 'the source is not running' : this.connection.current ? null : `not connected (${this.connection.description})`;
    if (notNow) return Promise.resolve(this.count(prepared.map((p) => (p.ok ? { ok: false, reason: notNow } : p))));
    if (prepared.every((p) => !p.ok)) return Promise.resolve(this.count(prepared));
    return new Promise((resolve) => {
      this.queue.push({ values: prepared, resolve });
      this.owner.wake();
    });
  }

  /** Run the waiting calls on `conn`, one value after the other. */
  async runWaiting(conn: OpenConnection): Promise<void> {
    // calls that arrive meanwhile wait for the next turn: polling is not starved
    for (const call of this.queue.splice(0)) {
      const results: WriteResult[] = [];
      for (const p of call.values) results.push(p.ok ? await this.writeOne(conn, p.value, p.spec, p.words) : p);
      call.resolve(this.count(results));
    }
  }

  /** Refuse every waiting call (the connection is gone, or the source stops). */
  refuseWaiting(reason: string): void {
    const calls = this.queue;
    this.queue = [];
    for (const call of calls) call.resolve(this.count(call.values.map((p) => (p.ok ? { ok: false, reason } : p))));
  }

  private count(results: WriteResult[]): WriteResult[] {
    for (const r of results) {
      if (r.ok) this.written++;
      else this.refused++;
    }
    return results;
  }

  private prepare(v: WriteRequest): Prepared {
    if (v.kind !== 'modbus') return { ok: false, reason: `this Modbus source writes only kind modbus values (got ${String(v.kind)})` };
    if (!Number.isInteger(v.unitId) || v.unitId < 0 || v.unitId > 255) return { ok: false, reason: `unit id ${v.unitId} is not 0..255` };
    if (this.config.transport.kind === 'rtu' && v.unitId === 0) return { ok: false, reason: 'unit id 0 is broadcast on a serial line: no device answers it' };
    const spec: WriteSpec = { type: v.type, wordOrder: v.wordOrder ?? 'ABCD', length: v.length };
    const encoded = encodeRegisters(spec, v.value);
    if (!encoded.ok) return encoded;
    const end = v.address + encoded.words.length - 1;
    if (!Number.isInteger(v.address) || v.address < 0 || end > 65535) {
      return { ok: false, reason: `holding ${v.address}..${end} is not within 0..65535` };
    }
    return { ok: true, value: v, spec, words: encoded.words };
  }

  private async writeOne(conn: OpenConnection, v: ModbusWrite, spec: WriteSpec, words: number[]): Promise<WriteResult> {
    const timeoutMs = this.config.devices.find((d) => d.unitId === v.unitId)?.timeoutMs ?? this.fallbackTimeoutMs;
    const where = { unitId: v.unitId, address: v.address, type: v.type };
    if (conn.closed) return { ok: false, reason: 'connection lost before the write' };
    const single = words.length === 1 && this.singleRegisterUnits.has(v.unitId);
    let refusal = await this.attempt(
      conn,
      () => this.connection.writeHolding(conn, v.unitId, timeoutMs, v.address, words, single ? 6 : 16),
      'the write',
      timeoutMs,
    );
    if (refusal?.exception === 1 && words.length === 1 && !single) {
      this.singleRegisterUnits.add(v.unitId);
      this.log.info({ unitId: v.unitId }, 'unit refuses function 16 (write multiple registers); writing one-register values with function 6');
      refusal = await this.attempt(conn, () => this.connection.writeHolding(conn, v.unitId, timeoutMs, v.address, words, 6), 'the write', timeoutMs);
    }
    if (refusal) {
      this.log.warn({ ...where, reason: refusal.reason }, 'modbus write refused');
      return { ok: false, reason: refusal.reason };
    }
    let back: number[] = [];
    const readRefusal = await this.attempt(
      conn,
      async () => {
        back = (await this.connection.read(
          conn,
          { unitId: v.unitId, timeoutMs },
          { area: 'holding', address: v.address, count: words.length, items: [], unused: 0 },
        )) as number[];
      },
      'the read back',
      timeoutMs,
    );
    if (readRefusal) {
      this.log.warn({ ...where, reason: readRefusal.reason }, 'modbus write not verified');
      return { ok: false, reason: `written, but not read back: ${readRefusal.reason}` };
    }
    const readBack = readValue(spec, back);
    if (back.length !== words.length || back.some((w, i) => w !== words[i])) {
      const reason = `read back ${JSON.stringify(readBack)} (${hex(back)}), not ${JSON.stringify(v.value)} (${hex(words)})`;
      this.log.warn({ ...where, reason }, 'modbus write not verified');
      return { ok: false, reason, readBack };
    }
    this.log.debug(where, 'modbus write verified');
    return { ok: true, readBack };
  }

  /** One request; null when answered, else why not. A lost connection is dropped like a failed poll. */
  private async attempt(
    conn: OpenConnection,
    request: () => Promise<void>,
    what: string,
    timeoutMs: number,
  ): Promise<{ reason: string; exception?: number } | null> {
    try {
      await request();
      this.connection.answered(conn);
      return null;
    } catch (err) {
      const failure = classify(err);
      switch (failure.kind) {
        case 'exception':
          this.connection.answered(conn);
          return { reason: exceptionReason(failure.code), exception: failure.code };
        case 'timeout':
          this.connection.unanswered(conn);
          return { reason: `no answer to ${what} within ${timeoutMs} ms; the registers may or may not hold the value` };
        case 'connection':
          this.connection.drop(conn, err instanceof Error ? err : new ConnectionLostError(failure.message), true);
          return { reason: `connection lost during ${what}: ${failure.message}` };
        default:
          this.connection.answered(conn);
          return { reason: failure.message };
      }
    }
  }
}

/** The read-back registers as a value of the written type, for the result and messages. */
function readValue(spec: WriteSpec, words: number[]): unknown {
  try {
    const raw = decodeRaw(spec, words);
    return spec.type === 'float32' ? shortestFloat32(raw as number) : raw;
  } catch {
    return words;
  }
}

function hex(words: readonly number[]): string {
  return words.map((w) => `0x${w.toString(16).padStart(4, '0').toUpperCase()}`).join(' ');
}
