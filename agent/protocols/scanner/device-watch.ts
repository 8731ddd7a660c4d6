import { promises as fs } from 'node:fs';
import { type BackoffPolicy, backoffDelay } from '../../retry';

/**
 * Notices a scanner being unplugged and plugged back in, by looking at its
 * device path every `intervalMs`. The operating system does not always tell
 * an open port that its device is gone, so the adapters do not rely on a
 * `close` alone: a path that vanished, or that now leads to another device
 * node (the by-id link re-created for a new ttyUSB/event number, or a new
 * inode), means the open handle is stale.
 */

export interface DeviceIdentity {
  /** The path the link resolves to (`/dev/ttyUSB0`, `/dev/input/event5`). */
  target: string;
  dev: number;
  ino: number;
  rdev: number;
}

/** The identity of the device behind `path`, or null when the path does not exist. */
export async function deviceIdentity(path: string): Promise<DeviceIdentity | null> {
  try {
    const [target, st] = await Promise.all([fs.realpath(path), fs.stat(path)]);
    return { target, dev: st.dev, ino: st.ino, rdev: st.rdev };
  } catch {
    return null;
  }
}

export function sameDevice(a: DeviceIdentity | null, b: DeviceIdentity | null): boolean {
  if (!a || !b) return a === b;
  return a.target === b.target && a.dev === b.dev && a.ino === b.ino && a.rdev === b.rdev;
}

export class DeviceWatch {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private last: DeviceIdentity | null = null;

  constructor(
    private readonly path: string,
    private readonly intervalMs: number,
    /** Called after every look with the identity found (null: absent). */
    private readonly onLook: (identity: DeviceIdentity | null) => void,
  ) {}

  get identity(): DeviceIdentity | null {
    return this.last;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.look(), this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async look(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      this.last = await deviceIdentity(this.path);
      if (this.timer) this.onLook(this.last);
    } finally {
      this.checking = false;
    }
  }
}

/** Waits between reopen attempts: the agent's backoff rule (agent/retry.ts), capped exponential with full jitter. */
export class ReopenBackoff {
  attempts = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  delay(): number {
    this.attempts++;
    // Never retry in a tight loop: at least a tenth of the first wait.
    return Math.max(Math.ceil(this.policy.initialMs / 10), backoffDelay(this.attempts, this.policy, { random: this.random }));
  }

  reset(): void {
    this.attempts = 0;
  }
}
