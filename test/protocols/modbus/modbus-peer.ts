/**
 * A real Modbus TCP server (modbus-serial ServerTCP) for the tests and the
 * bench: a register map per unit id, units that never answer, units that
 * answer every request with an exception, and request counters. Holding
 * registers already in the map can be written (function 16, and 6 on units
 * that only know 6), except read-only ones.
 */
import { ServerTCP, type IServiceVector } from 'modbus-serial';
import type { Socket } from 'node:net';
import { until } from '../../helpers/until';

type Area = 'holding' | 'input' | 'coil' | 'discrete';
type Callback<T> = (err: Error | null, value: T) => void;

export class ModbusPeer {
  readonly maps = new Map<string, number | boolean>();
  /** Units that receive requests but never answer. */
  readonly silentUnits = new Set<number>();
  /** Units that answer every request with this exception code. */
  readonly failingUnits = new Map<number, number>();
  /** Read requests received per unit id. */
  readonly requests = new Map<number, number>();
  /** Holding registers (`unit:address`) that refuse writes with exception 2, as a PLC's read-only range does. */
  readonly readOnly = new Set<string>();
  /** Units that answer function 16 with exception 1 (illegal function): only function 6 works. */
  readonly singleWriteUnits = new Set<number>();
  /** Write requests received: unit, function, first address, registers. */
  readonly writes: Array<{ unit: number; fn: 6 | 16; address: number; words: number[] }> = [];
  /** Set by a test to hold write answers back (ms), e.g. to cut the connection while one is in flight. */
  writeDelayMs = 0;
  port = 0;
  private server: ServerTCP | null = null;

  set(unit: number, area: Area, address: number, value: number | boolean | number[]): void {
    if (Array.isArray(value)) value.forEach((w, i) => this.maps.set(`${unit}:${area}:${address + i}`, w));
    else this.maps.set(`${unit}:${area}:${address}`, value);
  }

  requestCount(unit: number): number {
    return this.requests.get(unit) ?? 0;
  }

  /** Listen on 127.0.0.1: on `port`, or on a free port the first time. */
  async start(port = this.port): Promise<number> {
    const vector = this.vector();
    // ServerTCP treats port 0 as "use 502"; the string '0' asks the OS for a free port.
    const server = new ServerTCP(vector, { host: '127.0.0.1', port: (port === 0 ? '0' : port) as number, unitID: 255 });
    server.on('socketError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve());
      server.once('serverError', reject);
    });
    this.server = server;
    this.port = (server as unknown as { _server: { address(): { port: number } } })._server.address().port;
    return this.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Cut every open client connection (the server keeps listening). */
  dropConnections(): number {
    const socks = (this.server?.socks ?? new Map()) as Map<Socket, 0>;
    let n = 0;
    for (const sock of socks.keys()) {
      sock.destroy();
      n++;
    }
    return n;
  }

  get running(): boolean {
    return this.server !== null;
  }

  connectionCount(): number {
    return this.server?.socks.size ?? 0;
  }

  private count(unit: number): void {
    this.requests.set(unit, this.requestCount(unit) + 1);
  }

  private lookup(unit: number, area: Area, addr: number): number | boolean {
    const failing = this.failingUnits.get(unit);
    if (failing !== undefined) throw Object.assign(new Error('failing unit'), { modbusErrorCode: failing });
    const v = this.maps.get(`${unit}:${area}:${addr}`);
    if (v === undefined) throw Object.assign(new Error('no such address'), { modbusErrorCode: 2 });
    return v;
  }

  private many(unit: number, area: Area, addr: number, length: number, cb: Callback<number[]>): void {
    this.count(unit);
    if (this.silentUnits.has(unit)) return; // never answers
    try {
      const values: number[] = [];
      for (let i = 0; i < length; i++) values.push(Number(this.lookup(unit, area, addr + i)));
      cb(null, values);
    } catch (err) {
      cb(err as Error, []);
    }
  }

  private one(unit: number, area: Area, addr: number, cb: Callback<number>): void {
    this.count(unit);
    if (this.silentUnits.has(unit)) return;
    try {
      cb(null, Number(this.lookup(unit, area, addr)));
    } catch (err) {
      cb(err as Error, 0);
    }
  }

  private bit(unit: number, area: Area, addr: number, cb: Callback<boolean>): void {
    // Called once per bit of a request, so not counted as requests.
    if (this.silentUnits.has(unit)) return;
    try {
      cb(null, Boolean(this.lookup(unit, area, addr)));
    } catch (err) {
      cb(err as Error, false);
    }
  }

  /** Write registers all or nothing: every address must exist and be writable. */
  private store(unit: number, fn: 6 | 16, addr: number, words: number[], cb: Callback<void>): void {
    this.writes.push({ unit, fn, address: addr, words });
    if (this.silentUnits.has(unit)) return;
    const answer = (err: Error | null) => (this.writeDelayMs > 0 ? setTimeout(() => cb(err, undefined), this.writeDelayMs) : cb(err, undefined));
    try {
      if (fn === 16 && this.singleWriteUnits.has(unit)) throw Object.assign(new Error('illegal function'), { modbusErrorCode: 1 });
      words.forEach((_, i) => {
        this.lookup(unit, 'holding', addr + i);
        if (this.readOnly.has(`${unit}:${addr + i}`)) throw Object.assign(new Error('read-only'), { modbusErrorCode: 2 });
      });
      words.forEach((w, i) => this.maps.set(`${unit}:holding:${addr + i}`, w));
      answer(null);
    } catch (err) {
      answer(err as Error);
    }
  }

  private vector(): IServiceVector {
    return {
      setRegisterArray: (addr: number, words: number[], unit: number, cb: Callback<void>) => this.store(unit, 16, addr, words, cb),
      setRegister: (addr: number, word: number, unit: number, cb: Callback<void>) => this.store(unit, 6, addr, [word], cb),
      getMultipleHoldingRegisters: (addr: number, length: number, unit: number, cb: Callback<number[]>) => this.many(unit, 'holding', addr, length, cb),
      getMultipleInputRegisters: (addr: number, length: number, unit: number, cb: Callback<number[]>) => this.many(unit, 'input', addr, length, cb),
      getHoldingRegister: (addr: number, unit: number, cb: Callback<number>) => this.one(unit, 'holding', addr, cb),
      getInputRegister: (addr: number, unit: number, cb: Callback<number>) => this.one(unit, 'input', addr, cb),
      getCoil: (addr: number, unit: number, cb: Callback<boolean>) => this.bit(unit, 'coil', addr, cb),
      getDiscreteInput: (addr: number, unit: number, cb: Callback<boolean>) => this.bit(unit, 'discrete', addr, cb),
    };
  }
}

/** Poll until `check` is true; fail with `what` after `timeoutMs` (the tests' one poll-until). */
export const waitFor = (check: () => boolean, timeoutMs: number, what: string): Promise<void> => until(check, what, timeoutMs);
