/**
 * Reconciliation against Odoo: Odoo requests per 200 done events, for 100,000
 * delivered downtime events read back from the simulator (target <= 1), with
 * the same reconciliation reading one record per request as the baseline
 * (on a sample, since its count grows with the events). The records are put
 * straight into the simulator's tables; the reads go over HTTP as from a real agent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteOutbox } from '../agent/buffer/sqlite-outbox';
import type { CanonicalEvent } from '../agent/model/event';
import { reconcile, totals } from '../agent/sync/reconcile/reconcile';
import { odooDatetime } from '../agent/sync/operations/odoo-calls';
import { startOdooSim } from '../test/odoo-sim';
import { makeClient } from '../test/operations/harness';
import { figure, type Figure } from './figure';

const EVENTS = Number(process.env.BENCH_RECONCILE_EVENTS ?? 100_000);
const SAMPLE = 200;

export async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-reconcile-'));
  const sim = await startOdooSim({ version: 19 });
  const bot = makeClient(sim.url, sim.db, sim.login, sim.apiKey);
  const admin = makeClient(sim.url, sim.db, 'admin', sim.adminApiKey);
  const outbox = new SqliteOutbox({ path: join(dir, 'outbox.db'), synchronous: 'NORMAL', log: pino({ level: 'silent' }) });
  const sample = new SqliteOutbox({ path: join(dir, 'sample.db'), synchronous: 'NORMAL', log: pino({ level: 'silent' }) });
  try {
    await bot.connect();
    await admin.connect();
    const [wc] = await admin.call<Array<{ id: number }>>('mrp.workcenter', 'search_read', { kwargs: { domain: [['code', '=', 'CNC1']], fields: ['id'] } });
    const [loss] = await admin.call<Array<{ id: number }>>('mrp.workcenter.productivity.loss', 'search_read', {
      kwargs: { domain: [['name', '=', 'Material Availability']], fields: ['id'] },
    });
    // The records the events wrote, made in large loads; then the events, settled as done with their ids.
    // Recent times, 10 s apart: the agent holds events older than 30 days.
    const t0 = Date.now() - 12 * 86_400_000;
    const events: CanonicalEvent[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const at = new Date(t0 + i * 10_000).toISOString();
      events.push({
        id: `bench-stop-${i}`,
        type: 'downtime.started',
        sequenceKey: `workcenter:CNC1:${i}`,
        occurredAt: at,
        receivedAt: at,
        source: 'bench',
        payload: { downtimeId: `bench-${i}`, workcenter: 'CNC1', reason: 'Material Availability' },
      });
    }
    // Put straight into the simulator's tables (its create checks each new time log against all others).
    const db = sim.state.db;
    const ids = events.map((e) => {
      const id = db.newId('mrp.workcenter.productivity');
      db.put('mrp.workcenter.productivity', { id, workcenter_id: wc!.id, loss_id: loss!.id, date_start: odooDatetime(e.occurredAt), date_end: false });
      return id;
    });
    const idOf = new Map<string, number>(events.map((e, i) => [e.id, ids[i]!]));
    await fill(outbox, events, idOf);
    await fill(sample, events.slice(0, SAMPLE), idOf);

    const started = Date.now();
    const report = await reconcile(outbox.orderSync, bot, { since: 0, until: Date.now() + 1000, xmlidModule: 'edge_bench' });
    const seconds = (Date.now() - started) / 1000;
    const t = totals(report);
    if (t.ok !== EVENTS) throw new Error(`reconcile found ${t.ok} of ${EVENTS} as sent: ${JSON.stringify(t)}`);

    // Baseline: one record per request (the same reconciliation, one id per read), on a sample.
    const one = await reconcile(sample.orderSync, bot, { since: 0, until: Date.now() + 1000, idsPerCall: 1, pageSize: 1, xmlidModule: 'edge_bench' });
    const per200 = (r: { requests: number; checked: number }) => (r.requests / r.checked) * 200;
    return [
      figure(
        `reconcile: Odoo requests per 200 done events (${EVENTS} events)`,
        'requests',
        per200(report),
        per200(one),
        '<= 1 per 200 events',
        `${report.requests} requests for ${report.checked} events in ${seconds.toFixed(1)} s against the simulator; baseline: one record per request, ${one.checked} events`,
      ),
    ];
  } finally {
    await outbox.close();
    await sample.close();
    await bot.close();
    await admin.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Commit the events and settle them as done with the ids of their records. */
async function fill(outbox: SqliteOutbox, events: CanonicalEvent[], idOf: ReadonlyMap<string, number>): Promise<void> {
  for (let i = 0; i < events.length; i += 10_000) await outbox.enqueue(events.slice(i, i + 10_000));
  for (;;) {
    const claimed = outbox.claim(10_000);
    if (claimed.length === 0) break;
    outbox.settle(claimed.map((r) => ({ seq: r.seq, outcome: 'done' as const, odooIds: { 'mrp.workcenter.productivity': idOf.get(r.id)! } })));
  }
}
