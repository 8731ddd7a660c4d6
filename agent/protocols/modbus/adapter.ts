import { errorCode, errorMessage } from '../../errors';
import type { Logger } from '../../log';
import { HandOver } from '../hand-over';
import type { AdapterContext, AdapterHealth, SourceAdapter, WriteRequest, WriteResult } from '../types';
import type { ModbusSourceConfig } from './config';
import { ModbusConnection } from './connection';
import { Poller } from './polling';
import { RegisterWriter } from './writes';

/** How long stop() waits for signals already handed to the outbox. */
const STOP_EMIT_WAIT_MS = 2000;
/** Shortest wait before a poll group's refused signals are offered again. */
const EMIT_RETRY_FLOOR_MS = 10;

/**
 * Polls Modbus devices over one TCP connection or one serial line and turns
 * the values into signals.
 *
 * One loop owns the connection, so requests never overlap: it picks the poll
 * group that is most overdue, reads it, hands the changed values to the
 * outbox without waiting, and goes on with the next group. A device that
 * times out is skipped for a growing time, so it costs the others at most one
 * of its own timeouts per try. A group is not polled while the hand-over holds
 * what it read: a refused group waits until its signals are accepted; nothing
 * it read is dropped. Writes (order release) wait for the loop too and go
 * between two poll groups.
 */
export class ModbusAdapter implements SourceAdapter {
  readonly name: string;
  readonly type = 'modbus';

  private readonly log: Logger;
  private readonly connection: ModbusConnection;
  private readonly poller: Poller;
  /** What each poll group read, until the outbox took it. */
  private readonly held: HandOver;
  private readonly writer: RegisterWriter;
  private running = false;
  private loop: Promise<void> | null = null;
  private sleepTimer: NodeJS.Timeout | null = null;
  private wakeSleeper: (() => void) | null = null;
  private lastError: AdapterHealth['lastError'] = null;

  constructor(
    private readonly config: ModbusSourceConfig,
    ctx: AdapterContext,
  ) {
    this.name = config.name;
    this.log = ctx.log; // the agent gives each source a logger with its component and name
    const noteError = (err: unknown, code: string) => this.noteError(err, code);
    const isRunning = () => this.running;
    this.connection = new ModbusConnection(config, this.log, { isRunning, wake: () => this.wake(), noteError, sleepUntil: (t) => this.sleepUntil(t) });
    this.poller = new Poller(config, this.log, this.connection, {
      isRunning,
      busy: (group) => this.held.holds(group.name),
      deliver: (group, signals) => this.held.holdPoll(group.name, signals),
      noteError,
    });
    this.writer = new RegisterWriter(config, this.log, this.connection, { wake: () => this.wake() });
    this.held = new HandOver(ctx, this.log, {
      policy: 'per-poll-group',
      // one poll of every group at most: a group is not polled while it holds anything
      limit: Math.max(
        1,
        this.poller.groups.reduce((n, g) => n + g.registers.length, 0),
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
    this.connection.reset();
    this.poller.restart(Date.now());
    this.held.start();
    this.loop = this.runLoop().catch((err: unknown) => {
      // Not expected: every failure inside the loop is handled. Reported so it cannot go unnoticed.
      this.log.error({ err }, 'modbus poll loop stopped unexpectedly; the source is not being read');
      this.noteError(err, 'MODBUS_LOOP_FAILED');
      this.writer.refuseWaiting('the poll loop stopped unexpectedly');
    });
  }

  async stop(): Promise<void> {
    if (!this.running && !this.loop) return;
    this.running = false;
    this.connection.close();
    this.wake();
    const loop = this.loop;
    this.loop = null;
    if (loop) await loop;
    this.writer.refuseWaiting('the source stopped');
    // what the outbox does not take now is read again at the next start
    await this.held.stop(STOP_EMIT_WAIT_MS);
  }

  /** Write holding registers between two polls; each value read back. Never rejects. */
  write(values: readonly WriteRequest[]): Promise<WriteResult[]> {
    return this.writer.submit(values, this.running);
  }

  health(): AdapterHealth {
    const paused = this.held.refusedGroups().map((r) => ({ group: r.group, reason: r.code, pendingSignals: r.held }));
    const p = this.poller;
    return {
      connected: this.connection.connected,
      lastDataAt: p.lastDataAt,
      lastError: this.lastError,
      details: {
        transport: this.connection.description,
        reads: p.reads,
        errors: p.errors,
        reconnects: this.connection.reconnects,
        signals: this.held.counts.signals,
        paused: paused.length > 0,
        pausedGroups: paused,
        overruns: p.overruns,
        writes: this.writer.written,
        writesRefused: this.writer.refused,
        devices: p.devices.map((d) => d.health()),
      },
    };
  }

  private async runLoop(): Promise<void> {
    while (this.running) {
      const conn = this.connection.current;
      if (!conn) {
        this.writer.refuseWaiting(`not connected (${this.connection.description})`);
        await this.connection.connect();
        continue;
      }
      if (this.writer.waiting) {
        await this.writer.runWaiting(conn);
        continue;
      }
      const now = Date.now();
      const group = this.poller.nextDue(now);
      if (!group) {
        await this.sleep(this.poller.nextWakeAt(now) - now);
        continue;
      }
      await this.poller.poll(conn, group);
    }
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

  private noteError(err: unknown, code: string): void {
    this.lastError = { message: errorMessage(err), code, at: new Date().toISOString() };
  }
}
