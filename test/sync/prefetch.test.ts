import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import type { Outbox, OutboxRecord, Settlement } from '../../agent/buffer/outbox';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { CanonicalEvent } from '../../agent/model/event';
import { createOdooClient } from '../../agent/odoo/client';
import { odooConfigSchema } from '../../agent/odoo/config';
import { createOperationRegistry } from '../../agent/sync/operations/index';
import { externalId } from '../../agent/sync/operations/odoo-calls';
import { OperationError, type Operation } from '../../agent/sync/operations/types';
import { followingOf, keptSuccessors, Prefetch } from '../../agent/sync/prefetch';
import { SyncWorker } from '../../agent/sync/worker';
import { downtimeStarted } from '../helpers/events';
import { claimedRecord as rec, testSyncConfig } from '../helpers/sync';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { until } from '../helpers/until';

/**
 * While a run of a key is out, the worker claims the key's next run; it sends
 * it only after the first one settled with every event done, and hands it
 * back untouched otherwise. An older event of another key goes first.
 */

const dir = mkdtempSync(join(tmpdir(), 'prefetch-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
let n = 0;

function stop(key: string, i: number, workcenter: string): CanonicalEvent {
  n++;
  return downtimeStarted('prefetch-test', key, `${key}-${i}-${n}`, workcenter, Date.UTC(2026, 10, 26, 6, 0, 0) + n * 1000);
}

async function setup(name: string, concurrency: number) {
  const sim = await startOdooSim({ version: 19 });
  sim.state.create('mrp.workcenter', { name: 'WC A', code: 'WCA' });
  sim.state.create('mrp.workcenter', { name: 'WC B', code: 'WCB' });
  const outbox = new SqliteOutbox({ path: join(dir, `${name}.db`) });
  // Count what was claimed behind runs in flight (the path under test must be taken).
  const following: OutboxRecord[] = [];
  const claimFollowing = outbox.claimFollowing.bind(outbox);
  outbox.claimFollowing = (...args) => {
    const r = claimFollowing(...args);
    following.push(...r);
    return r;
  };
  process.env.PREFETCH_TEST_KEY = sim.apiKey;
  const client = createOdooClient(odooConfigSchema.parse({ url: sim.url, database: sim.db, apiKey: '${env:PREFETCH_TEST_KEY}' }), log);
  const worker = new SyncWorker({
    outbox,
    client,
    operations: createOperationRegistry(),
    config: testSyncConfig({ concurrency, batchSize: 10 }),
    xmlidModule: 'edge_prefetch',
    log,
    idlePollMs: 20,
  });
  const idOf = (e: CanonicalEvent) =>
    sim.state.byXmlid(externalId('edge_prefetch', 'downtime', (e.payload as { downtimeId: string }).downtimeId))?.id as number | undefined;
  const close = async () => {
    await worker.stop();
    await client.close();
    await outbox.close();
    await sim.close();
  };
  return { sim, outbox, worker, following, idOf, close };
}

function loads(sim: OdooSim) {
  return sim.requests.filter((r) => r.model === 'mrp.workcenter.productivity' && r.method === 'load');
}

it("claims a key's next run while its run is out, and sends it only after that run is done", async () => {
  const t = await setup('next-run', 2);
  try {
    // Slow answers: the next run is surely claimed while a request is out.
    t.sim.faults.set({ kind: 'latency', ms: 40 });
    const a = Array.from({ length: 30 }, (_, i) => stop('A', i, 'WC A'));
    await t.outbox.enqueue(a);
    t.worker.start();
    await until(() => t.outbox.counts().done === 30);
    await t.worker.idle();

    assert.ok(t.following.length >= 10, `the next run was claimed while one was out (${t.following.length} events)`);
    const sent = loads(t.sim);
    assert.equal(sent.length, 3, 'three loads of ten');
    const ids = a.map(t.idOf);
    assert.ok(ids.every((x) => typeof x === 'number'));
    assert.deepEqual(
      [...ids].sort((x, y) => x! - y!),
      ids,
      'created in event order',
    );
    // Each load left only after every event of the load before it was recorded done.
    for (let k = 1; k < sent.length; k++) {
      const before = a.slice((k - 1) * 10, k * 10).map((e) => t.outbox.get(e.id)!.updatedAt);
      assert.ok(Math.max(...before) <= sent[k]!.at, `load ${k + 1} at ${sent[k]!.at}, run ${k} done at ${Math.max(...before)}`);
    }
  } finally {
    await t.close();
  }
});

it('hands a claimed next run back untouched when the run ahead of it did not go through', async () => {
  const t = await setup('failed-run', 2);
  try {
    t.sim.faults.set({ kind: 'latency', ms: 40 });
    // The fifth stop of A names a work center Odoo does not know.
    const a = Array.from({ length: 30 }, (_, i) => stop('A', i, i === 4 ? 'WC Nowhere' : 'WC A'));
    await t.outbox.enqueue(a);
    t.worker.start();
    await until(() => t.outbox.counts().parked === 1 && t.outbox.counts().done === 4 && t.outbox.counts().inflight === 0);
    await t.worker.idle();

    assert.ok(t.following.length >= 10, `the next run was claimed while the first was out (${t.following.length} events)`);
    assert.equal(t.outbox.get(a[4]!.id)!.state, 'parked');
    assert.deepEqual(
      a.slice(5).map((e) => [t.outbox.get(e.id)!.state, t.outbox.get(e.id)!.attempts]),
      a.slice(5).map(() => ['pending', 0]),
      'everything behind the bad row is pending, no attempt counted',
    );
    assert.deepEqual(
      a.slice(4).map(t.idOf),
      a.slice(4).map(() => undefined),
      'nothing behind the bad row reached Odoo',
    );
    assert.equal(loads(t.sim).length, 1, 'only the load before the bad row');

    t.outbox.edit(a[4]!.id, 'workcenter', 'WC A', 'supervisor');
    t.worker.wake();
    await until(() => t.outbox.counts().done === 30);
    const ids = a.map(t.idOf);
    assert.deepEqual(
      [...ids].sort((x, y) => x! - y!),
      ids,
      'after the correction, the rest follows in order',
    );
  } finally {
    await t.close();
  }
});

it("an older event of another key that became due goes before a key's claimed next run", async () => {
  const t = await setup('fairness', 1);
  try {
    // B's only stop is older than all of A, but waits for a retry when A starts.
    const b = stop('B', 0, 'WC B');
    await t.outbox.enqueue([b]);
    const [claimed] = t.outbox.claim(1);
    t.outbox.settle([{ seq: claimed!.seq, outcome: 'retry', nextAttemptAt: Date.now() + 60_000, error: 'HTTP 503' }]);
    const a = Array.from({ length: 20 }, (_, i) => stop('A', i, 'WC A'));
    await t.outbox.enqueue(a);
    t.sim.faults.set({ kind: 'latency', ms: 300 });
    t.worker.start();
    // A's first run is out (its next run is claimed only then) when a person retries B.
    await until(() => t.following.length > 0);
    assert.equal(t.outbox.get(a[0]!.id)!.state, 'inflight');
    assert.equal(t.outbox.retry({ ids: [b.id] }, 'supervisor'), 1);
    await until(() => t.outbox.counts().done === 21);
    await t.worker.idle();

    assert.ok(t.following.length >= 10, `A's next run was claimed while its first was out (${t.following.length} events)`);
    assert.ok(t.idOf(b)! < t.idOf(a[10]!)!, `B (due while A's first run was out) was created before A's second run (${t.idOf(b)} vs ${t.idOf(a[10]!)})`);
    const ids = a.map(t.idOf);
    assert.deepEqual(
      [...ids].sort((x, y) => x! - y!),
      ids,
      'A in order',
    );
  } finally {
    await t.close();
  }
});

describe('what goes behind a run in flight', () => {
  const seqs = (records: OutboxRecord[]) => records.map((r) => r.seq);
  const done = { odooIds: {} };
  const failed = new OperationError('UNKNOWN_REFERENCE', 'unknown work center "WC Nowhere" in Odoo');

  it("claims behind each key's last event, the batch size shared among the keys", () => {
    assert.deepEqual(followingOf([rec(1, 'A'), rec(2, 'A'), rec(3, 'A')], 10), { tails: [{ sequenceKey: 'A', afterSeq: 3 }], perKey: 10 });
    assert.deepEqual(followingOf([rec(1, 'A'), rec(2, 'A'), rec(3, 'B')], 10), {
      tails: [
        { sequenceKey: 'A', afterSeq: 2 },
        { sequenceKey: 'B', afterSeq: 3 },
      ],
      perKey: 5,
    });
    assert.equal(followingOf([rec(1, 'A')], 10)!.perKey, 10, 'one event of one key: its run may be behind it');
    assert.equal(followingOf([rec(1, 'A'), rec(2, 'B')], 10), undefined, 'one event per key of many: the claim found no runs');
    assert.equal(followingOf([rec(1, 'A'), rec(2, 'A'), rec(3, 'B'), rec(4, 'C')], 2)!.perKey, 1, 'at least one per key');
  });

  it('sends the successors of keys whose every event was done, unless an older event waits', () => {
    const run = [rec(1, 'A'), rec(2, 'B'), rec(3, 'B')];
    const next = [rec(10, 'A'), rec(11, 'B')];
    const never = () => assert.fail('asked for an older event when nothing was kept');
    assert.deepEqual(seqs(keptSuccessors(run, [done, done, done], next, true, () => null)), [10, 11]);
    assert.deepEqual(seqs(keptSuccessors(run, [done, done, failed], next, true, () => null)), [10], 'a failure in B keeps B behind');
    assert.deepEqual(seqs(keptSuccessors(run, [done, done, done], next, false, never)), [], 'sending stopped');
    assert.deepEqual(seqs(keptSuccessors(run, [failed, failed, failed], next, true, never)), []);
    assert.deepEqual(seqs(keptSuccessors(run, [done, done, done], next, true, () => 5)), [], 'an older event of another key goes first');
    assert.deepEqual(seqs(keptSuccessors(run, [done, done, done], next, true, () => 12)), [10, 11]);
  });

  it('hands back in the settlement what it does not send', () => {
    const claimed = [rec(10, 'A'), rec(11, 'B')];
    const outbox = { claimFollowing: () => claimed, oldestReadySeq: () => null } as unknown as Outbox;
    const prefetch = new Prefetch(outbox, 10, () => 0, log);
    const unit = { op: { type: 'downtime.started' } as Operation, records: [rec(1, 'A'), rec(2, 'B')] };
    assert.equal(prefetch.takeSuccessor(unit, [done, done], [], true), undefined, 'nothing claimed yet');
    const twoPerKey = { ...unit, records: [rec(1, 'A'), rec(2, 'A'), rec(3, 'B')] };
    prefetch.claimBehind(twoPerKey);
    const settlements: Settlement[] = [];
    const next = prefetch.takeSuccessor(twoPerKey, [done, done, failed], settlements, true);
    assert.deepEqual(seqs(next!.records), [10]);
    assert.deepEqual(settlements, [{ seq: 11, outcome: 'release' }]);
    assert.equal(prefetch.takeSuccessor(twoPerKey, [done, done, done], [], true), undefined, 'taken once');
  });
});
