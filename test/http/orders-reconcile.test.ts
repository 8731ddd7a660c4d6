import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMetrics } from '../../agent/http/metrics';
import { ordersSection, reconcileSection } from '../../agent/http/page-orders';
import type { AgentView } from '../../agent/runtime/view';
import type { OrderSyncView } from '../../agent/sync/order-view';
import type { StoredRun } from '../../agent/sync/reconcile/job';
import { Browser, startSite, type TestSite } from './helpers';

const now = Date.UTC(2026, 11, 7, 12, 0, 0);

const view: OrderSyncView = {
  at: now,
  odooReadAt: now - 5 * 60_000,
  counts: { 'in-sync': 1, pending: 0, parked: 0, differs: 1, unknown: 0 },
  orders: [
    {
      order: 'WH/MO/00001',
      verdict: 'differs',
      text: 'differs: produced 2 here, 7 in Odoo',
      plant: { done: 3, pending: 0, parked: 0, skipped: 0, produced: 2, completed: false, consumed: {}, scrapped: 0, lastDoneAt: now - 600_000 },
      odoo: {
        id: 1,
        name: 'WH/MO/00001',
        state: 'progress',
        product: 'Pump',
        productQty: 10,
        qtyProducing: 7,
        qtyProduced: 0,
        scrapped: 0,
        consumed: {},
        readAt: now - 300_000,
      },
      differences: [{ what: 'produced', plant: 2, odoo: 7 }],
    },
    {
      order: 'WH/MO/00002',
      verdict: 'in-sync',
      text: 'in sync',
      plant: { done: 1, pending: 0, parked: 0, skipped: 0, produced: 5, completed: false, consumed: {}, scrapped: 0, lastDoneAt: now - 600_000 },
      odoo: {
        id: 2,
        name: 'WH/MO/00002',
        state: 'progress',
        product: 'Valve',
        productQty: 50,
        qtyProducing: 5,
        qtyProduced: 0,
        scrapped: 0,
        consumed: {},
        readAt: now - 300_000,
      },
      differences: [],
    },
  ],
};

const run: StoredRun = {
  startedAt: now - 60_000,
  finishedAt: now - 50_000,
  result: {
    since: '2026-12-06T11:00:00.000Z',
    until: '2026-12-07T11:59:00.000Z',
    types: null,
    startedAt: '',
    finishedAt: '',
    checked: 120,
    requests: 4,
    by: 'schedule',
    byType: {
      'downtime.started': { checked: 100, ok: 99, missing: 1, duplicated: 0, differs: 0, unverifiable: 0 },
      'material.consumed': { checked: 20, ok: 19, missing: 0, duplicated: 0, differs: 1, unverifiable: 0 },
    },
    missing: [{ id: 'ev-gone', type: 'downtime.started', model: 'mrp.workcenter.productivity', recordId: 41, what: 'the downtime record is gone' }],
    duplicated: [],
    differs: [{ id: 'ev-edited', type: 'material.consumed', model: 'stock.move.line', recordId: 9, differences: [{ field: 'quantity', event: 4, odoo: 6 }] }],
    replayIds: ['ev-gone'],
  },
};

describe('status page: orders and reconciliation', () => {
  it('shows each order with its verdict and how old Odoo’s side is', () => {
    const html = ordersSection(view, now);
    assert.match(html, /<tr data-order="WH\/MO\/00001" data-verdict="differs">/);
    assert.match(html, /differs: produced 2 here, 7 in Odoo/);
    assert.match(html, /Odoo's side as read 5 min ago/);
    assert.equal(ordersSection(undefined, now), '');
  });

  it('shows the last reconciliation: counts, the differing events and the replay line', () => {
    const html = reconcileSection(run, now);
    assert.match(html, /<b>1<\/b> missing, <b>0<\/b> duplicated, <b>1<\/b> differing/);
    assert.match(html, /edge-agent outbox replay ev-gone/);
    assert.match(html, /ev-edited.*quantity: event 4, Odoo 6/);
    assert.equal(reconcileSection(undefined, now), '');
  });

  describe('metrics', () => {
    let site: TestSite;
    before(async () => {
      site = await startSite({ users: false });
    });
    after(() => site.close());

    it('gives orders per verdict and the last reconciliation per type and result', async () => {
      const agent: AgentView = { ...site.agent.view, orders: () => view, lastReconcile: () => run };
      const text = await createMetrics(agent, { defaultMetrics: false }).metrics();
      assert.match(text, /^edge_orders\{verdict="differs"\} 1$/m);
      assert.match(text, /^edge_orders\{verdict="in-sync"\} 1$/m);
      assert.match(text, /^edge_orders\{verdict="parked"\} 0$/m);
      assert.match(text, /^edge_reconcile_events\{type="downtime.started",result="missing"\} 1$/m);
      assert.match(text, /^edge_reconcile_events\{type="material.consumed",result="differs"\} 1$/m);
      assert.match(text, new RegExp(`^edge_reconcile_last_run_timestamp_seconds ${(now - 50_000) / 1000}$`, 'm'));
    });

    it('serves /api/orders and the page sections of a running agent', async () => {
      const b = new Browser(site.url);
      const res = await b.request('/api/orders');
      assert.equal(res.status, 200);
      const body = JSON.parse(res.body) as OrderSyncView;
      assert.deepEqual(body.orders, [], 'the site has no order events');
      assert.equal(body.odooReadAt, null);
      const page = await b.request('/');
      assert.match(page.body, /<section id="orders">/);
      assert.match(page.body, /No open orders with events from this plant/);
      const metrics = await b.request('/metrics');
      assert.match(metrics.body, /^edge_orders\{verdict="unknown"\} 0$/m);
      assert.match(metrics.body, /^edge_reconcile_last_run_timestamp_seconds 0$/m);
    });
  });
});
