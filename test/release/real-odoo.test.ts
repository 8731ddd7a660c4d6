/**
 * The order release against a real Odoo (ODOO_URL ... and ODOO_ADMIN_API_KEY
 * set; skipped otherwise, never in CI): an order the administrator confirms
 * is published on the broker, and emptied when it is cancelled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OdooClient } from '../../agent/odoo/types';
import { startBroker, uniquePrefix, type TestBroker } from '../helpers/broker';
import { until } from '../helpers/until';
import { makeClient, realOdooSkipReason } from '../operations/harness';
import { clearRetained, startReleaseAgent, Watcher, type ReleaseSite } from './helpers';

const skip = realOdooSkipReason();

describe('order release against a real Odoo', { skip }, () => {
  const env = process.env;
  let admin: OdooClient;
  let broker: TestBroker;
  let site: ReleaseSite;
  let watch: Watcher;
  let productId = 0;
  let bomId = 0;
  const prefix = uniquePrefix('release-real');
  const run = Date.now().toString(36);

  before(async () => {
    const version = env.ODOO_VERSION ? Number(env.ODOO_VERSION) : undefined;
    admin = makeClient(env.ODOO_URL!, env.ODOO_DB!, env.ODOO_ADMIN_USER ?? 'admin', env.ODOO_ADMIN_API_KEY!, version);
    await admin.connect();
    // A product whose bill of materials has operations: its order gets work orders.
    const [bom] = await admin.call<Array<{ id: number; product_tmpl_id: [number, string] }>>('mrp.bom', 'search_read', {
      kwargs: {
        domain: [
          ['operation_ids', '!=', false],
          ['type', '=', 'normal'],
        ],
        fields: ['product_tmpl_id'],
        limit: 1,
      },
    });
    assert.ok(bom, 'a bill of materials with operations in the demo data');
    bomId = bom.id;
    const ops = await admin.call<Array<{ workcenter_id: [number, string] }>>('mrp.routing.workcenter', 'search_read', {
      kwargs: { domain: [['bom_id', '=', bomId]], fields: ['workcenter_id'] },
    });
    const [product] = await admin.call<Array<{ id: number }>>('product.product', 'search_read', {
      kwargs: { domain: [['product_tmpl_id', '=', bom.product_tmpl_id[0]]], fields: ['id'], limit: 1 },
    });
    productId = product!.id;
    const wcs = [...new Set(ops.map((o) => o.workcenter_id[1]))];
    broker = await startBroker();
    watch = await Watcher.open(broker.url, [`${prefix}/#`]);
    site = await startReleaseAgent(
      { url: env.ODOO_URL!, db: env.ODOO_DB!, apiKey: env.ODOO_API_KEY!, login: env.ODOO_USER },
      broker.url,
      prefix,
      '',
      `  workcenters: ${JSON.stringify(wcs)}`,
    );
  });
  after(async () => {
    await site?.close();
    if (watch) await clearRetained(broker.url, watch);
    await watch?.close();
    await broker?.close();
    await admin?.close();
  });

  it('an order confirmed in Odoo is published; cancelled, it is emptied', async (t) => {
    const status = site.agent.release!.status();
    t.diagnostic(`first full read: ${status.orders} orders, ${status.polls.lastRequests} requests`);
    const id = await admin
      .call<number>('mrp.production', 'create', {
        kwargs: { vals_list: [{ product_id: productId, bom_id: bomId, product_qty: 2, origin: `edge-release-${run}` }] },
      })
      .then((r) => (Array.isArray(r) ? (r[0] as number) : r));
    await admin.call('mrp.production', 'action_confirm', { ids: [id] });
    const [mo] = await admin.call<Array<{ name: string }>>('mrp.production', 'read', { ids: [id], kwargs: { fields: ['name'] } });
    const topic = `${prefix}/orders/${mo!.name}`;
    await until(() => watch.json(topic) !== undefined, `${mo!.name} on ${topic}`, 30_000);
    const msg = watch.json(topic)!;
    t.diagnostic(`published: ${JSON.stringify(msg)}`);
    const order = msg.order as { state: string; quantity: number; workorders: unknown[]; components: unknown[] };
    assert.equal(order.state, 'confirmed');
    assert.equal(order.quantity, 2);
    assert.ok(order.workorders.length > 0, 'work orders');
    assert.ok(order.components.length > 0, 'components');
    await admin.call('mrp.production', 'action_cancel', { ids: [id] });
    await until(() => watch.last.get(topic)?.payload === '', `${mo!.name} emptied`, 30_000);
    t.diagnostic(`release status: ${JSON.stringify({ ...site.agent.release!.status(), problems: undefined })}`);
  });
});
