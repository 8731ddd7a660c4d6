import { errorCode, errorMessage } from '../../errors';
import type { Logger } from '../../log';
import type { AdapterContext, AdapterHealth, SourceAdapter } from '../types';
import { HandOver } from '../hand-over';
import { DeviceWatch, ReopenBackoff, deviceIdentity, sameDevice, type DeviceIdentity } from './device-watch';
import { splitSymbology } from '../../rules/kinds/scan-gs1';
import { ScanClock } from './scan-clock';

/** How long `stop()` waits for held scans to be taken by the agent. */
const STOP_DRAIN_MS = 2000;
/** Waits between offers of held scans while the outbox refuses them. */
const SCAN_RETRY = { initialMs: 250, maxMs: 5000, floorMs: 50 };
/** Scans handed to the agent in one call at most. */
const SCAN_BATCH = 100;
/** A device time further than this from the agent's clock is not trusted as the scan time. */
const MAX_CLOCK_SKEW_MS = 24 * 3600_000;

/** An open scanner device, as the concrete adapter opened it. */
export interface OpenDevice {
  /** Stop reading (as many scans are held as queueLimit allows). */
  pause(): void;
  resume(): void;
  /** Release the device. Never throws; resolves once released (or after a short timeout). */
  close(): Promise<void>;
}

export interface ScannerCommonConfig {
  name: string;
  path: string;
  reopen: { initialMs: number; maxMs: number };
  watchIntervalMs: number;
  queueLimit: number;
}

/**
 * What every scanner adapter does the same way: open the device, notice it
 * being unplugged (by its own report and by watching the device path),
 * reopen it with growing waits, hand one signal per scan to the agent in
 * order, hold scans while the agent refuses them, keep unreadable input.
 * The concrete adapter opens the device and decodes its bytes.
 */
export abstract class ScannerAdapterBase implements SourceAdapter {
  abstract readonly type: string;
  readonly name: string;
  protected readonly log: Logger;

  private running = false;
  private device: OpenDevice | undefined;
  private opening = false;
  private openedDevice: DeviceIdentity | null = null;
  private waitingForDevice = false;
  private inputPaused = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private readonly held: HandOver;
  private readonly watch: DeviceWatch;
  private readonly backoff: ReopenBackoff;
  private readonly clock = new ScanClock();
  private lastDataAt: string | null = null;
  private lastError: AdapterHealth['lastError'] = null;
  protected readonly counts = { scans: 0, unreadable: 0, opens: 0, disconnects: 0, openFailures: 0 };

  constructor(
    private readonly common: ScannerCommonConfig,
    private readonly ctx: AdapterContext,
  ) {
    this.name = common.name;
    this.log = ctx.log.child({ device: common.path });
    this.backoff = new ReopenBackoff(common.reopen);
    this.watch = new DeviceWatch(common.path, common.watchIntervalMs, (identity) => this.onDeviceLook(identity));
    this.held = new HandOver(ctx, this.log, {
      policy: 'keep-all',
      limit: common.queueLimit,
      retry: SCAN_RETRY,
      batchSize: SCAN_BATCH,
      what: 'scans',
      onFull: () => this.pauseInput(),
      onSpace: () => this.resumeInput(),
    });
  }

