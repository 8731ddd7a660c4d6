import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { CanonicalEvent } from '../../agent/model/event';
import { randomEventId } from '../../agent/model/event-ids';
import { createOperationRegistry } from '../../agent/sync/operations/index';
import { SyncWorker } from '../../agent/sync/worker';
import { testSyncConfig } from '../helpers/sync';
import { until } from '../helpers/until';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { makeClient } from '../operations/harness';

const dir = mkdtempSync(join(tmpdir(), 'reconcile-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');
const log = pino({ level: 'silent' });

/** Run the CLI (asynchronously: the simulator answers from this process). */
function run(config: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args, '--config', config], { env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function writeConfig(name: string, url: string, apiKeyEnv: string): string {
  const file = join(dir, `${name}.yaml`);
  // http port 1: no agent answers there, so `orders` reads the file.
  writeFileSync(file, `plant:\n  id: rc\nstateDir: ${dir}\nhttp:\n  port: 1\nodoo:\n  url: ${url}\n  database: odoo\n  apiKey: \${env:${apiKeyEnv}}\n`);
  return file;
}

describe('edge-agent reconcile and orders', () => {
  let sim: OdooSim;
  let config: string;
  const stop: CanonicalEvent = {
    id: randomEventId(),
    type: 'downtime.started',
    sequenceKey: 'workcenter:CNC1',
    occurredAt: '2026-11-26T08:00:00Z',
    receivedAt: '2026-11-26T08:00:00Z',
    source: 'test',
    payload: { downtimeId: 'cli-stop', workcenter: 'CNC1', reason: 'Material Availability' },
  };

  before(async () => {
    sim = await startOdooSim({ version: 19, db: 'odoo' });
    process.env.EDGE_RC_TEST_KEY = sim.apiKey;
    config = writeConfig('agent', sim.url, 'EDGE_RC_TEST_KEY');
    const outbox = new SqliteOutbox({ path: join(dir, 'outbox.db'), log });
    const bot = makeClient(sim.url, sim.db, sim.login, sim.apiKey);
    await outbox.enqueue([stop]);
    const worker = new SyncWorker({ outbox, client: bot, operations: createOperationRegistry(), config: testSyncConfig(), xmlidModule: 'edge_rc', log });
    worker.start();
    await until(() => outbox.counts().done === 1, 'the stop delivered');
    await worker.stop();
    await outbox.close();
    await bot.close();
  });
  after(() => sim.close());

  it('refuses a window that does not parse, one that ends before it starts, and an unknown type, before asking Odoo', async () => {
    const calls = sim.calls();
    const bad = await run(config, 'reconcile', '--since', 'yesterday');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--since: "yesterday" is not a time \(ISO 8601/);
    const until = await run(config, 'reconcile', '--until', '2026-13-45T00:00:00Z');
    assert.equal(until.code, 2);
    assert.match(until.err, /--until: "2026-13-45T00:00:00Z" is not a time/);
    const reversed = await run(config, 'reconcile', '--since', '2026-12-01', '--until', '2026-11-01');
    assert.equal(reversed.code, 2);
    assert.match(reversed.err, /--since \(2026-12-01T00:00:00.000Z\) is after --until/);
    const type = await run(config, 'reconcile', '--type', 'downtime.started,downtime.sideways');
    assert.equal(type.code, 2);
    assert.match(type.err, /unknown event type "downtime.sideways" \(types: production.reported/);
    assert.equal(sim.calls(), calls, 'Odoo was not asked');
  });

  it('says when Odoo does not answer (69)', async () => {
    const away = writeConfig('away', 'http://127.0.0.1:1', 'EDGE_RC_TEST_KEY');
    const r = await run(away, 'reconcile');
    assert.equal(r.code, 69, r.err);
    assert.match(r.err, /cannot reach Odoo at http:\/\/127.0.0.1:1/);
  });

  it('exits 0 when all is found, 3 with the replay line when a record is gone, and the line re-sends it', async () => {
    const ok = await run(config, 'reconcile', '--since', '2020-01-01', '--json');
    assert.equal(ok.code, 0, ok.err);
    const report = JSON.parse(ok.out) as { checked: number; totals: { ok: number }; replay: string | null };
    assert.equal(report.checked, 1);
    assert.equal(report.totals.ok, 1);
    assert.equal(report.replay, null);

    const admin = makeClient(sim.url, sim.db, 'admin', sim.adminApiKey);
    const [row] = await admin.call<Array<{ id: number }>>('mrp.workcenter.productivity', 'search_read', {
      kwargs: { domain: [['date_start', '=', '2026-11-26 08:00:00']], fields: ['id'] },
    });
    await admin.call('mrp.workcenter.productivity', 'unlink', { ids: [row!.id] });
    await admin.close();

    const gone = await run(config, 'reconcile', '--since', '2020-01-01');
    assert.equal(gone.code, 3, gone.err);
    assert.match(gone.out, /1 missing/);
    const line = `edge-agent outbox replay --config ${config} ${stop.id}`;
    assert.ok(gone.out.includes(line), gone.out);

    const replay = await run(config, 'outbox', 'replay', stop.id);
    assert.equal(replay.code, 0, replay.err);
    assert.match(replay.out, /1 delivered events will be sent again/);
  });

  it('shows the orders view from the file when no agent runs', async () => {
    const r = await run(config, 'orders');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /agent not running: from the outbox file; Odoo's side never read/);
    assert.match(r.out, /no open orders with events from this plant/);
  });
});
