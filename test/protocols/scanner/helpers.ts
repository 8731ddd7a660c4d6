import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { constants, closeSync, existsSync, openSync, writeSync } from 'node:fs';
import pino from 'pino';
import { OutboxFullError } from '../../../agent/errors';
import type { InvalidInput, Signal } from '../../../agent/model/signal';
import type { AdapterContext } from '../../../agent/protocols/types';
import { until } from '../../helpers/until';

export { until };

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function hasSocat(): boolean {
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

export function hasPython3(): boolean {
  const r = spawnSync('python3', ['-c', 'import fcntl, select'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/**
 * A pseudo-terminal pair made by socat: `scannerLink` is the scanner's end
 * (tests write codes into it), `agentLink` the end the adapter opens.
 * Killing it makes both ends disappear, like a USB scanner unplugged.
 */
export class PtyPair {
  private child: ChildProcess | undefined;
  constructor(
    readonly scannerLink: string,
    readonly agentLink: string,
  ) {}

  async start(): Promise<void> {
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.scannerLink}`, `pty,raw,echo=0,link=${this.agentLink}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.resume();
    this.child = child;
    await until(() => existsSync(this.scannerLink) && existsSync(this.agentLink), 'socat pty links');
  }

  /** Kill socat: both pseudo-terminals and their links disappear. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    await until(() => !existsSync(this.agentLink), 'pty links removed');
  }

  /** Write bytes as the scanner would send them. */
  write(data: string | Buffer): void {
    const fd = openSync(this.scannerLink, constants.O_WRONLY | constants.O_NOCTTY);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    } finally {
      closeSync(fd);
    }
  }
}

/** An agent side that records what the adapter hands over, and can refuse like a full outbox. */
export function recordingContext(stateDir: string) {
  const signals: Signal[] = [];
  const rejected: InvalidInput[] = [];
  const control = { full: false, refusals: 0 };
  const ctx: AdapterContext = {
    log: silentLog,
    stateDir,
    async emit(batch) {
      if (control.full) {
        control.refusals++;
        throw new OutboxFullError(1000);
      }
      signals.push(...batch);
    },
    async reject(input) {
      if (control.full) {
        control.refusals++;
        throw new OutboxFullError(1000);
      }
      rejected.push(input);
    },
  };
  return { ctx, signals, rejected, control, codes: () => signals.map((s) => s.value) };
}
