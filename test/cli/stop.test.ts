import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { startBroker, uniqueClientId, uniquePrefix } from '../helpers/broker';
import { until } from '../helpers/until';
import { startOdooSim } from '../odoo-sim';

const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');

it('a normal stop (SIGTERM) logged a warning ("mqtt: connection closed"): it logs none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stop-'));
  const sim = await startOdooSim({ version: 19 });
  const broker = await startBroker();
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    [
      'plant: { id: clean_stop }',
      `stateDir: ${JSON.stringify(dir)}`,
      'http: { port: 0 }',
      'sources:',
      '  - name: mes',
      '    type: mqtt',
      `    url: ${broker.url}`,
      `    clientId: ${uniqueClientId('stop')}`,
      '    clean: true',
      `    subscriptions: [{ topic: "${uniquePrefix('stop')}/#" }]`,
      'odoo:',
      `  url: ${sim.url}`,
      `  database: ${sim.db}`,
      `  username: ${sim.login}`,
      '  apiKey: ${env:STOP_TEST_ODOO_KEY}',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [cli, 'run', '--config', file], { env: { ...process.env, STOP_TEST_ODOO_KEY: sim.apiKey } });
  const lines: string[] = [];
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const parts = (rest + d).split('\n');
    rest = parts.pop()!;
    lines.push(...parts.filter((l) => l !== ''));
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => lines.push(d));
  try {
    const said = (msg: string) => lines.some((l) => l.includes(msg));
    await until(() => said('mqtt: subscribed') && said('Odoo answers') && said('status page on'), 'the agent up, its source and Odoo connected', 30_000);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.ok(said('agent stopped'), lines.join('\n'));
    const loud = lines.filter((l) => !/^\{"level":(10|20|30),/.test(l));
    assert.deepEqual(loud, [], 'nothing above info (and nothing on stderr) on a normal stop');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await broker.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
