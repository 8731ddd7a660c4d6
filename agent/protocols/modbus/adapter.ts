import type { EventEmitter } from 'node:events';
import ModbusRTU from 'modbus-serial';
import { AgentError, errorCode, errorMessage } from '../../errors';
import type { Logger } from '../../log';
import { backoffDelay } from '../../retry';
import type { Signal } from '../../model/signal';
import { HandOver } from '../hand-over';
import type { AdapterContext, AdapterHealth, SourceAdapter } from '../types';
import { isBitArea, type DeviceConfig, type ModbusSourceConfig, type RegisterConfig } from './config';
import { decodeRegisters, registerCount, shouldEmit, type DecodedValue } from './decode';
import { planReads, splitRequest, type PlanItem, type ReadRequest } from './plan';

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

export type DeviceStatus = 'unknown' | 'ok' | 'timeout' | 'exception' | 'error';

/** After this many timeouts in a row with no answer at all on a TCP connection, the connection is treated as dead (half-open) and reopened. */
const SILENT_TIMEOUTS_BEFORE_RECONNECT = 3;
/** How long stop() waits for signals already handed to the outbox. */
const STOP_EMIT_WAIT_MS = 2000;
/** Shortest wait before a poll group's refused signals are offered again. */
const EMIT_RETRY_FLOOR_MS = 10;

interface DeviceRun {
  config: DeviceConfig;
  name: string;
  status: DeviceStatus;
  exceptionCode: number | null;
  lastErrorText: string | null;
  /** Requests whose last answer was an exception or a garbled reply. */
  problems: Map<ReadRequest, { code: number | null; text: string }>;
  consecutiveTimeouts: number;
  /** Not polled before this time (ms) while it keeps timing out. */
  skipUntil: number;
  lastReadAt: string | null;
  reads: number;
  errors: number;
}

interface GroupRun {
  /** `device/group`, unique within the source (its place in the hand-over). */
  name: string;
  device: DeviceRun;
  intervalMs: number;
  registers: RegisterConfig[];
  items: PlanItem[];
  requests: ReadRequest[];
  nextDue: number;
  overruns: number;
}

interface Connection {
  client: ModbusRTU;
  closed: boolean;
  released: boolean;
  /** Fails the request in flight, if any. */
  abort: ((err: Error) => void) | null;
  onClose: () => void;
  onError: (err: unknown) => void;
  /** Timeouts in a row with no answer of any kind. */
  silentTimeouts: number;
}

type ReadFailure =
  | { kind: 'timeout'; message: string }
  | { kind: 'exception'; code: number; message: string }
  | { kind: 'connection'; message: string }
  | { kind: 'error'; message: string };

class ConnectionLostError extends AgentError {
  constructor(message: string) {
    super('MODBUS_CONNECTION_LOST', message, { retryable: true });
    this.name = 'ConnectionLostError';
  }
}

/**
 * Polls Modbus devices over one TCP connection or one serial line and turns
 * the values into signals.
 *
 * One loop owns the connection, so requests never overlap: it picks the poll
 * group that is most overdue, reads it (one request per planned read, the unit
 * id and the device's timeout set per request), hands the changed values to
 * the outbox without waiting, and goes on with the next group. A device that
 * times out is skipped for a growing time, so it costs the others at most one
 * of its own timeouts per try. A group is not polled while the hand-over holds
 * what it read: a refused group waits until its signals are accepted; nothing
 * it read is dropped.
 */
export class ModbusAdapter implements SourceAdapter {
  readonly name: string;
  readonly type = 'modbus';

  private readonly config: ModbusSourceConfig;
  private readonly ctx: AdapterContext;
  private readonly log: Logger;
  private readonly devices: DeviceRun[];
  private readonly groups: GroupRun[];
  /** Last value and quality sent per tag (for change detection). */
  private readonly lastSent = new Map<string, { value: unknown; quality: string }>();

  private running = false;
  private loop: Promise<void> | null = null;
  private conn: Connection | null = null;
  /** The connection being opened, so stop() can abandon it. */
  private connecting: Connection | null = null;
  /** Failed connects and drops since the last answer: sets the reconnect backoff. */
  private reconnectAttempts = 0;
  private connectFailures = 0;
  private everConnected = false;
  private sleepTimer: NodeJS.Timeout | null = null;
  private wakeSleeper: (() => void) | null = null;
  /** What each poll group read, until the outbox took it. */
  private readonly held: HandOver;

