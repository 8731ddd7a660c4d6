import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, sleep } from '../../agent/retry';

/** A seeded stand-in for Math.random (32-bit linear congruential), so a failing draw repeats. */
function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const policy = { initialMs: 100, maxMs: 5000 };
/** Just below 1: the longest wait an attempt can draw. */
const highest = () => 1 - 2 ** -40;

describe('backoff (agent/retry.ts)', () => {
  it('never waits longer than the cap, nor less than nothing, at any attempt', () => {
    const random = seeded(7);
    for (let attempt = -3; attempt <= 200; attempt++) {
      for (const r of [() => 0, highest, random]) {
        const d = backoffDelay(attempt, policy, { random: r });
        assert.ok(Number.isInteger(d) && d >= 0 && d < policy.maxMs, `attempt ${attempt}: ${d} ms`);
      }
    }
    assert.equal(backoffDelay(1e9, policy, { random: highest }), policy.maxMs - 1, 'a huge attempt count still ends at the cap');
  });

  it('lets the longest wait double with each attempt up to the cap, then stay there', () => {
    const longest = Array.from({ length: 9 }, (_, i) => backoffDelay(i + 1, policy, { random: highest }) + 1);
    assert.deepEqual(longest, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    // An attempt below 1 counts as the first.
    assert.equal(backoffDelay(0, policy, { random: highest }), 99);
    assert.equal(backoffDelay(-3, policy, { random: highest }), 99);
  });

  it('draws uniformly over [0, ceiling): full jitter, not a fixed or half-fixed wait', () => {
    const random = seeded(42);
    const ceiling = 800; // attempt 4
    const draws = Array.from({ length: 20_000 }, () => backoffDelay(4, policy, { random }));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    assert.ok(Math.min(...draws) < ceiling * 0.01, `shortest ${Math.min(...draws)} ms is near 0`);
    assert.ok(Math.max(...draws) >= ceiling * 0.99 && Math.max(...draws) < ceiling, `longest ${Math.max(...draws)} ms is near ${ceiling}`);
    assert.ok(Math.abs(mean - ceiling / 2) < ceiling * 0.02, `mean ${mean.toFixed(1)} ms is about ${ceiling / 2}`);
    // Ten equal bins each hold about a tenth of the draws.
    const bins = Array.from({ length: 10 }, () => 0);
    for (const d of draws) bins[Math.floor((d / ceiling) * 10)]!++;
    for (const [i, n] of bins.entries()) assert.ok(Math.abs(n / draws.length - 0.1) < 0.015, `bin ${i}: ${n} of ${draws.length}`);
  });

  it("takes a server's Retry-After as a floor, up to four times the cap", () => {
    assert.equal(backoffDelay(1, policy, { retryAfterMs: 3000, random: () => 0 }), 3000, 'longer than the jitter: Retry-After');
    assert.equal(backoffDelay(9, policy, { retryAfterMs: 1000, random: () => 0.9 }), 4500, 'shorter than the jitter: the jitter');
    assert.equal(backoffDelay(1, policy, { retryAfterMs: 600_000, random: () => 0 }), 20_000, 'ten minutes asked, four times the cap given');
    assert.equal(backoffDelay(1, policy, { retryAfterMs: 0, random: () => 0.5 }), 50);
    assert.equal(backoffDelay(1, policy, { random: () => 0.5 }), 50);
  });

  it('sleeps, and a stop signal cuts the sleep short', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const slept = sleep(60_000, stop.signal);
    setTimeout(() => stop.abort(), 10);
    await slept;
    assert.ok(Date.now() - started < 5000);
    const aborted = AbortSignal.abort();
    await sleep(60_000, aborted);
  });
});
