import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { CanonicalEvent } from '../../agent/model/event';
import { createOperationRegistry } from '../../agent/sync/operations/index';
import { OrderSync } from '../../agent/sync/order-sync';
import { reconcile, totals } from '../../agent/sync/reconcile/reconcile';
import { SyncWorker } from '../../agent/sync/worker';
import { testSyncConfig } from '../helpers/sync';
import { until } from '../helpers/until';
import { Fixtures, read } from './fixtures';
import { ev, onEveryOdoo, silent } from './harness';

const dir = mkdtempSync(join(tmpdir(), 'ops-reconcile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/**
 * Reconciliation and the per-order view on the records the operations write:
 * on the simulator and, with ODOO_URL set, on a real Odoo.
 */
onEveryOdoo('reconcile and the per-order view', (s) => {
  test('delivered events are found as sent; a deleted stop is missing, an edited consumption differs, and the order view shows it', async () => {
    const fx = new Fixtures(s.t);
    const wc = await fx.workcenter();
    const reason = await fx.lossName();
    const finished = await fx.product('FIN');
    const part = await fx.product('PART');
    await fx.stock(part.id, 50);
    const mo = await fx.order({ finished, qty: 5, components: [{ product: part, qty: 2 }] });
    const stop = `stop-${s.t.run}-${++n}`;
    const events: CanonicalEvent[] = [
      ev(
        'downtime.started',
        { downtimeId: stop, workcenter: wc.name, reason },
        { occurredAt: '2026-11-26T08:00:00.000Z', sequenceKey: `workcenter:${wc.name}` },
      ),
      ev('downtime.ended', { downtimeId: stop, workcenter: wc.name }, { occurredAt: '2026-11-26T08:07:00.000Z', sequenceKey: `workcenter:${wc.name}` }),
      ev('material.consumed', { production: mo.name, product: part.code, quantity: 2 }, { sequenceKey: mo.name }),
      ev('production.reported', { production: mo.name, totalQuantity: 1 }, { sequenceKey: mo.name }),
      ev('scrap.reported', { production: mo.name, product: part.code, quantity: 1 }, { sequenceKey: mo.name }),
    ];
    const outbox = new SqliteOutbox({ path: join(dir, `${s.t.run}-${n}.db`), log: silent });
    try {
      await outbox.enqueue(events);
      const worker = new SyncWorker({
        outbox,
        client: s.t.odoo,
        operations: createOperationRegistry(),
        config: testSyncConfig(),
        xmlidModule: s.t.ctx.xmlidModule,
        log: silent,
      });
      worker.start();
      await until(() => outbox.counts().unfinished === 0, 'all delivered', 60_000);
      await worker.stop();
      assert.equal(outbox.counts().parked, 0, JSON.stringify(outbox.list({ state: 'parked' }).map((r) => r.error)));

      const check = () => reconcile(outbox.orderSync, s.t.odoo, { since: 0, until: Date.now() + 1000, xmlidModule: s.t.ctx.xmlidModule });
      const clean = await check();
      assert.equal(totals(clean).ok, 5, `${s.t.label}: ${JSON.stringify({ missing: clean.missing, differs: clean.differs, duplicated: clean.duplicated })}`);
      assert.ok(clean.requests <= 12, `${clean.requests} requests`);

      const orders = new OrderSync({ store: outbox.orderSync, odoo: () => ({ client: s.t.odoo, connected: () => true }) });
      const inSync = await orders.refresh();
      const row = inSync.orders.find((o) => o.order === mo.name)!;
      assert.equal(row.verdict, 'in-sync', `${s.t.label}: ${row.text} ${JSON.stringify(row.odoo)}`);

      // A person deletes the stop and corrects the consumption in Odoo.
      const stopId = outbox.get(events[0]!.id)!.odooIds!['mrp.workcenter.productivity'] as number;
      const lineId = outbox.get(events[2]!.id)!.odooIds!['stock.move.line'] as number;
      await s.t.admin.call('mrp.workcenter.productivity', 'unlink', { ids: [stopId] });
      await s.t.admin.call('stock.move.line', 'write', { ids: [lineId], kwargs: { vals: { quantity: 3 } } });
      assert.equal((await read(s.t.admin, 'mrp.workcenter.productivity', [['id', '=', stopId]], ['id'])).length, 0);

      const found = await check();
      assert.deepEqual(found.missing.map((m) => m.id).sort(), [events[0]!.id, events[1]!.id].sort());
      assert.deepEqual(
        found.differs.map((d) => [d.id, d.differences]),
        [[events[2]!.id, [{ field: 'quantity', event: 2, odoo: 3 }]]],
      );
      const differs = (await orders.refresh()).orders.find((o) => o.order === mo.name)!;
      assert.equal(differs.verdict, 'differs');
      assert.equal(differs.text, `differs: consumed ${part.code} 2 here, 3 in Odoo`);
    } finally {
      await outbox.close();
    }
  });
});
