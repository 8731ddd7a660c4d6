import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteOutbox } from '../agent/buffer/sqlite-outbox';
import { createOdooClient } from '../agent/odoo/client';
import { odooConfigSchema } from '../agent/odoo/config';
import { releaseConfigSchema } from '../agent/release/config';
import { ReleaseFollower } from '../agent/release/follower';
import { startBroker, uniquePrefix } from '../test/helpers/broker';
import { until } from '../test/helpers/until';
import { startOdooSim } from '../test/odoo-sim';
import { confirmOrder, startReleaseAgent, Watcher } from '../test/release/helpers';
import { figure, median, percentile, type Figure } from './figure';

/**
 * Order release.
 *
 * 1. An incremental poll of BENCH_RELEASE_ORDERS (default 10,000) open
 *    orders when nothing changed, against a full read of the same orders, in
 *    the same run on the same simulator (target: <= 0.1 of the full read).
 *    The orders were written an hour before (outside the overlap window).
 * 2. Release latency: an order confirmed in Odoo until its message reaches a
 *    subscriber on the broker, with a 1 s poll (target: <= poll + 1 s, p95 of
 *    BENCH_RELEASE_CHANGES changes, default 10).
 */

const ORDERS = Number(process.env.BENCH_RELEASE_ORDERS ?? 10_000);
const CHANGES = Number(process.env.BENCH_RELEASE_CHANGES ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

export async function run(): Promise<Figure[]> {
  return [...(await pollCost()), await latency()];
}

async function pollCost(): Promise<Figure[]> {
  let offset = -3600_000;
  const sim = await startOdooSim({ version: 19, clock: () => new Date(Date.now() + offset) });
  const dir = mkdtempSync(join(tmpdir(), 'bench-release-'));
  process.env.BENCH_RELEASE_KEY = sim.apiKey;
  const client = createOdooClient(odooConfigSchema.parse({ url: sim.url, database: sim.db, apiKey: '${env:BENCH_RELEASE_KEY}' }), pino({ level: 'silent' }));
  try {
    seedOrders(sim, ORDERS);
    offset = 0;
    await client.connect();
    const config = releaseConfigSchema.parse({ company: 'My Company', pageSize: 500 });
    const fulls: number[] = [];
    const incrementals: number[] = [];
    let requests = { full: 0, incremental: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const outbox = new SqliteOutbox({ path: join(dir, `round-${r}.db`), synchronous: 'NORMAL' });
      const follower = new ReleaseFollower(config, outbox.release);
      let t = performance.now();
      const full = await follower.read(client, 'full');
      fulls.push(performance.now() - t);
      if (full.changed.length < ORDERS) throw new Error(`the full read found ${full.changed.length} orders, not ${ORDERS}`);
      t = performance.now();
      const inc = await follower.read(client, 'incremental');
      incrementals.push(performance.now() - t);
      if (inc.changed.length || inc.removed.length) throw new Error('nothing changed, yet the incremental poll saw changes');
      requests = { full: full.requests, incremental: inc.requests };
      await outbox.close();
    }
    return [
      figure(
        'release.incremental_poll_vs_full_read',
        'ms',
        median(incrementals),
        median(fulls),
        'ratio <= 0.1',
        `${ORDERS} open orders, nothing changed; requests ${requests.incremental} vs ${requests.full}; medians of ${ROUNDS}`,
      ),
      figure('release.incremental_poll_requests_vs_full_read', 'requests', requests.incremental, requests.full, 'ratio <= 0.1', `${ORDERS} open orders`),
    ];
  } finally {
    await client.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Orders confirmed straight in the simulator's tables (one work order, two components each): quicker than action_confirm for thousands. */
function seedOrders(sim: Awaited<ReturnType<typeof startOdooSim>>, n: number): void {
  const s = sim.state;
  const product = s.ref('plant.product_gear_pump');
  const steel = s.ref('plant.product_steel_bar');
  const bolt = s.ref('plant.product_bolt_m8');
  const wc = s.ref('plant.wc_assembly');
  const stock = s.records('stock.location', [['usage', '=', 'internal']])[0]!.id;
  const prod = s.records('stock.location', [['usage', '=', 'production']])[0]!.id;
  s.db.transaction(() => {
    const env = s.env();
    for (let i = 0; i < n; i++) {
      const mo = env.create('mrp.production', { name: `BENCH/MO/${i}`, product_id: product, product_qty: 1 + (i % 7), state: 'confirmed' });
      env.create('mrp.workorder', { name: 'Assembly', production_id: mo, workcenter_id: wc, state: 'ready' });
      for (const p of [steel, bolt])
        env.create('stock.move', {
          product_id: p,
          product_uom_qty: 2,
          raw_material_production_id: mo,
          location_id: stock,
          location_dest_id: prod,
          state: 'confirmed',
        });
    }
  });
}

async function latency(): Promise<Figure> {
  const sim = await startOdooSim({ version: 19 });
  const broker = await startBroker();
  const prefix = uniquePrefix('bench-release');
  const watch = await Watcher.open(broker.url, [`${prefix}/orders/#`]);
  const site = await startReleaseAgent(sim, broker.url, prefix);
  const pollMs = site.agent.config.release!.pollSeconds * 1000;
  const took: number[] = [];
  try {
    for (let i = 0; i < CHANGES; i++) {
      // Changes land at any point of the poll cycle.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * pollMs)));
      const t = Date.now();
      const mo = confirmOrder(sim);
      const topic = `${prefix}/orders/${mo.name}`;
      await until(() => watch.last.has(topic), `${mo.name} published`, 30_000, 2);
      took.push(watch.last.get(topic)!.at - t);
    }
  } finally {
    await site.close();
    await watch.close();
    await broker.close();
    await sim.close();
  }
  return figure(
    'release.latency_odoo_change_to_mqtt_p95',
    'ms',
    percentile(took, 95),
    pollMs + 1000,
    'ratio <= 1 (poll interval + 1 s)',
    `${CHANGES} orders confirmed at random points of a ${pollMs} ms poll; median ${median(took)} ms (broker ${broker.kind})`,
  );
}
