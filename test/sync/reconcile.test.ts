import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { CanonicalEvent } from '../../agent/model/event';
import { randomEventId } from '../../agent/model/event-ids';
import type { OdooClient } from '../../agent/odoo/types';
import { createOperationRegistry } from '../../agent/sync/operations/index';
import { checkTypes, formatReport, reconcile, replayCommand, totals } from '../../agent/sync/reconcile/reconcile';
import { SyncWorker } from '../../agent/sync/worker';
import { testSyncConfig } from '../helpers/sync';
import { until } from '../helpers/until';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { makeClient } from '../operations/harness';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'reconcile-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function event(type: string, sequenceKey: string, payload: Record<string, unknown>, at = new Date().toISOString()): CanonicalEvent {
  return { id: randomEventId(), type, sequenceKey, occurredAt: at, receivedAt: at, source: 'test', payload } as unknown as CanonicalEvent;
}

async function deliver(outbox: SqliteOutbox, client: OdooClient, events: CanonicalEvent[]): Promise<void> {
  await outbox.enqueue(events);
  const worker = new SyncWorker({ outbox, client, operations: createOperationRegistry(), config: testSyncConfig(), xmlidModule: 'edge_rt', log });
  worker.start();
  try {
    await until(() => outbox.counts().unfinished === 0, 'every event delivered', 10_000);
    assert.equal(outbox.counts().parked, 0);
  } finally {
    await worker.stop();
  }
}

for (const version of [19, 18] as const) {
  describe(`reconcile against Odoo ${version} (simulated)`, () => {
    let sim: OdooSim;
    let bot: OdooClient;
    let admin: OdooClient;
    let outbox: SqliteOutbox;
    const start = event(
      'downtime.started',
      'workcenter:CNC1',
      { downtimeId: `stop-${version}`, workcenter: 'CNC1', reason: 'Material Availability' },
      '2026-11-26T08:00:05Z',
    );
    const end = event('downtime.ended', 'workcenter:CNC1', { downtimeId: `stop-${version}`, workcenter: 'CNC1' }, '2026-11-26T08:10:00Z');
    const consumed = event('material.consumed', 'WH/MO/00002', { production: 'WH/MO/00002', product: 'RM-BOLT', quantity: 4 });
    const produced = event('production.reported', 'WH/MO/00002', { production: 'WH/MO/00002', totalQuantity: 1 });
    const scrap = event('scrap.reported', 'WH/MO/00002', { production: 'WH/MO/00002', product: 'RM-BOLT', quantity: 2 });

    before(async () => {
      sim = await startOdooSim({ version });
      bot = makeClient(sim.url, sim.db, sim.login, sim.apiKey);
      admin = makeClient(sim.url, sim.db, 'admin', sim.adminApiKey);
      await bot.connect();
      await admin.connect();
      outbox = new SqliteOutbox({ path: join(dir, `outbox-${version}.db`), log });
      await deliver(outbox, bot, [start, end, consumed, produced, scrap]);
    });
    after(async () => {
      await outbox.close();
      await bot.close();
      await admin.close();
      await sim.close();
    });

    const run = () => reconcile(outbox.orderSync, bot, { since: 0, until: Date.now() + 1000, xmlidModule: 'edge_rt' });

    it('finds every delivered event as sent, in a few batched reads', async () => {
      const r = await run();
      const t = totals(r);
      assert.equal(t.checked, 5);
      assert.equal(t.ok, 5, JSON.stringify({ missing: r.missing, differs: r.differs, duplicated: r.duplicated }));
      assert.equal(replayCommand(r), undefined);
      assert.ok(r.requests <= 10, `${r.requests} requests for 5 events`);
    });

    it('finds a record deleted in Odoo (missing, with the replay line) and a quantity edited in Odoo (differs)', async () => {
      const stopId = outbox.get(start.id)!.odooIds!['mrp.workcenter.productivity'] as number;
      const lineId = outbox.get(consumed.id)!.odooIds!['stock.move.line'] as number;
      await admin.call('mrp.workcenter.productivity', 'unlink', { ids: [stopId] });
      await admin.call('stock.move.line', 'write', { ids: [lineId], kwargs: { vals: { quantity: 6 } } });
      const moId = outbox.get(produced.id)!.odooIds!['mrp.production'] as number;
      await admin.call('mrp.production', 'write', { ids: [moId], kwargs: { vals: { qty_producing: 9 } } });

      const r = await run();
      assert.deepEqual(r.missing.map((m) => m.id).sort(), [start.id, end.id].sort(), 'both events of the deleted stop');
      assert.equal(r.byType['downtime.started']!.missing, 1);
      assert.deepEqual(
        r.differs.map((d) => [d.id, d.differences]),
        [
          [consumed.id, [{ field: 'quantity', event: 4, odoo: 6 }]],
          [produced.id, [{ field: 'qty_producing', event: 1, odoo: 9 }]],
        ],
      );
      assert.equal(
        replayCommand(r, ' --config /etc/edge-agent/config.yaml'),
        `edge-agent outbox replay --config /etc/edge-agent/config.yaml ${r.replayIds.join(' ')}`,
      );
      const text = formatReport(r);
      assert.match(text, /1 missing/);
      assert.match(text, new RegExp(`${consumed.id}  material.consumed  stock.move.line ${lineId}  quantity: event 4, Odoo 6`));
      assert.match(text, /edge-agent outbox replay /);

      // The replay line does what it says: the stop is written again and found.
      assert.equal(outbox.replayIds(r.replayIds, 'test'), 2);
      assert.equal(outbox.counts().pending, 2);
      await deliver(outbox, bot, []);
      const again = await run();
      assert.equal(again.missing.length, 0, JSON.stringify(again.missing));
      assert.equal(totals(again).differs, 2, 'the edited quantities stay differences: a replay of the stop does not touch them');
    });

    it('finds a stop written twice (a second record of the same work center and start)', async () => {
      const stopId = outbox.get(start.id)!.odooIds!['mrp.workcenter.productivity'] as number;
      const [rec] = await admin.call<Array<{ workcenter_id: [number, string]; loss_id: [number, string]; date_start: string }>>(
        'mrp.workcenter.productivity',
        'search_read',
        { kwargs: { domain: [['id', '=', stopId]], fields: ['workcenter_id', 'loss_id', 'date_start'] } },
      );
      const twin = await admin.call<number | number[]>('mrp.workcenter.productivity', 'create', {
        kwargs: { vals_list: [{ workcenter_id: rec!.workcenter_id[0], loss_id: rec!.loss_id[0], date_start: rec!.date_start }] },
      });
      const r = await run();
      assert.deepEqual(r.duplicated.map((d) => d.id).sort(), [start.id, end.id].sort());
      assert.match(r.duplicated[0]!.what!, new RegExp(`2 records of one stop: .*${Array.isArray(twin) ? twin[0] : twin}`));
      await admin.call('mrp.workcenter.productivity', 'unlink', { ids: Array.isArray(twin) ? twin : [twin] });
    });

    it('keeps to the window and the types asked for', async () => {
      const none = await reconcile(outbox.orderSync, bot, { since: 0, until: 1, xmlidModule: 'edge_rt' });
      assert.equal(none.checked, 0);
      assert.equal(none.requests, 0, 'nothing to check, nothing asked');
      const scraps = await reconcile(outbox.orderSync, bot, { since: 0, until: Date.now() + 1000, types: ['scrap.reported'], xmlidModule: 'edge_rt' });
      assert.deepEqual(Object.keys(scraps.byType), ['scrap.reported']);
      assert.equal(scraps.byType['scrap.reported']!.ok, 1);
    });
  });
}