  private connected = false;
  private lastDataAt: string | null = null;
  private lastError: AdapterHealth['lastError'] = null;
  private reads = 0;
  private errors = 0;
  private reconnects = 0;

  constructor(config: ModbusSourceConfig, ctx: AdapterContext) {
    this.config = config;
    this.ctx = ctx;
    this.name = config.name;
    this.log = ctx.log; // the agent gives each source a logger with its component and name
    const limits = {
      maxReadGap: config.maxReadGap,
      maxRegistersPerRead: config.maxRegistersPerRead,
      maxBitsPerRead: config.maxBitsPerRead,
    };
    this.devices = [];
    this.groups = [];
    for (const dc of config.devices) {
      const device: DeviceRun = {
        config: dc,
        name: dc.name ?? `unit${dc.unitId}`,
        status: 'unknown',
        exceptionCode: null,
        lastErrorText: null,
        problems: new Map(),
        consecutiveTimeouts: 0,
        skipUntil: 0,
        lastReadAt: null,
        reads: 0,
        errors: 0,
      };
      this.devices.push(device);
      dc.groups.forEach((gc, g) => {
        const items: PlanItem[] = gc.registers.map((r) => ({
          area: r.area,
          address: r.address,
          count: isBitArea(r.area) ? 1 : registerCount(r.type, r.length),
        }));
        const name = `${device.name}/${gc.name ?? `group${g + 1}`}`;
        const twins = this.groups.filter((x) => x.name === name || x.name.startsWith(`${name}#`)).length;
        this.groups.push({
          name: twins === 0 ? name : `${name}#${twins + 1}`,
          device,
          intervalMs: gc.intervalMs,
          registers: gc.registers,
          items,
          requests: planReads(items, limits),
          nextDue: 0,
          overruns: 0,
        });
      });
    }
    this.held = new HandOver(ctx, this.log, {
      policy: 'per-poll-group',
      // one poll of every group at most: a group is not polled while it holds anything
      limit: Math.max(
        1,
        this.groups.reduce((n, g) => n + g.registers.length, 0),
      ),
      retry: { ...config.backoff, floorMs: EMIT_RETRY_FLOOR_MS },
      what: 'readings',
      onCommitted: () => this.wake(),
      onRefused: (err) => this.noteError(err, errorCode(err) ?? 'EMIT_FAILED'),
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const t = this.config.transport;
    if (t.kind === 'rtu' && !t.path.startsWith('/dev/serial/by-id/') && /^\/dev\/tty(USB|ACM)\d+$/.test(t.path)) {
      this.log.warn({ path: t.path }, 'serial path may change at reboot or replug; prefer the /dev/serial/by-id/... name');
    }
    this.reconnectAttempts = 0;
    this.lastSent.clear(); // a restart sends every current value once, like a new process
    const now = Date.now();
    for (const g of this.groups) g.nextDue = now;
    this.held.start();
    this.loop = this.runLoop().catch((err: unknown) => {
      // Not expected: every failure inside the loop is handled. Reported so it cannot go unnoticed.
      this.log.error({ err }, 'modbus poll loop stopped unexpectedly; the source is not being read');
      this.noteError(err, 'MODBUS_LOOP_FAILED');
    });
  }

  async stop(): Promise<void> {
    if (!this.running && !this.loop) return;
    this.running = false;
    if (this.connecting) this.dropConnection(this.connecting, new ConnectionLostError('source stopped'), false);
    if (this.conn) this.dropConnection(this.conn, new ConnectionLostError('source stopped'), false);
    this.wake();
    const loop = this.loop;
    this.loop = null;
    if (loop) await loop;
    // what the outbox does not take now is read again at the next start
    await this.held.stop(STOP_EMIT_WAIT_MS);
    this.connected = false;
  }

  health(): AdapterHealth {
    const paused = this.held.refusedGroups().map((r) => ({ group: r.group, reason: r.code, pendingSignals: r.held }));
    return {
      connected: this.connected,
      lastDataAt: this.lastDataAt,
      lastError: this.lastError,
      details: {
        transport: transportText(this.config),
        reads: this.reads,
        errors: this.errors,
        reconnects: this.reconnects,
        signals: this.held.counts.signals,
        paused: paused.length > 0,
        pausedGroups: paused,
        overruns: this.groups.reduce((n, g) => n + g.overruns, 0),
        devices: this.devices.map((d) => ({
          unitId: d.config.unitId,
          name: d.name,
          status: d.status,
          exceptionCode: d.exceptionCode,
          exception: d.exceptionCode === null ? null : (MODBUS_EXCEPTIONS[d.exceptionCode] ?? 'unknown exception'),
          lastError: d.lastErrorText,
          consecutiveTimeouts: d.consecutiveTimeouts,
          skippedUntil: d.skipUntil > Date.now() ? new Date(d.skipUntil).toISOString() : null,
          lastReadAt: d.lastReadAt,
          reads: d.reads,
          errors: d.errors,
        })),
      },
    };
  }

  // ---- the poll loop -------------------------------------------------------

  private async runLoop(): Promise<void> {
    while (this.running) {
      if (!this.conn) {
        await this.connectWithBackoff();
        continue;
      }
      const now = Date.now();
      const group = this.nextDueGroup(now);
      if (!group) {
        await this.sleep(this.nextWakeAt(now) - now);
        continue;
      }
      await this.pollGroup(this.conn, group);
    }
  }

  private nextDueGroup(now: number): GroupRun | null {
    let best: GroupRun | null = null;
    for (const g of this.groups) {
      if (this.held.holds(g.name) || g.nextDue > now || g.device.skipUntil > now) continue;
      if (!best || g.nextDue < best.nextDue) best = g;
    }
    return best;
  }

  private nextWakeAt(now: number): number {
    let at = now + 60_000;
    for (const g of this.groups) {
      if (this.held.holds(g.name)) continue;
      at = Math.min(at, Math.max(g.nextDue, g.device.skipUntil));
    }
    return Math.max(at, now + 1);
  }

  /** Wait up to `ms`; wake() ends the wait early. Only one wait exists at a time. */
  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        if (this.sleepTimer) clearTimeout(this.sleepTimer);
        this.sleepTimer = null;
        this.wakeSleeper = null;
        resolve();
      };
      this.wakeSleeper = done;
      this.sleepTimer = setTimeout(done, Math.max(0, ms));
    });
  }

  private wake(): void {
    this.wakeSleeper?.();
  }

  /** Sleep until `until` (ms), whatever wakes the loop in between. */
  private async sleepUntil(until: number): Promise<void> {
    while (this.running) {
      const left = until - Date.now();
      if (left <= 0) return;
      await this.sleep(left);
    }
  }

  // ---- connection ----------------------------------------------------------

  private async connectWithBackoff(): Promise<void> {
    if (this.reconnectAttempts > 0) {
      await this.sleepUntil(Date.now() + backoffDelay(this.reconnectAttempts, this.config.backoff));
    }
    if (!this.running) return;
    try {
      const conn = await this.openConnection();
      if (!this.running) {
        this.dropConnection(conn, new ConnectionLostError('source stopped'), false);
        return;
      }
      this.conn = conn;
      this.connected = true;
      if (this.everConnected) this.reconnects++;
      this.everConnected = true;
      this.connectFailures = 0;
      this.log.info({ transport: transportText(this.config), reconnects: this.reconnects }, 'modbus connection open');
    } catch (err) {
      if (!this.running) return;
      this.connectFailures++;
      this.reconnectAttempts++;
      this.noteError(err, errorCode(err) ?? 'MODBUS_CONNECT_FAILED');
      const fields = { err: errorMessage(err), failures: this.connectFailures };
      if (this.connectFailures === 1) this.log.warn(fields, 'cannot open the modbus connection; retrying with backoff');
      else this.log.debug(fields, 'modbus connection attempt failed');
    }
  }

  private async openConnection(): Promise<Connection> {
    const client = new ModbusRTU();
    const conn: Connection = {
      client,
      closed: false,
      released: false,
      abort: null,
      silentTimeouts: 0,
      onClose: () => this.dropConnection(conn, new ConnectionLostError('connection closed'), true),
      onError: (err: unknown) => this.dropConnection(conn, new ConnectionLostError(`connection error: ${errorMessage(err)}`), true),
    };
    client.on('close', conn.onClose);
    client.on('error', conn.onError);
    this.connecting = conn;
    const t = this.config.transport;
    const opening =
      t.kind === 'tcp'
        ? client.connectTCP(t.host, { port: t.port, keepAlive: true, keepAliveInitialDelay: 10_000 })
        : client.connectRTUBuffered(t.path, { baudRate: t.baudRate, parity: t.parity, dataBits: t.dataBits, stopBits: t.stopBits });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        opening,
        new Promise<never>((_, reject) => {
          conn.abort = reject; // stop() while connecting
          timer = setTimeout(
            () => reject(new AgentError('MODBUS_CONNECT_TIMEOUT', `no connection within ${this.config.connectTimeoutMs} ms`, { retryable: true })),
            this.config.connectTimeoutMs,
          );
        }),
      ]);
      conn.abort = null;
      return conn;
    } catch (err) {
      opening.catch(() => undefined); // may settle after we gave up; nothing left to do then
      conn.abort = null;
      conn.closed = true;
      this.releaseClient(conn);
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      if (this.connecting === conn) this.connecting = null;
    }
  }

  /** Forget a connection: fail its request in flight, detach, close. Safe to call more than once. */
  private dropConnection(conn: Connection, err: Error, unexpected: boolean): void {
    if (conn.closed) return;
    conn.closed = true;
    if (this.conn === conn) {
      this.conn = null;
      this.connected = false;
      if (unexpected && this.running) {
        this.reconnectAttempts++;
        this.noteError(err, 'MODBUS_CONNECTION_LOST');
        this.log.warn({ err: err.message }, 'modbus connection lost; reconnecting');
      }
    }
    const abort = conn.abort;
    conn.abort = null;
    abort?.(err);
    this.releaseClient(conn);
    this.wake();
  }

  private releaseClient(conn: Connection): void {
    if (conn.released) return;
    conn.released = true;
    const client = conn.client;
    // The client is an EventEmitter; its type declarations leave that out.
    const emitter = client as unknown as EventEmitter;
    emitter.removeListener('close', conn.onClose);
    emitter.removeListener('error', conn.onError);
    // A closing port may still report an error; with no listener that would crash the process.
    const swallow = () => undefined;
    client.on('error', swallow);
    const port = (client as unknown as { _port?: { on?: (e: string, f: () => void) => void } })._port;
    port?.on?.('error', swallow);
    try {
      if (this.config.transport.kind === 'tcp') client.destroy(swallow);
      else client.close(swallow);
    } catch {
      // Closing a port that never opened can throw; it holds nothing then.
    }
  }

  // ---- reading -------------------------------------------------------------

  private async pollGroup(conn: Connection, group: GroupRun): Promise<void> {
    const device = group.device;
    const startedAt = Date.now();
    const signals: Signal[] = [];
    try {
      for (let i = 0; i < group.requests.length; i++) {
        if (!this.running || conn.closed) return; // not rescheduled: polled again right after reconnecting
        const request = group.requests[i]!;
        let data: number[] | boolean[];
        try {
          data = await this.read(conn, device.config, request);
        } catch (err) {
          const failure = classify(err);
          if (failure.kind === 'connection') {
            this.dropConnection(conn, err instanceof Error ? err : new ConnectionLostError(failure.message), true);
            return;
          }
          this.errors++;
          device.errors++;
          if (failure.kind === 'timeout') {
            this.deviceTimeout(device, request);
            // The device is not answering: do not spend its timeout again on the rest of this group.
            this.markBad(group, itemsFrom(group.requests, i), signals, { error: 'timeout' });
            this.reschedule(group, startedAt);
            if (this.config.transport.kind === 'tcp' && ++conn.silentTimeouts >= SILENT_TIMEOUTS_BEFORE_RECONNECT) {
              // No answer of any kind for a while: the TCP connection may be half-open. Reopen it.
              this.dropConnection(conn, new ConnectionLostError(`no answer to ${conn.silentTimeouts} requests in a row`), true);
            }
            return;
          }
          this.answered(conn);
          if (failure.kind === 'exception') {
            if (failure.code === 2 && request.items.length > 1) {
              const parts = splitRequest(request, group.items);
              if (parts.length > 1) {
                this.log.warn(
                  { group: group.name, unitId: device.config.unitId, area: request.area, address: request.address, count: request.count },
                  'device refused a joined read (exception 2, illegal data address); reading these values separately from now on',
                );
                group.requests.splice(i, 1, ...parts);
                device.problems.delete(request);
                i--;
                continue;
              }
            }
            this.deviceAnswered(device, request, { code: failure.code, text: this.exceptionText(device, failure.code, request) });
            this.markBad(group, request.items, signals, { error: 'exception', exceptionCode: failure.code });
          } else {
            this.deviceAnswered(device, request, {
              code: null,
              text: `unit ${device.config.unitId} (${device.name}): ${failure.message} reading ${describe(request)}`,
            });
            this.markBad(group, request.items, signals, { error: failure.message });
          }
          continue;
        }
        const readAt = new Date().toISOString();
        this.answered(conn);
        this.reads++;
        device.reads++;
        device.lastReadAt = readAt;
        this.lastDataAt = readAt;
        this.deviceAnswered(device, request, null);
        for (const index of request.items) {
          const r = group.registers[index]!;
          const item = group.items[index]!;
          const offset = item.address - request.address;
          const decoded: DecodedValue = isBitArea(r.area)
            ? { value: Boolean(data[offset]), quality: 'good' }
            : decodeRegisters(r, (data as number[]).slice(offset, offset + item.count));
          const meta: Record<string, unknown> = { unitId: device.config.unitId, area: r.area, address: r.address };
          if (decoded.reason) meta.error = decoded.reason;
          this.consider(r, decoded.value, decoded.quality, readAt, meta, signals);
        }
      }
      this.reschedule(group, startedAt);
    } finally {
      // Whatever ended the cycle, values already read go to the outbox.
      if (signals.length > 0) this.held.holdPoll(group.name, signals);
    }
  }

  /** Any answer (data or exception) proves the connection and the device are alive. */
  private answered(conn: Connection): void {
    conn.silentTimeouts = 0;
    this.reconnectAttempts = 0;
  }

  private reschedule(group: GroupRun, startedAt: number): void {
    let next = group.nextDue + group.intervalMs;
    const now = Date.now();
    if (next <= now) {
      // Missed a turn: poll again as soon as possible, in turn with the other groups.
      if (group.device.status !== 'timeout') group.overruns++;
      next = Math.max(now, startedAt);
    }
    group.nextDue = next;
  }

  /** One read request, with the device's unit id and timeout. Rejects when the connection drops. */
  private read(conn: Connection, device: DeviceConfig, request: ReadRequest): Promise<number[] | boolean[]> {
    const client = conn.client;
    client.setID(device.unitId);
    client.setTimeout(device.timeoutMs);
    let op: Promise<{ data: number[] | boolean[] }>;
    switch (request.area) {
      case 'holding':
        op = client.readHoldingRegisters(request.address, request.count);
        break;
      case 'input':
        op = client.readInputRegisters(request.address, request.count);
        break;
      case 'coil':
        op = client.readCoils(request.address, request.count);
        break;
      case 'discrete':
        op = client.readDiscreteInputs(request.address, request.count);
        break;
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      // The library has its own timeout; this one only guards against a callback that never comes.
      const guard = setTimeout(() => finish(timeoutError()), device.timeoutMs + 1000);
      const finish = (err: unknown, data?: number[] | boolean[]) => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        if (conn.abort === abort) conn.abort = null;
        if (err) reject(err);
        else resolve(data!);
      };
      const abort = (err: Error) => finish(err);
      conn.abort = abort;
      op.then(
        (res) => finish(null, isBitArea(request.area) ? (res.data as boolean[]).slice(0, request.count) : (res.data as number[])),
        (err: unknown) => finish(err),
      );
    });
  }

  private consider(r: RegisterConfig, value: Signal['value'], quality: Signal['quality'], at: string, meta: Record<string, unknown>, out: Signal[]): void {
    const next = { value, quality };
    if (!this.config.emitUnchanged && !shouldEmit(this.lastSent.get(r.tag), next, r.deadband)) return;
    this.lastSent.set(r.tag, next);
    out.push({ source: this.name, tag: r.tag, value, quality, sourceTime: at, receivedAt: at, meta });
  }

  /** A bad-quality signal for values that could not be read (sent once per change, like values). */
  private markBad(group: GroupRun, items: number[], out: Signal[], why: Record<string, unknown>): void {
    const at = new Date().toISOString();
    const seen = new Set(out.map((s) => s.tag));
    for (const index of items) {
      const r = group.registers[index]!;
      if (seen.has(r.tag)) continue;
      this.consider(r, null, 'bad', at, { unitId: group.device.config.unitId, area: r.area, address: r.address, ...why }, out);
    }
  }

  // ---- device state --------------------------------------------------------

  /**
   * The device answered a request (with data when `problem` is null). Its
   * status is the worst standing answer: a request that keeps failing with an
   * exception keeps the device in `exception` even while its other reads work.
   */
  private deviceAnswered(device: DeviceRun, request: ReadRequest, problem: { code: number | null; text: string } | null): void {
    const was = device.status;
    const wasCode = device.exceptionCode;
    device.consecutiveTimeouts = 0;
    device.skipUntil = 0;
    if (problem) device.problems.set(request, problem);
    else device.problems.delete(request);
    const latest = [...device.problems.values()].pop();
    if (!latest) {
      device.status = 'ok';
      device.exceptionCode = null;
      device.lastErrorText = null;
    } else {
      device.status = latest.code === null ? 'error' : 'exception';
      device.exceptionCode = latest.code;
      device.lastErrorText = latest.text;
    }
    if (problem) {
      const code = problem.code === null ? 'MODBUS_BAD_RESPONSE' : 'MODBUS_EXCEPTION';
      this.noteError(new Error(problem.text), code);
    }
    if (problem && (was !== device.status || wasCode !== device.exceptionCode)) {
      this.log.warn({ unitId: device.config.unitId, device: device.name, exceptionCode: problem.code ?? undefined }, problem.text);
    } else if (!problem && was !== 'ok' && was !== 'unknown' && device.status === 'ok') {
      this.log.info({ unitId: device.config.unitId, device: device.name, was }, 'modbus device answers normally again');
    }
  }

  private exceptionText(device: DeviceRun, code: number, request: ReadRequest): string {
    const name = MODBUS_EXCEPTIONS[code] ?? 'unknown exception';
    return `unit ${device.config.unitId} (${device.name}): exception ${code} (${name}) reading ${describe(request)}`;
  }

  private deviceTimeout(device: DeviceRun, request: ReadRequest): void {
    device.consecutiveTimeouts++;
    // The full ceiling, without jitter: a skipped device is tried again at a predictable time.
    const skipMs = backoffDelay(device.consecutiveTimeouts, this.config.backoff, { random: () => 1 });
    device.skipUntil = Date.now() + skipMs;
    const message = `unit ${device.config.unitId} (${device.name}): no answer within ${device.config.timeoutMs} ms reading ${describe(request)}`;
    device.lastErrorText = message;
    this.noteError(new Error(message), 'MODBUS_TIMEOUT');
    if (device.status !== 'timeout') {
      this.log.warn({ unitId: device.config.unitId, device: device.name, skipMs }, `${message}; polling it less often until it answers`);
    } else {
      this.log.debug({ unitId: device.config.unitId, timeouts: device.consecutiveTimeouts, skipMs }, 'modbus device still not answering');
    }
    device.status = 'timeout';
    device.exceptionCode = null;
  }

  private noteError(err: unknown, code: string): void {
    this.lastError = { message: errorMessage(err), code, at: new Date().toISOString() };
  }
}

function transportText(config: ModbusSourceConfig): string {
  const t = config.transport;
  return t.kind === 'tcp' ? `tcp ${t.host}:${t.port}` : `rtu ${t.path}`;
}

/** The values of the requests from `from` on (those not read in this cycle). */
function itemsFrom(requests: readonly ReadRequest[], from: number): number[] {
  return requests.slice(from).flatMap((r) => r.items);
}

function describe(request: ReadRequest): string {
  return request.count === 1 ? `${request.area} ${request.address}` : `${request.area} ${request.address}..${request.address + request.count - 1}`;
}

function timeoutError(): Error {
  const err = new Error('Timed out') as Error & { errno: string };
  err.errno = 'ETIMEDOUT';
  return err;
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
