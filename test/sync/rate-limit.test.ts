import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { OdooClient } from '../../agent/odoo/types';
import type { Operation } from '../../agent/sync/operations/types';
import { RateLimiter } from '../../agent/sync/rate-limit';
import { SyncWorker } from '../../agent/sync/worker';
import { makeProduction } from '../helpers/events';
import { testSyncConfig } from '../helpers/sync';
import { until } from '../helpers/until';

const dir = mkdtempSync(join(tmpdir(), 'rate-limit-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A clock the test moves by hand. */
function manualClock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('rate limit (agent/sync/rate-limit.ts)', () => {
  it('lets a burst of its allowance go at once, then makes the next one wait', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(10, 4, clock.now);
    assert.deepEqual(
      Array.from({ length: 5 }, () => limiter.tryTake()),
      [0, 0, 0, 0, 100],
    );
  });

  it('returns the wait until the next request may go', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(10, 1, clock.now);
    assert.equal(limiter.tryTake(), 0);
    assert.equal(limiter.tryTake(), 100);
    clock.t += 40;
    assert.equal(limiter.tryTake(), 60, 'part of the wait has passed');
    clock.t += 60;
    assert.equal(limiter.tryTake(), 0, 'the wait said was enough');
    const third = new RateLimiter(3, 1, clock.now);
    third.tryTake();
    assert.equal(third.tryTake(), 334, 'a fraction of a millisecond rounds up, never down');
  });

  it('saves no more than its allowance while idle', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(100, 4, clock.now);
    clock.t += 3_600_000;
    const free = Array.from({ length: 6 }, () => limiter.tryTake()).filter((w) => w === 0).length;
    assert.equal(free, 4);
    const byDefault = new RateLimiter(2.5, undefined, clock.now);
    assert.deepEqual(
      Array.from({ length: 4 }, () => byDefault.tryTake() === 0),
      [true, true, true, false],
      'the default allowance is a second of requests, rounded up',
    );
  });

  it('holds the rate over any window for a sender that goes as soon as it may', () => {
    const clock = manualClock(1_000_000);
    const perSecond = 50;
    const burst = 5;
    const limiter = new RateLimiter(perSecond, burst, clock.now);
    const sent: number[] = [];
    const end = clock.t + 10_000;
    while (clock.t < end) {
      const wait = limiter.tryTake();
      if (wait === 0) sent.push(clock.t);
      else clock.t += wait;
    }
    // In any second: at most a second's worth plus the allowance.
    for (let i = 0; i < sent.length; i++) {
      let j = i;
      while (j < sent.length && sent[j]! <= sent[i]! + 1000) j++;
      assert.ok(j - i <= perSecond + burst, `${j - i} requests in the second from ${sent[i]}`);
    }
    // And the sender is not held back below the rate.
    assert.ok(sent.length >= 10 * perSecond && sent.length <= 10 * perSecond + burst, `${sent.length} requests in 10 s`);
  });

  it('in the worker: a burst of `concurrency` requests, then `maxRequestsPerSecond`', async () => {
    const clock = manualClock(Date.now());
    const outbox = new SqliteOutbox({ path: join(dir, 'worker.db') });
    let calls = 0;
    const op: Operation = {
      type: 'production.reported',
      models: () => [],
      async execute() {
        calls++;
        return { odooIds: {} };
      },
    };
    const info = { major: 19, serverVersion: '19.0', protocol: 'json2' as const };
    const client: OdooClient = { info, connect: async () => info, probe: async () => {}, call: async () => undefined as never, close: async () => {} };
    const worker = new SyncWorker({
      outbox,
      client,
      operations: new Map([[op.type, op]]),
      config: testSyncConfig({ concurrency: 3, maxRequestsPerSecond: 2, batchSize: 1 }),
      xmlidModule: 'edge_t',
      log: pino({ level: 'silent' }),
      now: clock.now,
    });
    try {
      await outbox.enqueue(Array.from({ length: 10 }, (_, i) => makeProduction(`MO-${i}`, 1)));
      worker.start();
      await until(() => calls === 3);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(calls, 3, 'the clock stands still: no more than the allowance');
      clock.t += 1000;
      worker.wake();
      await until(() => calls === 5);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(calls, 5, 'one second later: two more');
    } finally {
      await worker.stop();
      await outbox.close();
    }
  });
});