describe('reconcile: bad input', () => {
  it('an unknown type is a usage error naming it and the known types', () => {
    assert.throws(
      () => checkTypes(['production.reported', 'downtime.sideways']),
      (e: Error & { code?: string }) => e.code === 'USAGE' && /unknown event type "downtime.sideways" \(types: production.reported,/.test(e.message),
    );
  });
});

describe('reconcile in a running agent', () => {
  it('the scheduled job checks the window, keeps its result for the page and metrics; "off" schedules nothing', async () => {
    const { parseConfigText } = await import('../../agent/config/load');
    const { startAgent } = await import('../../agent/runtime/agent');
    const sim = await startOdooSim({ version: 19 });
    const bot = makeClient(sim.url, sim.db, sim.login, sim.apiKey);
    const state = mkdtempSync(join(dir, 'agent-'));
    const yaml = (schedule: string) =>
      [
        'plant: { id: rt }',
        `stateDir: ${JSON.stringify(state)}`,
        'http: { enabled: false }',
        'odoo: { url: "http://127.0.0.1:1", database: x, apiKey: "${env:EDGE_RT_UNUSED}" }',
        `reconcile: { schedule: "${schedule}", windowHours: 1 }`,
      ].join('\n');
    process.env.EDGE_RT_UNUSED = 'unused';
    const agent = await startAgent(parseConfigText(yaml('0 0 1 1 *'), 'agent.yaml'), { withoutSources: true, client: bot, log });
    try {
      await agent.outbox.enqueue([event('downtime.started', 'workcenter:CNC1', { downtimeId: 'sched', workcenter: 'CNC1', reason: 'Material Availability' })]);
      await until(() => agent.outbox.counts().done === 1, 'delivered');
      assert.equal(agent.view.lastReconcile!(), undefined);
      assert.ok(agent.schedules.nextRun('reconcile'), 'scheduled');
      await agent.schedules.run('reconcile');
      const last = agent.view.lastReconcile!()!;
      assert.equal(last.result.checked, 1);
      assert.equal(last.result.by, 'schedule');
      assert.equal(last.result.byType['downtime.started']!.ok, 1);
      assert.ok(Date.parse(last.result.until) - Date.parse(last.result.since) === 3_600_000, 'windowHours');
    } finally {
      await agent.stop();
    }
    const off = await startAgent(parseConfigText(yaml('off'), 'agent.yaml'), { withoutSources: true, client: bot, log });
    try {
      assert.equal(off.schedules.nextRun('reconcile'), null);
      await assert.rejects(off.schedules.run('reconcile'), /no scheduled job reconcile/);
    } finally {
      await off.stop();
      await bot.close();
      await sim.close();
    }
  });
});
