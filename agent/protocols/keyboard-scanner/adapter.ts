import { spawn, type ChildProcess } from 'node:child_process';
import { AgentError, errorMessage } from '../../errors';
import type { DeviceIdentity } from '../scanner/device-watch';
import { ScannerAdapterBase, type OpenDevice } from '../scanner/adapter-base';
import type { AdapterContext } from '../types';
import type { KeyboardScannerConfig } from './config';
import { grabHelperArgs } from './grab-helper';
import { InputEventReader, KeyboardScanDecoder, type KeyboardScan } from './input-events';

const KILL_TIMEOUT_MS = 2000;

/**
 * A USB barcode scanner in keyboard (HID) mode, read from its Linux input
 * device. A small python3 helper opens the device, grabs it (so the key
 * presses reach no console or other program) and passes the raw input events
 * to the agent, which turns them into scans. One signal per scan: tag `scan`,
 * value the code, meta `{ port, symbology? }`; the scan time is the kernel's
 * time of the Enter key.
 */
export class KeyboardScannerAdapter extends ScannerAdapterBase {
  readonly type = 'keyboard-scanner';
  private reader: InputEventReader;
  private decoder: KeyboardScanDecoder;
  private pendingChild: ChildProcess | undefined;

  constructor(
    private readonly config: KeyboardScannerConfig,
    ctx: AdapterContext,
  ) {
    super(config, ctx);
    this.reader = new InputEventReader(config.eventSize);
    this.decoder = this.newDecoder();
  }

  protected openDevice(_identity: DeviceIdentity): Promise<OpenDevice> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.config.python, grabHelperArgs(this.config.path, this.config.grab), { stdio: ['pipe', 'pipe', 'pipe'] });
      this.pendingChild = child;
      let state: 'opening' | 'open' | 'ended' = 'opening';
      let stderrTail = '';
      let lineBuf = '';
      const device: OpenDevice = {
        pause: () => child.stdout?.pause(),
        resume: () => child.stdout?.resume(),
        close: () => endChild(child),
      };
      const fail = (err: Error) => {
        if (this.pendingChild === child) this.pendingChild = undefined;
        const was = state;
        state = 'ended';
        if (was === 'open') this.deviceLost(device, errorMessage(err));
        else if (was === 'opening') {
          void endChild(child);
          reject(err);
        }
      };
      child.on('error', (err: NodeJS.ErrnoException) => {
        const message =
          err.code === 'ENOENT'
            ? `cannot run ${this.config.python}: the keyboard scanner needs Python 3 to read and grab the input device`
            : `reader process failed: ${err.message}`;
        fail(new AgentError(err.code === 'ENOENT' ? 'PYTHON_MISSING' : 'SCANNER_READER_FAILED', message, { cause: err, retryable: true }));
      });
      child.stdin?.on('error', () => undefined); // the helper may be gone already
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        lineBuf += text;
        let nl: number;
        while ((nl = lineBuf.indexOf('\n')) >= 0) {
          const line = lineBuf.slice(0, nl).trim();
          lineBuf = lineBuf.slice(nl + 1);
          if (line === 'ready' && state === 'opening') {
            state = 'open';
            if (this.pendingChild === child) this.pendingChild = undefined;
            this.reader = new InputEventReader(this.config.eventSize);
            this.decoder = this.newDecoder();
            resolve(device);
          } else if (line) {
            stderrTail = (stderrTail + '\n' + line).slice(-500).trim();
          }
        }
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        if (state !== 'open') return;
        this.noteData();
        for (const ev of this.reader.push(chunk)) {
          const scan = this.decoder.push(ev);
          if (scan) this.deliver(scan);
        }
      });
      // 'close', not 'exit': by then everything the helper wrote on stderr has been read.
      child.on('close', (code, signal) => {
        const what = stderrTail.split('\n').pop() || (signal ? `stopped by ${signal}` : `exit code ${code}`);
        const reason = describeHelperEnd(what);
        fail(new AgentError(code === 2 ? 'SCANNER_OPEN_FAILED' : code === 3 ? 'SCANNER_GRAB_FAILED' : 'SCANNER_DISCONNECTED', reason, { retryable: true }));
      });
    });
  }

  protected override abandonOpening(reason: string): void {
    const child = this.pendingChild;
    if (!child) return;
    this.log.debug({ reason }, 'giving up opening the scanner');
    void endChild(child);
  }

  protected endPartialScan(reason: string): void {
    const scan = this.decoder.flush(reason, Date.now());
    if (scan) this.deliver(scan);
    this.reader = new InputEventReader(this.config.eventSize);
    this.decoder = this.newDecoder();
  }

  protected override extraDetails(): Record<string, unknown> {
    return { grab: this.config.grab };
  }

  private newDecoder(): KeyboardScanDecoder {
    return new KeyboardScanDecoder({
      terminator: this.config.terminator,
      maxLength: this.config.maxLength,
      stripPrefix: this.config.stripPrefix,
      stripSuffix: this.config.stripSuffix,
    });
  }

  private deliver(scan: KeyboardScan): void {
    if (scan.kind === 'scan') this.emitScan(scan.code, scan.timeMs);
    else this.emitUnreadable(scan.raw, 'utf8', scan.reason);
  }
}

function describeHelperEnd(what: string): string {
  if (what.startsWith('error open ')) return `cannot open the input device: ${what.slice(11)} (is the agent's user in the "input" group?)`;
  if (what.startsWith('error grab ')) return `cannot grab the input device: ${what.slice(11)} (another program holds it?)`;
  if (what.startsWith('error read ')) return `input device read failed: ${what.slice(11)} (scanner unplugged?)`;
  return `reader process ended: ${what}`;
}

/** End the helper: close its input, then SIGTERM, then SIGKILL. Resolves when it has exited. */
function endChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, KILL_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
