import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { CanonicalEvent } from '../../agent/model/event';
import { createOdooClient } from '../../agent/odoo/client';
import { odooConfigSchema } from '../../agent/odoo/config';
import { createOperationRegistry } from '../../agent/sync/operations/index';
import { externalId } from '../../agent/sync/operations/odoo-calls';
import { SyncWorker } from '../../agent/sync/worker';
import { downtimeStarted } from '../helpers/events';
import { testSyncConfig } from '../helpers/sync';
import { startOdooSim } from '../odoo-sim';
import { until } from '../helpers/until';

const dir = mkdtempSync(join(tmpdir(), 'runs-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });

function stop(key: string, i: number, workcenter: string): CanonicalEvent {
  return downtimeStarted('runs-test', key, `${key}-${i}`, workcenter, Date.UTC(2026, 10, 26, 6, 0, 0) + i * 1000);
}

it("sends a key's consecutive events in one ordered load(), and holds back the rest of a key behind a bad row", async () => {
  const sim = await startOdooSim({ version: 19 });
  const outbox = new SqliteOutbox({ path: join(dir, 'runs.db') });
  process.env.RUNS_TEST_KEY = sim.apiKey;
  const client = createOdooClient(odooConfigSchema.parse({ url: sim.url, database: sim.db, apiKey: '${env:RUNS_TEST_KEY}' }), log);
  const worker = new SyncWorker({
    outbox,
    client,
    operations: createOperationRegistry(),
    config: testSyncConfig(),
    xmlidModule: 'edge_runs',
    log,
  });
  try {
    sim.state.create('mrp.workcenter', { name: 'WC A', code: 'WCA' });
    sim.state.create('mrp.workcenter', { name: 'WC B', code: 'WCB' });
    // Key A's fourth stop names a work center Odoo does not know.
    const a = Array.from({ length: 6 }, (_, i) => stop('A', i, i === 3 ? 'WC Nowhere' : 'WC A'));
    const b = Array.from({ length: 6 }, (_, i) => stop('B', i, 'WC B'));
    await outbox.enqueue(a.flatMap((e, i) => [e, b[i]!]));
    worker.start();
    await until(() => outbox.counts().done === 9 && outbox.counts().parked === 1);
    await worker.idle();

    const loads = sim.calls({ model: 'mrp.workcenter.productivity', method: 'load' });
    assert.equal(loads, 2, "one load() per key: each carried its key's run");
    const idOf = (e: CanonicalEvent) =>
      sim.state.byXmlid(externalId('edge_runs', 'downtime', (e.payload as { downtimeId: string }).downtimeId))?.id as number | undefined;
    const bIds = b.map(idOf);
    assert.ok(bIds.every((x) => typeof x === 'number'));
    assert.deepEqual(
      [...bIds].sort((x, y) => x! - y!),
      bIds,
      'B created in event order',
    );
    assert.deepEqual(
      a.slice(0, 3).map((e) => outbox.get(e.id)!.state),
      ['done', 'done', 'done'],
    );
    assert.equal(outbox.get(a[3]!.id)!.state, 'parked');
    assert.match(outbox.get(a[3]!.id)!.error!, /WC Nowhere/);
    assert.deepEqual(
      a.slice(4).map((e) => outbox.get(e.id)!.state),
      ['pending', 'pending'],
      'held back behind the bad row, not sent',
    );
    assert.deepEqual(
      a.slice(4).map((e) => outbox.get(e.id)!.attempts),
      [0, 0],
    );
    assert.deepEqual(a.slice(3).map(idOf), [undefined, undefined, undefined], 'nothing after the bad row reached Odoo');

    // A person corrects the work center: the rest of A follows, in order.
    outbox.edit(a[3]!.id, 'workcenter', 'WC A', 'supervisor');
    worker.wake();
    await until(() => outbox.counts().done === 12);
    const aIds = a.map(idOf);
    assert.ok(aIds.every((x) => typeof x === 'number'));
    assert.deepEqual(
      [...aIds].sort((x, y) => x! - y!),
      aIds,
      'A created in event order',
    );
  } finally {
    await worker.stop();
    await client.close();
    await outbox.close();
    await sim.close();
  }
});
