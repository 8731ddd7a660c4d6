/** Token bucket: at most `perSecond` requests per second on average, bursts up to `burst`. */
export class RateLimiter {
  private tokens: number;
  private last: number;
  constructor(
    private readonly perSecond: number,
    private readonly burst = Math.max(1, Math.ceil(perSecond)),
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = this.burst;
    this.last = now();
  }

  /** Take a token now if there is one; otherwise how many ms until there is. */
  tryTake(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }
}

/**
 * Wait until every limiter gives a token: a reader that shares the sync
 * worker's limiter (and has its own, lower one) never makes Odoo see more
 * requests than the worker's limit allows. Each wait is a timer, never a spin.
 */
export async function takeAll(limiters: readonly RateLimiter[], signal?: AbortSignal): Promise<void> {
  for (const l of limiters) {
    for (;;) {
      signal?.throwIfAborted();
      const wait = l.tryTake();
      if (wait === 0) break;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
