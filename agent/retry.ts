/**
 * The one backoff rule of the agent: capped exponential with full jitter.
 * Attempt 1 waits up to initialMs, attempt n up to min(maxMs, initialMs * 2^(n-1)),
 * uniformly at random, so many gateways that lost Odoo together do not come
 * back in step. A server's Retry-After is a floor.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, policy: BackoffPolicy, opts: { retryAfterMs?: number; random?: () => number } = {}): number {
  const n = Math.max(1, Math.floor(attempt));
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(n - 1, 30));
  const jittered = Math.floor((opts.random ?? Math.random)() * ceiling);
  return Math.max(jittered, Math.min(opts.retryAfterMs ?? 0, policy.maxMs * 4));
}

/** Sleep that a stop signal can cut short. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