  /** Open the device behind the path; call `deviceLost` when it goes away later. Throws when it cannot be opened. */
  protected abstract openDevice(identity: DeviceIdentity): Promise<OpenDevice>;
  /** End a scan in progress (device lost, agent stopping): emit it as unreadable, and start decoding afresh. */
  protected abstract endPartialScan(reason: string): void;
  /** Figures of the concrete adapter for the status page. */
  protected extraDetails(): Record<string, unknown> {
    return {};
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.held.start();
    this.inputPaused = false;
    this.backoff.reset();
    this.watch.start();
    void this.tryOpen();
  }

  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    this.watch.stop();
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    // An open still waiting (a reader blocked on a device that never answers) must not outlive the stop.
    if (this.opening) this.abandonOpening('the agent stopped');
    const device = this.device;
    this.device = undefined;
    this.openedDevice = null;
    if (device) {
      this.endPartialScan('the agent stopped in the middle of a scan');
      await device.close();
    }
    const left = await this.held.stop(STOP_DRAIN_MS);
    if (left.length > 0) {
      const codes = left.map((i) => (i.signal ? String(i.signal.value) : `(unreadable) ${i.invalid?.reason}`));
      this.log.error({ lost: codes }, `${left.length} scans were read but not taken by the agent before it stopped; scan them again`);
    }
    if (wasRunning) this.log.info('scanner stopped');
  }

  health(): AdapterHealth {
    return {
      connected: this.device !== undefined,
      lastDataAt: this.lastDataAt,
      lastError: this.lastError,
      details: {
        path: this.common.path,
        device: this.openedDevice?.target ?? null,
        waitingForDevice: this.waitingForDevice,
        /** The agent refuses scans (outbox full): they are held here and offered again. */
        paused: this.held.refusing,
        queued: this.held.size,
        /** Reading from the scanner is stopped because the queue is full. */
        readingPaused: this.inputPaused,
        ...this.counts,
        ...this.extraDetails(),
      },
    };
  }

  /** The concrete adapter reports that an open device went away (unplugged, read error, helper exited). */
  protected deviceLost(device: OpenDevice, reason: string): void {
    if (this.device !== device) return;
    this.device = undefined;
    this.openedDevice = null;
    this.counts.disconnects++;
    this.endPartialScan('scanner disconnected in the middle of a scan');
    this.setError(reason, 'SCANNER_DISCONNECTED');
    this.log.warn({ reason }, 'scanner disconnected; reopening');
    void device.close();
    this.scheduleReopen();
  }

  /** Bytes arrived from the device (for lastDataAt). */
  protected noteData(): void {
    this.lastDataAt = new Date().toISOString();
  }

  /** One scan read: a signal with tag `scan`. `deviceTimeMs` is the scan time the device reported, if any. */
  protected emitScan(code: string, deviceTimeMs?: number): void {
    const at = new Date(this.scanTime(deviceTimeMs)).toISOString();
    const receivedAt = new Date().toISOString();
    const symbology = splitSymbology(code).symbology;
    const held = this.held.hold({
      source: this.name,
      tag: 'scan',
      value: code,
      quality: 'good',
      sourceTime: at,
      receivedAt: at > receivedAt ? at : receivedAt,
      meta: { port: this.common.path, ...(symbology ? { symbology } : {}) },
    });
    if (held) this.counts.scans++;
  }

  /** Input that is not a scan, kept with its raw form and the reason. */
  protected emitUnreadable(raw: string, encoding: 'utf8' | 'base64', reason: string): void {
    const input = { source: this.name, origin: this.common.path, reason, raw, encoding, receivedAt: new Date(this.clock.next()).toISOString() };
    if (!this.held.holdInvalid(input)) return;
    this.counts.unreadable++;
    this.log.warn({ reason }, 'unreadable scan kept as invalid input');
  }

  private scanTime(deviceTimeMs: number | undefined): number {
    const now = Date.now();
    const trusted = deviceTimeMs !== undefined && Math.abs(deviceTimeMs - now) < MAX_CLOCK_SKEW_MS;
    return this.clock.next(trusted ? deviceTimeMs : now);
  }

  private setError(message: string, code?: string): void {
    this.lastError = { message, at: new Date().toISOString(), ...(code ? { code } : {}) };
  }

  private async tryOpen(): Promise<void> {
    if (!this.running || this.device || this.opening) return;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    this.opening = true;
    try {
      const identity = await deviceIdentity(this.common.path);
      if (!this.running) return;
      if (!identity) {
        if (!this.waitingForDevice) this.log.warn('scanner not present; waiting for it to be plugged in');
        this.waitingForDevice = true;
        this.setError(`${this.common.path} does not exist (scanner unplugged?)`, 'SCANNER_ABSENT');
        return; // the device watch opens it as soon as it appears
      }
      this.waitingForDevice = false;
      this.openedDevice = identity;
      const device = await this.openDevice(identity);
      if (!this.running) {
        await device.close();
        return;
      }
      this.device = device;
      this.counts.opens++;
      this.backoff.reset();
      if (this.inputPaused) device.pause();
      this.log.info({ target: identity.target, opens: this.counts.opens }, 'scanner open');
    } catch (err) {
      this.openedDevice = null;
      this.counts.openFailures++;
      const code = errorCode(err) ?? 'SCANNER_OPEN_FAILED';
      this.setError(`cannot open ${this.common.path}: ${errorMessage(err)}`, code);
      if (this.backoff.attempts % 10 === 0) this.log.warn({ err: errorMessage(err), code }, 'cannot open the scanner; trying again');
      this.scheduleReopen();
    } finally {
      this.opening = false;
    }
  }

  private scheduleReopen(): void {
    if (!this.running || this.reopenTimer) return;
    const delay = this.backoff.delay();
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      void this.tryOpen();
    }, delay);
  }

  private onDeviceLook(identity: DeviceIdentity | null): void {
    if (!this.running) return;
    if (this.device) {
      if (!identity) this.deviceLost(this.device, 'device path disappeared (scanner unplugged)');
      else if (!sameDevice(identity, this.openedDevice)) this.deviceLost(this.device, 'device path now leads to another device (scanner plugged back in)');
    } else if (this.opening && this.openedDevice && !sameDevice(identity, this.openedDevice)) {
      // Still opening a device that is gone (a helper blocked in open): let the adapter give up on it.
      this.abandonOpening('device path changed while opening');
    } else if (identity && this.waitingForDevice && !this.opening) {
      this.backoff.reset();
      void this.tryOpen();
    }
  }

  /** Asked when the device changed while `openDevice` is still waiting; adapters whose open can block cancel it. */
  protected abandonOpening(_reason: string): void {}

  private pauseInput(): void {
    this.inputPaused = true;
    this.device?.pause();
  }

  private resumeInput(): void {
    this.inputPaused = false;
    this.device?.resume();
  }
}
