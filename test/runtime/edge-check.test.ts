import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import pino from 'pino';
import { parseConfigText } from '../../agent/config/load';
import { startHttp } from '../../agent/http/server';
import type { Signal } from '../../agent/model/signal';
import { startAgent } from '../../agent/runtime/agent';
import { until } from '../helpers/until';
import { startOdooSim } from '../odoo-sim';

const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

let n = 0;
/** A MES message that the `event` rule turns into a downtime.started as it is. */
function stop(workcenter: string): Signal {
  n++;
  const t = new Date(Date.UTC(2026, 11, 7, 5, 0, n)).toISOString();
  return {
    source: 'mes',
    tag: 'mes/events',
    value: {
      id: `stop-${n}`,
      type: 'downtime.started',
      sequenceKey: workcenter,
      occurredAt: t,
      payload: { downtimeId: `d-${n}`, workcenter, reason: 'Material Availability' },
    },
    quality: 'good',
    sourceTime: t,
    receivedAt: t,
  };
}

it('flags a stop at a misspelled work center while Odoo is away (page, outbox list), sends the rest, and sends it once a person corrects it or Odoo knows the name', async () => {
  const sim = await startOdooSim({ version: 19 });
  const dir = mkdtempSync(join(tmpdir(), 'edge-check-'));
  process.env.EDGE_RT_ODOO_KEY = sim.apiKey;
  const yaml = [
    'plant: { id: edgecheck }',
    `stateDir: ${JSON.stringify(dir)}`,
    'http: { port: 0 }',
    'odoo:',
    `  url: ${sim.url}`,
    `  database: ${sim.db}`,
    '  apiKey: ${env:EDGE_RT_ODOO_KEY}',
    '  company: My Company',
    'sync: { backoff: { initialMs: 20, maxMs: 100 }, circuit: { probeIntervalMs: 100, maxProbeIntervalMs: 200, linkProbeIntervalMs: 100 } }',
    // The pull runs when the test says (and once at the start).
    "schedules: { masterData: '0 0 1 1 *' }",
    'sources:',
    '  - { name: mes, type: mqtt, url: "mqtt://127.0.0.1:1", subscriptions: [{ topic: "mes/#" }] }',
    'rules:',
    '  - { kind: event, name: mes-events, source: mes, tag: "mes/#" }',
    '',
  ].join('\n');
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, yaml);
  const agent = await startAgent(parseConfigText(yaml, file), { withoutSources: true, log: pino({ level: 'silent' }) });
  const http = await startHttp(agent, { port: 0, host: '127.0.0.1' });
  const logged = () => sim.state.count('mrp.workcenter.productivity');
  try {
    await until(() => agent.masterData.filled, 'the first master-data pull');
    const before = logged();
    sim.faults.set({ kind: 'refuse' });

    // Offline: the misspelled stop is flagged at once; the good one waits to be sent.
    const typo = stop('Asembly Line 1');
    const later = stop('Line 9');
    const good = stop('Assembly Line 1');
    await agent.pipeline.emit([typo, later, good]);
    const counts = agent.outbox.counts();
    assert.equal(counts.flagged, 2);
    assert.equal(counts.pending + counts.inflight, 1);
    await until(() => agent.worker!.status().circuit === 'open', 'Odoo seen away');
    const page = await get(`${http.url}/`);
    assert.match(page, /Flagged at the edge/);
    assert.match(page, /work center &quot;Asembly Line 1&quot; is not known in Odoo|work center "Asembly Line 1" is not known in Odoo/);
    const child = spawn(process.execPath, [cli, 'outbox', 'list', '--state', 'flagged', '--config', file], {
      env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, out);
    assert.match(out, /stop-\d+.*flagged.*work center "Asembly Line 1" is not known in Odoo/);
    assert.match(out, /work center "Line 9" is not known in Odoo/);

    // Back online: the good stop goes; the flagged ones were never sent.
    sim.faults.clear();
    await until(() => agent.outbox.counts().done === 1, 'the good stop delivered', 20_000);
    assert.equal(logged(), before + 1);

    // A person corrects the typo: it goes as corrected.
    const flagged = agent.outbox.list({ state: 'flagged' });
    const typoRecord = flagged.find((r) => (r.event.payload as { workcenter: string }).workcenter === 'Asembly Line 1')!;
    agent.actions.edit(typoRecord.id, 'workcenter', 'Assembly Line 1', 'test');
    await until(() => agent.outbox.counts().done === 2, 'the corrected stop delivered', 20_000);

    // Odoo gets a work center named "Line 9": the next pull releases the other one by itself.
    sim.state.create('mrp.workcenter', { name: 'Line 9' });
    await agent.schedules.run('masterData');
    await until(() => agent.outbox.counts().done === 3, 'the released stop delivered', 20_000);
    assert.equal(agent.outbox.counts().flagged, 0);
    assert.equal(logged(), before + 3);
    assert.ok(agent.outbox.listAudit(10).some((a) => a.action === 'release' && a.actor === 'agent'));
  } finally {
    sim.faults.clear();
    await http.close();
    await agent.stop();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
