import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { parseConfigText } from '../../agent/config/load';
import { createOdooClient } from '../../agent/odoo/client';
import { odooConfigSchema } from '../../agent/odoo/config';
import { writeReconciliation } from '../../agent/runtime/schedules';
import { MasterDataCache } from '../../agent/sync/master-data';
import { makeEvent } from '../helpers/events';
import { startOdooSim } from '../odoo-sim';

const dir = mkdtempSync(join(tmpdir(), 'master-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });

it('pulls products, lots, work centers and open orders, and keeps them for offline use', async () => {
  const sim = await startOdooSim({ version: 19 });
  process.env.MD_TEST_KEY = sim.apiKey;
  const client = createOdooClient(odooConfigSchema.parse({ url: sim.url, database: sim.db, apiKey: '${env:MD_TEST_KEY}' }), log);
  const path = join(dir, 'outbox.db');
  try {
    const outbox = new SqliteOutbox({ path });
    const cache = new MasterDataCache(outbox.masterData);
    assert.equal(cache.filled, false);
    assert.equal(cache.product('RM-STEEL'), undefined);
    await client.connect();
    const counts = await cache.refresh(client);
    assert.ok(counts.products! >= 4 && counts.productions! >= 3, JSON.stringify(counts));
    const steel = cache.product('RM-STEEL');
    assert.equal(steel?.name, 'Steel Bar 40 mm');
    assert.equal(steel?.tracking, 'lot');
    assert.equal(cache.product('4006381333955')?.id, steel?.id, 'by barcode too');
    assert.equal(cache.lot('ST-2025-0001', steel!.id)?.productId, steel!.id);
    assert.equal(cache.lot('ST-2025-0001', steel!.id + 999), undefined, 'a lot of another product is not it');
    const mo = cache.production('WH/MO/00001');
    assert.equal(mo?.state, 'confirmed');
    assert.equal(cache.workcenter('ASM1')?.name, 'Assembly Line 1');
    await outbox.close();
  } finally {
    await client.close();
    await sim.close();
  }
  // Odoo is gone; a restarted agent still has the data.
  const reopened = new SqliteOutbox({ path });
  const offline = new MasterDataCache(reopened.masterData);
  assert.equal(offline.filled, true);
  assert.equal(offline.product('RM-SEAL')?.name, 'Seal Kit');
  assert.equal(offline.production('WH/MO/00002')?.state, 'confirmed');
  await reopened.close();
});

it('writes the daily reconciliation report of what arrived and where it stands', async () => {
  const config = parseConfigText(`plant:\n  id: rec\nstateDir: ${dir}\n`, 'rec.yaml');
  let now = Date.UTC(2026, 10, 25, 12);
  const outbox = new SqliteOutbox({ path: join(dir, 'rec.db'), now: () => now });
  await outbox.enqueue([makeEvent(), makeEvent(), makeEvent({ sequenceKey: 'WC-2' })]);
  const [c] = outbox.claim(1);
  outbox.settle([{ seq: c!.seq, outcome: 'park', reason: 'unknown work center', blocking: true }]);
  now = Date.UTC(2026, 10, 26, 6, 5);
  const { file } = writeReconciliation(config, outbox, now, log);
  assert.ok(existsSync(file));
  assert.match(file, /reconciliation-2026-11-25\.json$/);
  const report = JSON.parse(readFileSync(file, 'utf8')) as { received: Array<{ type: string; state: string; events: number }> };
  assert.deepEqual(report.received, [
    { type: 'downtime.started', state: 'parked', events: 1 },
    { type: 'downtime.started', state: 'pending', events: 2 },
  ]);
  await outbox.close();
});

for (const version of [17, 18, 19] as const) {
  it(`pulls Odoo ${version}'s units of measure: same category (17/18) or same reference chain (19) converts, with each product's and order's unit`, async () => {
    const sim = await startOdooSim({ version });
    process.env.MD_TEST_KEY = sim.apiKey;
    const client = createOdooClient(odooConfigSchema.parse({ url: sim.url, database: sim.db, username: sim.login, apiKey: '${env:MD_TEST_KEY}' }), log);
    const outbox = new SqliteOutbox({ path: join(dir, `units-${version}.db`) });
    try {
      const cache = new MasterDataCache(outbox.masterData);
      await client.connect();
      const counts = await cache.refresh(client);
      assert.ok(counts.uoms! >= 5, JSON.stringify(counts));
      const [g, kg, units, dozens, hours] = ['g', 'kg', 'Units', 'Dozens', 'Hours'].map((n) => cache.unit(n)!);
      assert.equal(g!.group, kg!.group);
      assert.equal(units!.group, dozens!.group);
      assert.notEqual(kg!.group, units!.group);
      assert.notEqual(hours!.group, units!.group);
      assert.equal(Math.round((kg!.perReference / g!.perReference) * 1e9) / 1e9, 1000);
      assert.equal(Math.round((dozens!.perReference / units!.perReference) * 1e9) / 1e9, 12);
      assert.equal(cache.unitById(kg!.id)?.name, 'kg');
      assert.equal(cache.product('RM-STEEL')?.uomId, kg!.id);
      assert.equal(cache.production('WH/MO/00001')?.uomId, units!.id);
    } finally {
      await outbox.close();
      await client.close();
      await sim.close();
    }
  });
}
