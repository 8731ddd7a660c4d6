import type { Signal } from '../../model/signal';

/**
 * Data changes waiting to be handed to the rules. Every change is kept, in
 * order, while there is room. When the outbox pushes back (or the rules are
 * slower than the plant) and the buffer reaches its limit, older changes of a
 * tag are folded into its latest one: the latest state of every tag is never
 * lost, only intermediate values are, and they are counted.
 *
 * Memory stays bounded by max(limit, number of tags) signals.
 */
export class SignalBuffer {
  private queue: Signal[] = [];
  private head = 0;
  /** Intermediate changes dropped by folding, since creation. */
  coalesced = 0;

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError('limit must be at least 1');
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  push(signal: Signal): void {
    this.queue.push(signal);
    if (this.size > this.limit) this.fold();
  }

  /** Take up to `max` of the oldest signals. */
  take(max: number): Signal[] {
    const end = Math.min(this.queue.length, this.head + max);
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Put a batch that could not be delivered back in front, before anything that arrived since. */
  giveBack(batch: Signal[]): void {
    if (batch.length === 0) return;
    this.queue = batch.concat(this.queue.slice(this.head));
    this.head = 0;
    if (this.size > this.limit) this.fold();
  }

  /**
   * Keep only the latest signal of each tag, in the order of those latest
   * signals. Called when the buffer overflows.
   */
  fold(): void {
    const pending = this.queue.slice(this.head);
    const last = new Map<string, number>();
    pending.forEach((s, i) => last.set(s.tag, i));
    const kept = pending.filter((s, i) => last.get(s.tag) === i);
    this.coalesced += pending.length - kept.length;
    this.queue = kept;
    this.head = 0;
  }

  clear(): void {
    this.queue = [];
    this.head = 0;
  }
}
