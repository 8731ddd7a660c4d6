import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { eventId } from '../../agent/model/event-ids';
import type { CanonicalEvent } from '../../agent/model/event';
import { externalId } from '../../agent/sync/operations/odoo-calls';
import { startOdooSim } from '../odoo-sim';
import { testRandom } from '../helpers/seed';

const dir = mkdtempSync(join(tmpdir(), 'drain-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const KEYS = 50;
const PER_KEY = 200;
const KILLS = 20;
const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');

function downtimeEvents(): CanonicalEvent[] {
  const out: CanonicalEvent[] = [];
  const t0 = Date.UTC(2026, 10, 1, 6, 0, 0);
  for (let i = 0; i < PER_KEY; i++) {
    for (let k = 0; k < KEYS; k++) {
      const at = t0 + (i * KEYS + k) * 1000;
      const iso = new Date(at).toISOString();
      out.push({
        id: eventId(at, 'crash', k, i),
        type: 'downtime.started',
        sequenceKey: `WC-${k}`,
        occurredAt: iso,
        receivedAt: iso,
        source: 'crash-test',
        payload: { downtimeId: `wc${k}-${i}`, workcenter: `WC ${k}`, reason: 'Material Availability' },
      });
    }
  }
  return out;
}

it('an agent SIGKILLed 20 times while draining 10,000 events over 50 keys leaves each in Odoo once, in order per key', { timeout: 300_000 }, async (t) => {
  const random = testRandom(t);
  const sim = await startOdooSim({ version: 19 });
  try {
    for (let k = 0; k < KEYS; k++) sim.state.create('mrp.workcenter', { name: `WC ${k}`, code: `WC${k}` });
    const existing = sim.state.count('mrp.workcenter.productivity');
    const dbPath = join(dir, 'outbox.db');
    const seed = new SqliteOutbox({ path: dbPath });
    const events = downtimeEvents();
    for (let i = 0; i < events.length; i += 1000) await seed.enqueue(events.slice(i, i + 1000));
    await seed.close();

    const config = join(dir, 'agent.yaml');
    writeFileSync(
      config,
      [
        'plant:',
        '  id: crash',
        `stateDir: ${dir}`,
        'outbox:',
        `  path: ${dbPath}`,
        'odoo:',
        `  url: ${sim.url}`,
        `  database: ${sim.db}`,
        '  apiKey: ${env:CRASH_ODOO_KEY}',
        'sync:',
        '  concurrency: 4',
        // Slow enough that the 20 kills all land while work remains (checked below).
        '  maxRequestsPerSecond: 40',
        '  batchSize: 10',
        '  backoff: { initialMs: 50, maxMs: 500 }',
        '  circuit: { failureThreshold: 50, probeIntervalMs: 100, maxProbeIntervalMs: 500 }',
        'http:',
        '  enabled: false',
        '',
      ].join('\n'),
    );
    const env = { ...process.env, CRASH_ODOO_KEY: sim.apiKey, EDGE_AGENT_LOG_LEVEL: 'warn' };
    const start = (): ChildProcess => spawn(process.execPath, [cli, 'run', '--config', config], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const loads = () => sim.calls({ model: 'mrp.workcenter.productivity', method: 'load' });
    // Read the counters without opening an outbox: an open would recover the running agent's claims.
    const check = (): Record<string, number> => {
      const db = new Database(dbPath, { readonly: true });
      try {
        return Object.fromEntries(
          (db.prepare('SELECT name, value FROM counters').all() as Array<{ name: string; value: number }>).map((r) => [r.name, r.value]),
        );
      } finally {
        db.close();
      }
    };

    for (let round = 0; round < KILLS; round++) {
      // Now and then Odoo commits a load and the answer is lost on the way back.
      if (round % 4 === 1) sim.faults.set({ kind: 'dropAfterCommit', calls: 1, model: 'mrp.workcenter.productivity', method: 'load' });
      const before = loads();
      const child = start();
      let gone = false;
      const exited = new Promise<void>((r) => child.once('exit', () => ((gone = true), r())));
      const deadline = Date.now() + 30_000;
      while (loads() === before && !gone && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(gone, false, 'the agent process ended by itself');
      await new Promise((r) => setTimeout(r, Math.floor(random() * 250)));
      child.kill('SIGKILL');
      await exited;
    }
    sim.faults.clear();
    const afterKills = check();
    assert.ok((afterKills.done ?? 0) < events.length / 2, `the kills must land while much remains to send (${JSON.stringify(afterKills)})`);

    // Last run: let it finish.
    const child = start();
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const deadline = Date.now() + 120_000;
    while ((check().done ?? 0) < events.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    await exited;

    const counts = check();
    assert.equal(counts.done, events.length, `every event delivered (${JSON.stringify(counts)})`);
    assert.equal(counts.parked, 0);
    const records = sim.state.records('mrp.workcenter.productivity');
    // Exactly once: one record per downtime, found through its external id.
    const ids: number[][] = Array.from({ length: KEYS }, () => []);
    for (const e of events) {
      const p = e.payload as { downtimeId: string };
      const rec = sim.state.byXmlid(externalId('edge_crash', 'downtime', p.downtimeId));
      assert.ok(rec, `record for ${p.downtimeId}`);
      ids[Number(e.sequenceKey.slice(3))]!.push(rec.id as number);
    }
    assert.equal(records.length - existing, events.length, `exactly ${events.length} new productivity records, found ${records.length - existing}`);
    for (let k = 0; k < KEYS; k++) {
      const seq = ids[k]!;
      assert.deepEqual(
        [...seq].sort((a, b) => a - b),
        seq,
        `work center ${k}: created in event order`,
      );
    }
  } finally {
    await sim.close();
  }
});
