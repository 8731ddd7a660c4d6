import type { EventEmitter } from 'node:events';
import ModbusRTU from 'modbus-serial';
import { AgentError, errorCode, errorMessage } from '../../errors';
import type { Logger } from '../../log';
import { backoffDelay } from '../../retry';
import { isBitArea, type Area, type DeviceConfig, type ModbusSourceConfig } from './config';
import type { ReadRequest } from './plan';
import { ConnectionLostError, timeoutError } from './read-failures';

/** After this many timeouts in a row with no answer at all on a TCP connection, the connection is treated as dead (half-open) and reopened. */
const SILENT_TIMEOUTS_BEFORE_RECONNECT = 3;

/** The modbus-serial call that reads each area (function codes 3, 4, 1, 2). */
const READ = {
  holding: 'readHoldingRegisters',
  input: 'readInputRegisters',
  coil: 'readCoils',
  discrete: 'readDiscreteInputs',
} as const satisfies Record<Area, keyof ModbusRTU>;

/** One opened TCP connection or serial port. */
export interface OpenConnection {
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

/** What the connection needs from the source that polls over it. */
export interface ConnectionOwner {
  isRunning(): boolean;
  /** A connection went away: the poll loop should look again. */
  wake(): void;
  noteError(err: unknown, code: string): void;
  /** Wait until `until` (ms since epoch), shorter when the source stops. */
  sleepUntil(until: number): Promise<void>;
}

/** The one TCP connection or serial line of a source: open with a timeout, reopen with backoff, one request at a time. */
export class ModbusConnection {
  connected = false;
  reconnects = 0;
  /** The open connection, or null. */
  current: OpenConnection | null = null;
  /** The connection being opened, so stop() can abandon it. */
  private connecting: OpenConnection | null = null;
  /** Failed connects and drops since the last answer: sets the reconnect backoff. */
  private reconnectAttempts = 0;
  private connectFailures = 0;
  private everConnected = false;

  constructor(
    private readonly config: ModbusSourceConfig,
    private readonly log: Logger,
    private readonly owner: ConnectionOwner,
  ) {}

  get description(): string {
    const t = this.config.transport;
    return t.kind === 'tcp' ? `tcp ${t.host}:${t.port}` : `rtu ${t.path}`;
  }

  /** A new start: the first connect does not wait. */
  reset(): void {
    this.reconnectAttempts = 0;
  }

  /** Open the connection, after the backoff wait when earlier tries failed. Failures are noted, not thrown. */
  async connect(): Promise<void> {
    if (this.reconnectAttempts > 0) {
      await this.owner.sleepUntil(Date.now() + backoffDelay(this.reconnectAttempts, this.config.backoff));
    }
    if (!this.owner.isRunning()) return;
    try {
      const conn = await this.open();
      if (!this.owner.isRunning()) {
        this.drop(conn, new ConnectionLostError('source stopped'), false);
        return;
      }
      this.current = conn;
      this.connected = true;
      if (this.everConnected) this.reconnects++;
      this.everConnected = true;
      this.connectFailures = 0;
      this.log.info({ transport: this.description, reconnects: this.reconnects }, 'modbus connection open');
    } catch (err) {
      if (!this.owner.isRunning()) return;
      this.connectFailures++;
      this.reconnectAttempts++;
      this.owner.noteError(err, errorCode(err) ?? 'MODBUS_CONNECT_FAILED');
      const fields = { err: errorMessage(err), failures: this.connectFailures };
      if (this.connectFailures === 1) this.log.warn(fields, 'cannot open the modbus connection; retrying with backoff');
      else this.log.debug(fields, 'modbus connection attempt failed');
    }
  }

  /** The source stops: abandon an open in progress and close the connection. */
  close(): void {
    if (this.connecting) this.drop(this.connecting, new ConnectionLostError('source stopped'), false);
    if (this.current) this.drop(this.current, new ConnectionLostError('source stopped'), false);
    this.connected = false;
  }

  private async open(): Promise<OpenConnection> {
    const client = new ModbusRTU();
    const conn: OpenConnection = {
      client,
      closed: false,
      released: false,
      abort: null,
      silentTimeouts: 0,
      onClose: () => this.drop(conn, new ConnectionLostError('connection closed'), true),
      onError: (err: unknown) => this.drop(conn, new ConnectionLostError(`connection error: ${errorMessage(err)}`), true),
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
      this.release(conn);
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      if (this.connecting === conn) this.connecting = null;
    }
  }

  /** Forget a connection: fail its request in flight, detach, close. Safe to call more than once. */
  drop(conn: OpenConnection, err: Error, unexpected: boolean): void {
    if (conn.closed) return;
    conn.closed = true;
    if (this.current === conn) {
      this.current = null;
      this.connected = false;
      if (unexpected && this.owner.isRunning()) {
        this.reconnectAttempts++;
        this.owner.noteError(err, 'MODBUS_CONNECTION_LOST');
        this.log.warn({ err: err.message }, 'modbus connection lost; reconnecting');
      }
    }
    const abort = conn.abort;
    conn.abort = null;
    abort?.(err);
    this.release(conn);
    this.owner.wake();
  }

  private release(conn: OpenConnection): void {
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

  /** Any answer (data or exception) proves the connection and the device are alive. */
  answered(conn: OpenConnection): void {
    conn.silentTimeouts = 0;
    this.reconnectAttempts = 0;
  }

  /** A request got no answer at all. On TCP, several in a row may mean a half-open connection: reopen it. */
  unanswered(conn: OpenConnection): void {
    if (this.config.transport.kind === 'tcp' && ++conn.silentTimeouts >= SILENT_TIMEOUTS_BEFORE_RECONNECT) {
      this.drop(conn, new ConnectionLostError(`no answer to ${conn.silentTimeouts} requests in a row`), true);
    }
  }

  /** One read request, with the device's unit id and timeout. Rejects when the connection drops. */
  async read(conn: OpenConnection, device: Pick<DeviceConfig, 'unitId' | 'timeoutMs'>, request: ReadRequest): Promise<number[] | boolean[]> {
    const res = await this.request(
      conn,
      device.unitId,
      device.timeoutMs,
      (client) => client[READ[request.area]](request.address, request.count) as Promise<{ data: number[] | boolean[] }>,
    );
    return isBitArea(request.area) ? (res.data as boolean[]).slice(0, request.count) : (res.data as number[]);
  }

  /** Write holding registers from `address`: function 16 (write multiple registers), or function 6 for one register. */
  async writeHolding(conn: OpenConnection, unitId: number, timeoutMs: number, address: number, words: readonly number[], fn: 6 | 16): Promise<void> {
    if (fn === 6 && words.length !== 1) throw new RangeError('function 6 writes one register');
    await this.request<unknown>(conn, unitId, timeoutMs, (client) =>
      fn === 6 ? client.writeRegister(address, words[0]!) : client.writeRegisters(address, [...words]),
    );
  }

  /** One request at a time on `conn`, with the unit id and timeout. Rejects when the connection drops. */
  private request<T>(conn: OpenConnection, unitId: number, timeoutMs: number, send: (client: ModbusRTU) => Promise<T>): Promise<T> {
    const client = conn.client;
    client.setID(unitId);
    client.setTimeout(timeoutMs);
    const op = send(client);
    return new Promise((resolve, reject) => {
      let settled = false;
      // The library has its own timeout; this one only guards against a callback that never comes.
      const guard = setTimeout(() => finish(timeoutError()), timeoutMs + 1000);
      const finish = (err: unknown, data?: T) => {
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
        (res) => finish(null, res),
        (err: unknown) => finish(err),
      );
    });
  }
}
