import { SerialPort } from 'serialport';
import { AgentError, errorMessage } from '../../errors';
import type { DeviceIdentity } from '../scanner/device-watch';
import { ScannerAdapterBase, type OpenDevice } from '../scanner/adapter-base';
import type { AdapterContext } from '../types';
import type { SerialScannerConfig } from './config';
import { FrameDecoder, type Frame } from './framing';

const OPEN_TIMEOUT_MS = 5000;
const CLOSE_TIMEOUT_MS = 2000;

/**
 * A barcode scanner on a serial line. One signal per scan: tag `scan`, value
 * the code as text, meta `{ port, symbology? }`. The port is reopened by
 * itself, with growing waits, when the scanner is unplugged and plugged back
 * in; unreadable frames are kept as invalid input with their raw bytes
 * (base64) and the reason.
 */
export class SerialScannerAdapter extends ScannerAdapterBase {
  readonly type = 'serial-scanner';
  private decoder: FrameDecoder;
  private frameTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: SerialScannerConfig,
    ctx: AdapterContext,
  ) {
    super(config, ctx);
    this.decoder = this.newDecoder();
  }

  protected async openDevice(_identity: DeviceIdentity): Promise<OpenDevice> {
    const port = new SerialPort({
      path: this.config.path,
      baudRate: this.config.baudRate,
      dataBits: this.config.dataBits,
      parity: this.config.parity,
      stopBits: this.config.stopBits,
      autoOpen: false,
    });
    try {
      await openPort(port, OPEN_TIMEOUT_MS);
    } catch (err) {
      void closePort(port);
      throw err;
    }
    this.decoder = this.newDecoder();
    const device: OpenDevice = {
      pause: () => port.pause(),
      resume: () => port.resume(),
      close: () => {
        this.clearFrameTimer();
        return closePort(port);
      },
    };
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('close', (err?: Error | null) => this.deviceLost(device, err ? `port closed: ${errorMessage(err)}` : 'port closed'));
    port.on('error', (err: Error) => this.deviceLost(device, `port error: ${errorMessage(err)}`));
    return device;
  }

  protected endPartialScan(reason: string): void {
    this.clearFrameTimer();
    this.deliver(this.decoder.flush(reason));
    this.decoder = this.newDecoder();
  }

  private newDecoder(): FrameDecoder {
    return new FrameDecoder({
      framing: this.config.framing,
      stripPrefix: this.config.stripPrefix,
      stripSuffix: this.config.stripSuffix,
      maxLength: this.config.maxLength,
    });
  }

  private onData(chunk: Buffer): void {
    this.noteData();
    this.deliver(this.decoder.push(chunk));
    this.clearFrameTimer();
    if (this.decoder.pendingBytes > 0 && this.config.frameTimeoutMs > 0) {
      this.frameTimer = setTimeout(() => {
        this.frameTimer = undefined;
        this.deliver(this.decoder.flush(`no end of scan within frameTimeoutMs ${this.config.frameTimeoutMs}`));
      }, this.config.frameTimeoutMs);
    }
  }

  private clearFrameTimer(): void {
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
  }

  private deliver(frames: Frame[]): void {
    for (const frame of frames) {
      if (frame.kind === 'scan') this.emitScan(frame.code);
      else this.emitUnreadable(frame.raw.toString('base64'), 'base64', frame.reason);
    }
  }
}

function openPort(port: SerialPort, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(new AgentError('SCANNER_OPEN_TIMEOUT', `opening the port took longer than ${timeoutMs} ms`, { retryable: true }));
    }, timeoutMs);
    port.open((err) => {
      clearTimeout(timer);
      if (timedOut) {
        if (!err) port.close(() => undefined);
        return;
      }
      if (err) reject(err);
      else resolve();
    });
  });
}

/** Close and forget a port; never throws, never waits more than CLOSE_TIMEOUT_MS. */
function closePort(port: SerialPort): Promise<void> {
  port.removeAllListeners('data');
  port.removeAllListeners('close');
  port.removeAllListeners('error');
  port.on('error', () => undefined); // late errors of a released port are of no interest
  if (!port.isOpen) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    port.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
