import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { connect, type MqttClient } from 'mqtt';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { dropSession, startBroker, uniqueClientId, uniquePrefix } from '../helpers/broker';
import { downtimeStarted } from '../helpers/events';
import { startOdooSim } from '../odoo-sim';
import { withFile } from '../helpers/sqlite-file';
import { until } from '../helpers/until';

const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');
const dir = mkdtempSync(join(tmpdir(), 'reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(url: string, prefix: string, ids: { a: string; b: string }, opts: { withB: boolean; aWindow?: number; outbox?: string }): string {
  const source = (name: string, topic: string, id: string, extra = '') =>
    `  - { name: ${name}, type: mqtt, url: "${url}", clientId: ${id}, subscriptions: [{ topic: "${topic}" }]${extra} }`;
  const rule = (name: string, src: string, topic: string) => `  - { kind: event, name: ${name}, source: ${src}, tag: "${topic}" }`;
  return [
    'plant: { id: reload }',
    `stateDir: ${JSON.stringify(dir)}`,
    `outbox: { path: ${opts.outbox ?? 'outbox.db'} }`,
    'http: { enabled: false }',
    'sources:',
    source('line-a', `${prefix}/a/#`, ids.a, opts.aWindow ? `, maxInflight: ${opts.aWindow}` : ''),
    ...(opts.withB ? [source('line-b', `${prefix}/b/#`, ids.b)] : []),
    'rules:',
    rule('a-events', 'line-a', `${prefix}/a/#`),
    ...(opts.withB ? [rule('b-events', 'line-b', `${prefix}/b/#`)] : []),
    '',
  ].join('\n');
}

const message = (line: string, i: number) =>
  JSON.stringify({
    id: `${line}-${i}`,
    type: 'downtime.started',
    sequenceKey: `Press ${line}`,
    occurredAt: new Date(Date.UTC(2026, 10, 26, 8) + i * 1000).toISOString(),
    payload: { downtimeId: `${line}-${i}`, workcenter: `Press ${line}`, reason: 'Material shortage' },
  });

function publishAll(client: MqttClient, topic: string, line: string, from: number, to: number): Promise<void> {
  return Promise.all(
    Array.from(
      { length: to - from },
      (_, k) => new Promise<void>((res, rej) => client.publish(topic, message(line, from + k), { qos: 1 }, (e) => (e ? rej(e) : res()))),
    ),
  ).then(() => undefined);
}

it(
  'SIGHUP applies a new config (a source added, one changed) without losing or doubling an event, and refuses an invalid or restart-only one, keeping the running config',
  { timeout: 120_000 },
  async () => {
    const broker = await startBroker();
    const prefix = uniquePrefix('reload');
    const ids = { a: uniqueClientId('reload-a'), b: uniqueClientId('reload-b') };
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, config(broker.url, prefix, ids, { withB: false }));
    const agent = spawn(process.execPath, [cli, 'run', '--config', file], {
      env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const logs: Array<{ msg?: string; level?: number; source?: string }> = [];
    let buffered = '';
    agent.stdout!.on('data', (b: Buffer) => {
      buffered += b.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) if (l.trim()) logs.push(JSON.parse(l) as { msg?: string; level?: number; source?: string });
    });
    const logged = (re: RegExp, source?: string) => logs.some((l) => re.test(l.msg ?? '') && (!source || l.source === source));
    const mes = connect(broker.url, { clientId: uniqueClientId('reload-mes') });
    try {
      await new Promise<void>((resolve) => mes.once('connect', () => resolve()));
      await until(() => logged(/mqtt: subscribed/, 'line-a'), 'line-a subscribed', 20_000);
      await publishAll(mes, `${prefix}/a/events`, 'a', 0, 100);

      // Line b is added and line a changes (a new inflight window): a is restarted while messages keep coming.
      writeFileSync(file, config(broker.url, prefix, ids, { withB: true, aWindow: 500 }));
      agent.kill('SIGHUP');
      const during = publishAll(mes, `${prefix}/a/events`, 'a', 100, 300);
      await until(() => logged(/configuration reloaded/), 'the reload applied', 20_000);
      await until(() => logged(/mqtt: subscribed/, 'line-b'), 'line-b subscribed', 20_000);
      await during;
      await publishAll(mes, `${prefix}/b/events`, 'b', 0, 50);

      // An invalid file, then a restart-only change: both refused, the agent runs on with what it has.
      writeFileSync(file, 'plant: { id: reload\nsources: [');
      agent.kill('SIGHUP');
      await until(() => logged(/the new configuration is invalid; the running one stays/), 'an invalid file refused', 20_000);
      writeFileSync(file, config(broker.url, prefix, ids, { withB: true, aWindow: 500, outbox: 'other.db' }));
      agent.kill('SIGHUP');
      await until(() => logged(/outbox change only with a restart/), 'a restart-only change refused', 20_000);
      assert.equal(agent.exitCode, null, 'still running');
      await publishAll(mes, `${prefix}/b/events`, 'b', 50, 100);

      const stored = () => withFile(join(dir, 'outbox.db'), (db) => (db.prepare(`SELECT count(*) AS n FROM events`).get() as { n: number }).n);
      await until(() => stored() >= 400, 'every message stored', 30_000).catch((err: Error) => {
        throw new Error(`${err.message} (${stored()} stored)`);
      });
      agent.kill('SIGTERM');
      const [code] = (await once(agent, 'exit')) as [number | null];
      assert.equal(code, 0);
      const rows = withFile(join(dir, 'outbox.db'), (db) => db.prepare(`SELECT id FROM events`).all() as Array<{ id: string }>);
      const got = new Set(rows.map((r) => r.id));
      assert.equal(rows.length, got.size, 'no event twice');
      const missing = [...Array.from({ length: 300 }, (_, i) => `a-${i}`), ...Array.from({ length: 100 }, (_, i) => `b-${i}`)].filter((id) => !got.has(id));
      assert.deepEqual(missing, [], 'every message published before, during and after the reload is stored');
      assert.ok(!logs.some((l) => (l.level ?? 0) >= 50 && !/new configuration/.test(l.msg ?? '')), 'no other error logged');
    } finally {
      if (agent.exitCode === null) agent.kill('SIGKILL');
      await new Promise<void>((r) => mes.end(false, {}, () => r()));
      await dropSession(broker.url, ids.a);
      await dropSession(broker.url, ids.b);
      await broker.close();
    }
  },
);

it('a rotated API key in the credential file is taken on the next refusal, without a restart or a reload', { timeout: 60_000 }, async () => {
  const sim = await startOdooSim({ version: 19 });
  const keyFile = join(dir, 'odoo-api-key');
  writeFileSync(keyFile, 'an-old-revoked-key\n');
  const file = join(dir, 'rotate.yaml');
  const outbox = join(dir, 'rotate.db');
  writeFileSync(
    file,
    [
      'plant: { id: rotate }',
      `stateDir: ${JSON.stringify(dir)}`,
      `outbox: { path: ${JSON.stringify(outbox)} }`,
      'http: { enabled: false }',
      `odoo: { url: "${sim.url}", database: ${sim.db}, apiKey: "\${file:${keyFile}}" }`,
      'sync: { circuit: { probeIntervalMs: 200, maxProbeIntervalMs: 500 } }',
      '',
    ].join('\n'),
  );
  const seed = new SqliteOutbox({ path: outbox });
  await seed.enqueue([downtimeStarted('rotate-test', 'Assembly Line 1', 'rot-1', 'Assembly Line 1', Date.UTC(2026, 10, 26, 8))]);
  await seed.close();
  const before = sim.state.count('mrp.workcenter.productivity');
  const agent = spawn(process.execPath, [cli, 'run', '--config', file], { env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' }, stdio: 'ignore' });
  try {
    await until(() => sim.requests.some((r) => r.status === 401), 'Odoo refused the old key', 20_000);
    writeFileSync(keyFile, `${sim.apiKey}\n`);
    await until(() => sim.state.count('mrp.workcenter.productivity') > before, 'the event delivered with the new key', 20_000);
    assert.equal(agent.exitCode, null, 'no restart');
  } finally {
    agent.kill('SIGTERM');
    await once(agent, 'exit');
    await sim.close();
  }
});
