import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { OdooOrderSide, PlantOrderSide } from '../../agent/buffer/order-sync-store';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { CanonicalEvent } from '../../agent/model/event';
import { randomEventId } from '../../agent/model/event-ids';
import type { OdooClient } from '../../agent/odoo/types';
import { createOperationRegistry } from '../../agent/sync/operations/index';
import { OrderSync } from '../../agent/sync/order-sync';
import { orderRow } from '../../agent/sync/order-view';
import { SyncWorker } from '../../agent/sync/worker';
import { testSyncConfig } from '../helpers/sync';
import { until } from '../helpers/until';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { makeClient } from '../operations/harness';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'order-view-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const plant = (over: Partial<PlantOrderSide> = {}): PlantOrderSide => ({
  name: 'WH/MO/1',
  events: { done: 3 },
  lastDoneAt: 1000,
  produced: { total: 4, state: 'done' },
  consumed: { 'RM-SEAL': 2 },
  scrapped: 1,
  completed: false,
  ...over,
});
const odoo = (over: Partial<OdooOrderSide> = {}): OdooOrderSide => ({
  id: 7,
  name: 'WH/MO/1',
  state: 'progress',
  product: 'Pump',
  productQty: 10,
  qtyProducing: 4,
  qtyProduced: 0,
  components: [{ product: 'Seal Kit', codes: ['RM-SEAL'], consumed: 2 }],
  scrapped: 1,
  ...over,
});

describe('per-order verdicts', () => {
  const cases: Array<[string, PlantOrderSide, OdooOrderSide | undefined, number, string, string]> = [
    ['in sync', plant(), odoo(), 2000, 'in-sync', 'in sync'],
    ['events still to send', plant({ events: { done: 3, pending: 2, retrying: 1 } }), odoo(), 2000, 'pending', '3 events still to send'],
    ['parked wins over pending', plant({ events: { done: 3, pending: 2, parked: 1 } }), odoo(), 2000, 'parked', 'needs a person: 1 parked'],
    ['produced differs', plant(), odoo({ qtyProducing: 6 }), 2000, 'differs', 'differs: produced 4 here, 6 in Odoo'],
    [
      'consumption differs',
      plant(),
      odoo({ components: [{ product: 'Seal Kit', codes: ['RM-SEAL'], consumed: 3 }] }),
      2000,
      'differs',
      'differs: consumed RM-SEAL 2 here, 3 in Odoo',
    ],
    ['a component Odoo has no move for', plant({ consumed: { 'RM-X': 1 } }), odoo(), 2000, 'differs', 'differs: consumed RM-X 1 here, 0 in Odoo'],
    ['scrap differs', plant(), odoo({ scrapped: 0 }), 2000, 'differs', 'differs: scrapped 1 here, 0 in Odoo'],
    ['done: qty_produced counts', plant({ completed: true }), odoo({ state: 'done', qtyProducing: 0, qtyProduced: 4 }), 2000, 'in-sync', 'in sync'],
    ['completion not in Odoo', plant({ completed: true }), odoo(), 2000, 'differs', 'differs: state done here, progress in Odoo'],
    ['order deleted in Odoo', plant(), odoo({ state: 'missing', id: 0 }), 2000, 'differs', 'differs: not found in Odoo'],
    ['never read', plant(), undefined, 2000, 'unknown', "Odoo's side not read yet"],
    ['read before the last delivery', plant({ lastDoneAt: 3000 }), odoo(), 2000, 'unknown', "Odoo's side was read before the last delivery"],
  ];
  for (const [name, p, o, readAt, verdict, text] of cases) {
    it(name, () => {
      const row = orderRow(p, o ? { value: o, readAt } : undefined);
      assert.equal(row.verdict, verdict);
      assert.equal(row.text, text);
    });
  }
});

function event(type: string, production: string, payload: Record<string, unknown>): CanonicalEvent {
  const at = new Date().toISOString();
  return {
    id: randomEventId(),
    type,
    sequenceKey: production,
    occurredAt: at,
    receivedAt: at,
    source: 'test',
    payload: { production, ...payload },
  } as unknown as CanonicalEvent;
}

