import { errorCode, errorMessage } from '../../errors';
import { backoffDelay } from '../../retry';
import type { Logger } from '../../log';
import type { InvalidInput, Signal } from '../../model/signal';
import type { AdapterContext } from '../types';

/**
 * Hands scans to the agent in the order they were read, and keeps them while
 * the agent cannot take them. A scan that was read from the scanner is never
 * dropped: when `ctx.emit` refuses (outbox full, code `OUTBOX_FULL`) or fails,
 * the scan stays at the head of the queue and is offered again after a pause
 * that grows up to `retryMaxMs`. When the queue reaches `limit`, `onFull` asks
 * the adapter to stop reading the device (the scanner's own buffer and the
 * operating system hold the rest); `onSpace` resumes it.
 */

export type QueuedItem = { kind: 'scan'; signal: Signal } | { kind: 'invalid'; input: InvalidInput };

export interface DeliveryQueueOptions {
  /** Scans held before the adapter is asked to stop reading. */
  limit: number;
  /** First retry after a refused delivery. */
  retryInitialMs?: number;
  /** Retries never wait longer than this. */
  retryMaxMs?: number;
  /** Scans handed to `emit` in one call at most. */
  batchSize?: number;
  onFull?: () => void;
  onSpace?: () => void;
}

export interface DeliveryStats {
  queued: number;
  /** True while the agent refuses scans (outbox full) and the queue waits to retry. */
  paused: boolean;
  delivered: number;
  rejected: number;
  refusals: number;
  lastError: { message: string; code?: string; at: string } | null;
}

export class ScanDeliveryQueue {
  private readonly items: QueuedItem[] = [];
  private sending = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private full = false;
  private waiters: Array<() => void> = [];
  private readonly stats: DeliveryStats = { queued: 0, paused: false, delivered: 0, rejected: 0, refusals: 0, lastError: null };
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly ctx: Pick<AdapterContext, 'emit' | 'reject'>,
    private readonly log: Logger,
    private readonly options: DeliveryQueueOptions,
  ) {
    this.retryInitialMs = options.retryInitialMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
    this.batchSize = options.batchSize ?? 100;
  }

  get length(): number {
    return this.items.length;
  }

  /** True while the queue is at or above its limit (the adapter should not read). */
  get isFull(): boolean {
    return this.full;
  }

  snapshot(): DeliveryStats {
    return { ...this.stats, queued: this.items.length };
  }

  push(item: QueuedItem): void {
    if (this.closed) return;
    this.items.push(item);
    if (!this.full && this.items.length >= this.options.limit) {
      this.full = true;
      this.log.warn({ queued: this.items.length }, 'scan queue is full: reading from the scanner is paused until the agent takes scans again');
      this.options.onFull?.();
    }
    this.pump();
  }

  /** Wait until the queue is empty or `timeoutMs` passed; resolves with the number of items still queued. */
  async drain(timeoutMs: number): Promise<number> {
    if (this.items.length === 0) return 0;
    // A retry waiting on its timer would not run within the timeout: try now.
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.pump();
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.push(done);
    });
    return this.items.length;
  }

  /** Stop retrying. Returns what was still queued (the caller logs it). */
  close(): QueuedItem[] {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const left = this.items.splice(0);
    for (const w of this.waiters.splice(0)) w();
    return left;
  }

  private pump(): void {
    if (this.sending || this.retryTimer || this.closed) return;
    const head = this.items[0];
    if (!head) {
      for (const w of this.waiters.splice(0)) w();
      return;
    }
    this.sending = true;
    let count = 1;
    let attempt: Promise<void>;
    if (head.kind === 'scan') {
      const batch: Signal[] = [];
      for (const item of this.items) {
        if (item.kind !== 'scan' || batch.length >= this.batchSize) break;
        batch.push(item.signal);
      }
      count = batch.length;
      attempt = this.ctx.emit(batch);
    } else {
      attempt = this.ctx.reject(head.input);
    }
    attempt.then(
      () => this.delivered(count, head.kind),
      (err: unknown) => this.refused(err),
    );
  }

  private delivered(count: number, kind: QueuedItem['kind']): void {
    this.sending = false;
    if (this.closed) return;
    this.items.splice(0, count);
    if (kind === 'scan') this.stats.delivered += count;
    else this.stats.rejected += 1;
    if (this.stats.paused) this.log.info({ queued: this.items.length }, 'agent takes scans again');
    this.stats.paused = false;
    this.failures = 0;
    if (this.full && this.items.length < this.options.limit) {
      this.full = false;
      this.options.onSpace?.();
    }
    this.pump();
  }

  private refused(err: unknown): void {
    this.sending = false;
    if (this.closed) return;
    const code = errorCode(err);
    this.stats.refusals += 1;
    this.stats.lastError = { message: errorMessage(err), at: new Date().toISOString(), ...(code ? { code } : {}) };
    if (code === 'OUTBOX_FULL') {
      if (!this.stats.paused) this.log.warn({ queued: this.items.length }, 'outbox is full: scans are held in memory and offered again');
      this.stats.paused = true;
    } else {
      // Not expected from the agent; the scans are kept and offered again all the same.
      this.log.error({ err, queued: this.items.length }, 'the agent could not take scans; they are kept and offered again');
    }
    this.failures++;
    const delay = Math.max(50, backoffDelay(this.failures, { initialMs: this.retryInitialMs, maxMs: this.retryMaxMs }));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, delay);
  }
}
