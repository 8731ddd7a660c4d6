import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WriteHealth } from '../buffer/intake';
import type { Logger } from '../log';

/** Whether events can be stored, and how close the gateway is to not being able to. */
export interface StorageStatus {
  /** ok; low: free disk or the outbox's room below the warning levels; failing: commits fail (a full disk, an I/O error). */
  state: 'ok' | 'low' | 'failing';
  /** Free space on the outbox's file system (bytes), or null where it cannot be read. */
  freeBytes: number | null;
  /** Unfinished and held events as a share of the outbox's bound (0..1). */
  fill: number;
  /** What makes it low or failing, in words. */
  reasons: string[];
  write: WriteHealth;
}

export interface StorageWatchOptions {
  outboxPath: string;
  maxEvents: number;
  /** Warn below this much free disk (MB). */
  lowDiskMb: number;
  /** Warn when the outbox holds this share of maxEvents. */
  highWater: number;
  /** Stored events now (unfinished and held). */
  stored: () => number;
  write: () => WriteHealth;
  log: Logger;
  /** How often the watch looks, to log a warning before anyone asks (ms). */
  everyMs?: number;
}

/**
 * Watches what stands between a plant signal and the disk: commits that fail,
 * free space on the outbox's file system, and the outbox's bound. Asked on
 * every page view and scrape; also looks by itself every few seconds so a
 * warning reaches the log (once per episode) before the disk is full.
 */
export class StorageWatch {
  private readonly timer: NodeJS.Timeout;
  private lastState: StorageStatus['state'] = 'ok';

  constructor(private readonly opts: StorageWatchOptions) {
    this.timer = setInterval(() => this.look(), opts.everyMs ?? 5000);
    this.timer.unref();
  }

  status(): StorageStatus {
    const write = this.opts.write();
    const freeBytes = freeSpace(this.opts.outboxPath);
    const fill = this.opts.maxEvents > 0 ? this.opts.stored() / this.opts.maxEvents : 0;
    const reasons: string[] = [];
    if (write.failingSince !== null && write.lastError) reasons.push(`commits fail: ${write.lastError.message}`);
    if (freeBytes !== null && freeBytes < this.opts.lowDiskMb * 1024 * 1024)
      reasons.push(`${Math.floor(freeBytes / (1024 * 1024))} MB free on the outbox's disk`);
    if (fill >= this.opts.highWater) reasons.push(`the outbox holds ${Math.round(fill * 100)}% of its ${this.opts.maxEvents} events`);
    const state = write.failingSince !== null ? 'failing' : reasons.length ? 'low' : 'ok';
    return { state, freeBytes, fill, reasons, write };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Log a change of state once (failing is logged by the outbox itself when the commit fails). */
  private look(): void {
    let s: StorageStatus;
    try {
      s = this.status();
    } catch (err) {
      this.opts.log.debug({ err }, 'storage look failed');
      return;
    }
    if (s.state === this.lastState) return;
    if (s.state === 'low') this.opts.log.warn({ freeBytes: s.freeBytes, fill: s.fill }, `storage is running low: ${s.reasons.join('; ')}`);
    else if (s.state === 'ok') this.opts.log.info({ freeBytes: s.freeBytes, fill: s.fill }, 'storage is fine again');
    this.lastState = s.state;
  }
}

function freeSpace(outboxPath: string): number | null {
  if (outboxPath === ':memory:') return null;
  try {
    const s = statfsSync(dirname(outboxPath));
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}