describe('per-order sync view against Odoo (simulated)', () => {
  let sim: OdooSim;
  let bot: OdooClient;
  let admin: OdooClient;
  let outbox: SqliteOutbox;
  let connected = true;
  let sync: OrderSync;
  let now = Date.now();

  before(async () => {
    sim = await startOdooSim({ version: 19 });
    bot = makeClient(sim.url, sim.db, sim.login, sim.apiKey);
    admin = makeClient(sim.url, sim.db, 'admin', sim.adminApiKey);
    await bot.connect();
    await admin.connect();
    outbox = new SqliteOutbox({ path: join(dir, 'outbox.db'), log });
    await outbox.enqueue([
      event('material.consumed', 'WH/MO/00001', { product: 'RM-SEAL', quantity: 1 }),
      event('production.reported', 'WH/MO/00001', { totalQuantity: 2 }),
      event('scrap.reported', 'WH/MO/00001', { product: 'RM-BOLT', quantity: 3 }),
      // Not a component of the pump: Odoo refuses it, it waits for a person.
      event('material.consumed', 'WH/MO/00003', { product: 'RM-HOUSING', quantity: 1 }),
    ]);
    const worker = new SyncWorker({ outbox, client: bot, operations: createOperationRegistry(), config: testSyncConfig(), xmlidModule: 'edge_ov', log });
    worker.start();
    await until(() => outbox.counts().done === 3 && outbox.counts().parked === 1, 'three delivered, one parked');
    await worker.stop();
    // Arrives while nothing sends.
    await outbox.enqueue([event('production.reported', 'WH/MO/00002', { totalQuantity: 5 })]);
    now = Date.now();
    sync = new OrderSync({ store: outbox.orderSync, odoo: () => ({ client: bot, connected: () => connected }), log, now: () => now });
  });
  after(async () => {
    await outbox.close();
    await bot.close();
    await admin.close();
    await sim.close();
  });

  const verdicts = (v: { orders: Array<{ order: string; verdict: string }> }) => Object.fromEntries(v.orders.map((o) => [o.order, o.verdict]));

  it('shows in sync, events still to send, and needs a person, from one batched read', async () => {
    const v = await sync.refresh();
    assert.deepEqual(verdicts(v), { 'WH/MO/00001': 'in-sync', 'WH/MO/00002': 'pending', 'WH/MO/00003': 'parked' });
    const mo1 = v.orders.find((o) => o.order === 'WH/MO/00001')!;
    assert.equal(mo1.odoo?.qtyProducing, 2);
    assert.equal(mo1.odoo?.scrapped, 3);
    assert.equal(mo1.plant.done, 3);
    assert.ok(sync.lastRequests <= 5, `${sync.lastRequests} requests for 3 orders`);
    assert.deepEqual(v.counts, { 'in-sync': 1, pending: 1, parked: 1, differs: 0, unknown: 0 });
  });

  it('shows what differs once Odoo was changed, and keeps it while Odoo is out of reach, saying how old it is', async () => {
    const mo1 = (
      await admin.call<Array<{ id: number }>>('mrp.production', 'search_read', { kwargs: { domain: [['name', '=', 'WH/MO/00001']], fields: ['id'] } })
    )[0]!;
    await admin.call('mrp.production', 'write', { ids: [mo1.id], kwargs: { vals: { qty_producing: 7 } } });
    const read = await sync.refresh();
    const row = read.orders.find((o) => o.order === 'WH/MO/00001')!;
    assert.equal(row.verdict, 'differs');
    assert.equal(row.text, 'differs: produced 2 here, 7 in Odoo');
    const readAt = read.odooReadAt!;

    // Odoo out of reach: nothing is asked, the view comes from the cache with the time of its read.
    connected = false;
    now += 600_000;
    const calls = sim.calls();
    const offline = await sync.refresh();
    assert.equal(sim.calls(), calls, 'Odoo not asked');
    assert.deepEqual(verdicts(offline), { 'WH/MO/00001': 'differs', 'WH/MO/00002': 'pending', 'WH/MO/00003': 'parked' });
    assert.equal(offline.odooReadAt, readAt);
    assert.equal(offline.at - offline.odooReadAt!, offline.at - readAt);
    assert.ok(offline.at - offline.odooReadAt! >= 600_000);

    // A second process (the CLI with the agent stopped) makes the same view from the file alone.
    const cli = new SqliteOutbox({ path: join(dir, 'outbox.db'), role: 'operator', log });
    try {
      const fromFile = new OrderSync({ store: cli.orderSync }).offline();
      assert.deepEqual(verdicts(fromFile), verdicts(offline));
      assert.equal(fromFile.odooReadAt, readAt);
    } finally {
      await cli.close();
    }
  });
});
