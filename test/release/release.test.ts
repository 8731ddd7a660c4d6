/**
 * Order release against the Odoo simulator and a real MQTT broker (Mosquitto
 * when it runs): orders confirmed in Odoo appear retained on their topics
 * within one poll, leave with an empty retained message, survive a restart
 * with Odoo down (with their age), feed the rules' current order; bad input
 * is kept and counted while the release goes on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatLive } from '../../agent/cli/status';
import { releaseSection } from '../../agent/http/release-section';
import { startBroker, uniquePrefix, type TestBroker } from '../helpers/broker';
import { until } from '../helpers/until';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { clearRetained, confirmOrder, publishRaw, startReleaseAgent, Watcher, type ReleaseSite } from './helpers';

describe('order release (simulator + broker)', () => {
  let sim: OdooSim;
  let broker: TestBroker;
  let site: ReleaseSite;
  let watch: Watcher;
  const prefix = uniquePrefix('release');
  const orderTopic = (name: string) => `${prefix}/orders/${name}`;
  const queueTopic = (wc: string) => `${prefix}/${wc}/orders`;

  before(async () => {
    sim = await startOdooSim({ version: 19 });
    broker = await startBroker();
    watch = await Watcher.open(broker.url, [`${prefix}/#`]);
    site = await startReleaseAgent(sim, broker.url, prefix);
  });
  after(async () => {
    await site?.close();
    if (watch) await clearRetained(broker.url, watch);
    await watch?.close();
    await broker?.close();
    await sim?.close();
  });

  it('publishes the open orders retained, per order and per work center, with version and asOf', async () => {
    await until(() => watch.json(orderTopic('WH/MO/00001')) !== undefined, 'WH/MO/00001 on its topic');
    const msg = watch.json(orderTopic('WH/MO/00001'))!;
    assert.equal(msg.schema, 'edge-agent.order/1');
    assert.equal(msg.plant, 'rel_test');
    const order = msg.order as {
      name: string;
      state: string;
      quantity: number;
      product: { code: string; tracking: string };
      components: Array<{ product: { code: string; tracking: string } }>;
      workorders: Array<{ workcenter: string }>;
    };
    assert.equal(order.state, 'confirmed');
    assert.equal(order.quantity, 10);
    assert.equal(order.product.code, 'FG-100');
    assert.ok(
      order.components.some((c) => c.product.tracking === 'lot'),
      'components carry their tracking',
    );
    assert.deepEqual(
      order.workorders.map((w) => w.workcenter),
      ['CNC Machining', 'Assembly Line 1', 'Test Bench'],
    );
    const version = msg.version as { id: number; writeDate: string };
    assert.equal(version.id, sim.state.ref('plant.mo_pump_1'));
    assert.match(version.writeDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Date.parse(String(msg.asOf)) > 0);
    await until(() => watch.json(queueTopic('CNC Machining')) !== undefined, 'the CNC queue');
    const queue = watch.json(queueTopic('CNC Machining'))! as { schema: string; orders: Array<{ name: string }> };
    assert.equal(queue.schema, 'edge-agent.queue/1');
    assert.deepEqual(queue.orders.map((o) => o.name).sort(), ['WH/MO/00001', 'WH/MO/00003']);
    assert.ok(watch.last.get(orderTopic('WH/MO/00002')), 'the valve order too');
  });

  it('an order confirmed in Odoo appears within one poll; cancelled, its topic is emptied and it leaves its queues', async () => {
    const polls = () => site.agent.release!.status().polls.incremental;
    const before = polls();
    const mo = confirmOrder(sim);
    await until(() => watch.json(orderTopic(mo.name)) !== undefined, `${mo.name} on its topic`);
    // The poll under way when the order was confirmed may have missed it; the next one did not.
    assert.ok(polls() <= before + 2, `published after ${polls() - before} polls`);
    await until(
      () => ((watch.json(queueTopic('Assembly Line 1'))?.orders ?? []) as Array<{ name: string }>).some((o) => o.name === mo.name),
      'the order in the assembly queue',
    );

    sim.state.db.transaction(() => sim.state.call('mrp.production', 'action_cancel', { ids: [mo.id] }));
    await until(() => watch.last.get(orderTopic(mo.name))?.payload === '', `${mo.name} emptied`);
    await until(
      () => !((watch.json(queueTopic('Assembly Line 1'))?.orders ?? []) as Array<{ name: string }>).some((o) => o.name === mo.name),
      'the order out of the queue',
    );
    // The broker keeps nothing for it: a newcomer sees no message.
    const newcomer = await Watcher.open(broker.url, [orderTopic(mo.name)]);
    await until(() => newcomer.last.has(orderTopic('WH/MO/00001')) || true, 'subscribed');
    await publishRaw(broker.url, `${prefix}/marker`, 'x', false);
    assert.equal(newcomer.last.get(orderTopic(mo.name)), undefined);
    await newcomer.close();
  });

  it('the line acknowledges an order; an unknown one and foreign content are kept and counted, and the release goes on', async () => {
    const release = site.agent.release!;
    await publishRaw(broker.url, `${prefix}/ack`, JSON.stringify({ order: 'WH/MO/00002', by: 'mes-1' }), false);
    await until(() => release.status().acks.received === 1, 'the acknowledgement');
    const asm = release.status().workcenters.find((w) => w.name === 'Assembly Line 1')!;
    assert.ok(asm.queue >= 1);
    await publishRaw(broker.url, `${prefix}/ack`, JSON.stringify({ order: 'WH/MO/99999' }), false);
    await publishRaw(broker.url, `${prefix}/ack`, 'not json', false);
    await until(() => (release.status().problems.counts['unknown-ack'] ?? 0) === 1, 'the unknown acknowledgement counted');
    await until(() => (release.status().problems.counts['bad-ack'] ?? 0) === 1, 'the bad acknowledgement counted');
    const unknown = release.status().problems.latest.find((p) => p.kind === 'unknown-ack')!;
    assert.equal(unknown.subject, 'WH/MO/99999');
    assert.match(unknown.raw ?? '', /99999/);

    // An order of this plant with a work order at a work center the plant does not list (Test Bench).
    assert.ok((release.status().problems.counts['unknown-workcenter'] ?? 0) >= 1);
    assert.match(release.status().problems.latest.find((p) => p.kind === 'unknown-workcenter')!.detail, /Test Bench/);

    // Foreign content on one of the release's topics: kept, counted, and the release's message put back.
    await publishRaw(broker.url, orderTopic('WH/MO/00001'), '{"hello": "from elsewhere"}', true);
    await until(() => (release.status().problems.counts['foreign-content'] ?? 0) === 1, 'foreign content counted');
    await until(() => watch.json(orderTopic('WH/MO/00001'))?.schema === 'edge-agent.order/1', 'the release message back on its topic');
    const foreign = release.status().problems.latest.find((p) => p.kind === 'foreign-content')!;
    assert.equal(foreign.subject, orderTopic('WH/MO/00001'));
    assert.equal(foreign.raw, '{"hello": "from elsewhere"}');
    // Left there while the agent was away: found in the retained messages at the next start.
    await site.agent.stop();
    await publishRaw(broker.url, orderTopic('WH/MO/00002'), 'garbage', true);
    await site.restart();
    await until(() => (site.agent.release!.status().problems.counts['foreign-content'] ?? 0) === 2, 'foreign content left while away counted');
    await until(() => watch.json(orderTopic('WH/MO/00002'))?.schema === 'edge-agent.order/1', 'the release message back on WH/MO/00002');
    // The release goes on.
    const mo = confirmOrder(sim);
    await until(() => watch.json(orderTopic(mo.name)) !== undefined, `${mo.name} published after the bad input`);
  });

  it('a work order in progress in Odoo becomes the line’s current order; a later tag wins, and counts go to it', async () => {
    const agent = site.agent;
    const moId = sim.state.ref('plant.mo_pump_2');
    const wo = sim.state.records('mrp.workorder', [['production_id', '=', moId]]).find((w) => w.workcenter_id === sim.state.ref('plant.wc_cnc'))!;
    sim.state.db.transaction(() => sim.state.call('mrp.workorder', 'button_start', { ids: [wo.id] }));
    await until(() => agent.pipeline.currentOrderClaim('CNC Machining')?.production === 'WH/MO/00003', 'the release’s claim');
    assert.equal(agent.pipeline.currentOrderClaim('CNC Machining')!.by, 'release');
    const later = new Date(Date.now() + 5000).toISOString();
    const signal = (tag: string, value: string | number, at: string) => ({
      source: 'plc',
      tag,
      value,
      quality: 'good' as const,
      sourceTime: at,
      receivedAt: at,
    });
    await agent.pipeline.emit([signal('plc/order', 'WH/MO/00001', later)]);
    assert.equal(agent.pipeline.currentOrderClaim('CNC Machining')!.by, 'rule:cnc-order');
    await agent.pipeline.emit([signal('plc/count', 0, later), signal('plc/count', 4, new Date(Date.now() + 6000).toISOString())]);
    const produced = agent.outbox.list({}).filter((r) => r.type === 'production.reported');
    assert.ok(produced.length >= 1);
    assert.equal((produced.at(-1)!.event.payload as { production: string }).production, 'WH/MO/00001');
  });

  it('restarted with Odoo down, the agent serves the list it had, with its age', async () => {
    const had = site.agent.release!.orders().length;
    await site.agent.stop();
    await clearRetained(broker.url, watch);
    watch.last.clear();
    sim.faults.set({ kind: 'refuse' });
    try {
      await site.restart();
      const release = site.agent.release!;
      await until(() => !release.status().odoo.reachable, 'Odoo seen unreachable');
      assert.equal(release.orders().length, had);
      await until(() => watch.json(orderTopic('WH/MO/00001'))?.schema === 'edge-agent.order/1', 'WH/MO/00001 republished from SQLite');
      await until(() => watch.json(`${prefix}/release`)?.odoo === 'unreachable', 'the release status says Odoo is unreachable');
      const status = watch.json(`${prefix}/release`)!;
      assert.ok(Date.parse(String(status.asOf)) < Date.now(), 'asOf: when Odoo was last read');
      assert.equal(status.orders, had);
      assert.ok(release.status().asOf! <= Date.now());
      const page = releaseSection(release.status(), Date.now());
      assert.match(page, /Odoo unreachable/);
      assert.match(page, /as of .* ago|as of/);
      assert.match(page, /unknown work center/, 'problems counted on the page');
      // `edge-agent status` says the same in lines.
      const text = formatLive({ release: release.status() }, Date.now());
      assert.match(text, new RegExp(`^release: ${had} open orders as of .* ago\\); Odoo unreachable since .*, the list is kept`, 'm'));
      assert.match(text, /^release CNC Machining: \d+ in queue, current (WH\/MO\/\d+|none)/m);
      assert.match(text, /^release Assembly Line 1: \d+ in queue/m);
    } finally {
      sim.faults.clear();
    }
    await until(() => site.agent.release!.status().odoo.reachable, 'Odoo back', 30_000);
  });
});
