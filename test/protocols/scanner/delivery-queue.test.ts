import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { OutboxFullError } from '../../../agent/errors';
import type { InvalidInput, Signal } from '../../../agent/model/signal';
import { ScanDeliveryQueue } from '../../../agent/protocols/scanner/delivery-queue';

const log = pino({ level: 'silent' });

function sig(code: string): Signal {
  const t = new Date().toISOString();
  return { source: 's', tag: 'scan', value: code, quality: 'good', sourceTime: t, receivedAt: t };
}

/** An agent whose outbox refuses while `full` is true. */
function agent() {
  const taken: string[] = [];
  const state = { full: true, calls: 0 };
  return {
    taken,
    state,
    ctx: {
      async emit(signals: Signal[]) {
        state.calls++;
        if (state.full) throw new OutboxFullError(10);
        for (const s of signals) taken.push(String(s.value));
      },
      async reject(input: InvalidInput) {
        state.calls++;
        if (state.full) throw new OutboxFullError(10);
        taken.push(`invalid:${input.reason}`);
      },
    },
  };
}

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('outbox full: scans are held in order, reading pauses at the limit, all are delivered when there is room', async () => {
  const a = agent();
  const events: string[] = [];
  const q = new ScanDeliveryQueue(a.ctx, log, {
    limit: 3,
    retryInitialMs: 20,
    retryMaxMs: 40,
    onFull: () => events.push('full'),
    onSpace: () => events.push('space'),
  });
  q.push({ kind: 'scan', signal: sig('A') });
  q.push({ kind: 'invalid', input: { source: 's', origin: 'p', reason: 'garbage', raw: 'AA==', encoding: 'base64', receivedAt: new Date().toISOString() } });
  q.push({ kind: 'scan', signal: sig('B') });
  q.push({ kind: 'scan', signal: sig('C') });
  await until(() => a.state.calls >= 2);
  assert.equal(q.snapshot().paused, true);
  assert.equal(q.snapshot().queued, 4);
  assert.equal(q.isFull, true);
  assert.deepEqual(events, ['full']);
  assert.deepEqual(a.taken, []);

  a.state.full = false;
  await until(() => q.length === 0);
  assert.deepEqual(a.taken, ['A', 'invalid:garbage', 'B', 'C']);
  assert.deepEqual(events, ['full', 'space']);
  const s = q.snapshot();
  assert.equal(s.paused, false);
  assert.equal(s.delivered, 3);
  assert.equal(s.rejected, 1);
  assert.equal(s.lastError?.code, 'OUTBOX_FULL');
  q.close();
});

test('other errors are retried too, nothing is dropped', async () => {
  let fail = 2;
  const taken: string[] = [];
  const q = new ScanDeliveryQueue(
    {
      async emit(signals) {
        if (fail-- > 0) throw new Error('disk I/O error');
        taken.push(...signals.map((s) => String(s.value)));
      },
      async reject() {},
    },
    log,
    { limit: 100, retryInitialMs: 10, retryMaxMs: 20 },
  );
  q.push({ kind: 'scan', signal: sig('X') });
  q.push({ kind: 'scan', signal: sig('Y') });
  await until(() => q.length === 0);
  assert.deepEqual(taken, ['X', 'Y']);
  assert.equal(q.snapshot().refusals, 2);
  q.close();
});

test('drain gives up after its timeout and close hands back what is left', async () => {
  const a = agent();
  const q = new ScanDeliveryQueue(a.ctx, log, { limit: 10, retryInitialMs: 10_000, retryMaxMs: 10_000 });
  q.push({ kind: 'scan', signal: sig('K') });
  const left = await q.drain(100);
  assert.equal(left, 1);
  const items = q.close();
  assert.equal(items.length, 1);
  assert.equal(items[0]?.kind === 'scan' ? items[0].signal.value : undefined, 'K');
});

test('batches consecutive scans into one emit', async () => {
  const batches: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const q = new ScanDeliveryQueue(
    {
      async emit(signals) {
        batches.push(signals.length);
        await gate;
      },
      async reject() {},
    },
    log,
    { limit: 100, batchSize: 3 },
  );
  for (const c of ['1', '2', '3', '4', '5']) q.push({ kind: 'scan', signal: sig(c) });
  release();
  await until(() => q.length === 0);
  assert.deepEqual(batches, [1, 3, 1]);
  q.close();
});
