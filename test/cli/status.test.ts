import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { formatLive } from '../../agent/cli/status';
import { parseConfigText } from '../../agent/config/load';
import { startHttp } from '../../agent/http/server';
import { startAgent } from '../../agent/runtime/agent';
import type { SyncStatus } from '../../agent/sync/worker';
import { downtimeStarted } from '../helpers/events';
import { until } from '../helpers/until';
import { startOdooSim } from '../odoo-sim';
import { startTcpProxy } from '../protocols/opcua/tcp-proxy';

const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');
const now = Date.UTC(2026, 11, 7, 10, 45, 29);

function sync(over: Partial<SyncStatus> = {}): SyncStatus {
  return {
    running: true,
    circuit: 'closed',
    circuitOpenedAt: null,
    server: { major: 19, serverVersion: '19.0', protocol: 'json2' },
    lastSuccessAt: now - 2000,
    lastError: null,
    sent: 10,
    parked: 0,
    retried: 0,
    requests: 3,
    inFlight: 0,
    ...over,
  };
}

/** /api/status as the agent answers it (JSON: times in ms in `odoo`, ISO elsewhere). */
function apiStatus(odoo: SyncStatus | null, pending: number, oldestAgoMs: number | null): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({
      running: true,
      startedAt: new Date(now - 3600_000).toISOString(),
      outbox: {
        pending,
        inflight: 0,
        retrying: 0,
        parked: 0,
        done: 5,
        skipped: 0,
        duplicates: 0,
        invalid: 0,
        unfinished: pending,
        oldestUnfinishedAt: oldestAgoMs === null ? null : new Date(now - oldestAgoMs).toISOString(),
      },
      odoo,
      sources: [],
      flows: [],
    }),
  ) as Record<string, unknown>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('edge-agent status', () => {
  it('said only "odoo: down (open)": it says since when Odoo is down and how old the oldest waiting event is, as the page does', () => {
    const down = sync({ circuit: 'open', circuitOpenedAt: now - 192_000, lastError: { message: 'connect ECONNREFUSED 127.0.0.1:8069', at: now - 500 } });
    const text = formatLive(apiStatus(down, 379, 210_000), now);
    assert.match(text, /^odoo: Odoo DOWN since \d\d:\d\d:\d\d \(3 min\)\. .*Last error: connect ECONNREFUSED 127\.0\.0\.1:8069$/m);
    assert.match(text, /^waiting: 379 events wait to be sent, the oldest since \d\d:\d\d:\d\d \(3 min\)\.$/m);
    assert.match(text, /^outbox: pending 379,/m);
  });

  it("names each measured clock's offset, and the ones past clocks.warnOffsetS", () => {
    const status = {
      ...apiStatus(sync(), 0, null),
      clocks: {
        warnOffsetMs: 5000,
        gatewayStamped: ['scale'],
        readings: [
          { name: 'odoo', kind: 'odoo', offsetMs: 2400, uncertaintyMs: 300, samples: 9, warning: false },
          { name: 'press-plc', kind: 'source', offsetMs: -12_000, uncertaintyMs: 0, samples: 40, warning: true },
        ],
      },
    };
    const text = formatLive(status, now);
    assert.match(text, /^clock odoo: Odoo's clock is 2\.4 s ahead of this gateway's \(± 0\.3 s\)$/m);
    assert.match(text, /^clock press-plc: the clock of source press-plc is 12 s behind this gateway's \(more than 5 s: set both to NTP\)$/m);
  });

  it('says when Odoo answers, when it never did, and when it is not configured', () => {
    assert.match(formatLive(apiStatus(sync(), 0, null), now), /^odoo: Odoo connected \(Odoo 19\.0\), last answer 2 s ago\.$/m);
    assert.match(formatLive(apiStatus(sync(), 0, null), now), /^waiting: Nothing waits/m);
    const never = sync({ circuit: 'open', server: null, lastSuccessAt: null, lastError: { message: 'getaddrinfo ENOTFOUND erp', at: now } });
    assert.match(formatLive(apiStatus(never, 4, 60_000), now), /^odoo: Odoo DOWN: not reached since the agent started at .*\(1 h 00 min\)/m);
    assert.match(
      formatLive(apiStatus(sync({ circuit: 'auth-failed', circuitOpenedAt: now - 60_000 }), 0, null), now),
      /refuses the agent's API key since .*\(1 min\)/,
    );
    assert.match(formatLive(apiStatus(null, 3, 1000), now), /^odoo: Odoo is not configured/m);
  });

  it('a running agent whose WAN is cut: `edge-agent status` shows Odoo down and the waiting events with their age', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'status-cut-'));
    const sim = await startOdooSim({ version: 19 });
    const proxy = await startTcpProxy(sim.port);
    const port = await freePort();
    process.env.STATUS_TEST_ODOO_KEY = sim.apiKey;
    const yaml = [
      'plant: { id: status_cut }',
      `stateDir: ${JSON.stringify(dir)}`,
      `http: { port: ${port} }`,
      'odoo:',
      `  url: http://127.0.0.1:${proxy.port}`,
      `  database: ${sim.db}`,
      `  username: ${sim.login}`,
      '  apiKey: ${env:STATUS_TEST_ODOO_KEY}',
      '',
    ].join('\n');
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, yaml);
    const agent = await startAgent(parseConfigText(yaml, file), { withoutSources: true, log: pino({ level: 'silent' }) });
    const http = await startHttp(agent);
    try {
      await until(() => agent.worker!.status().circuit === 'closed', 'connected to Odoo');
      proxy.block(true);
      proxy.cut();
      const t0 = Date.now();
      await agent.outbox.enqueue(Array.from({ length: 12 }, (_, i) => downtimeStarted('status', `WC-${i % 3}`, `s-${i}`, 'Assembly Line 1', t0 + i)));
      agent.worker!.wake();
      await until(() => agent.worker!.status().circuit === 'open', 'Odoo seen down', 20_000);
      const child = spawn(process.execPath, [cli, 'status', '--config', file], { env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' } });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 0, out);
      assert.match(out, /^odoo: Odoo DOWN since \d\d:\d\d:\d\d \(\d+ s\)\. The agent checks again by itself\. Last error: .+$/m);
      assert.match(out, /^waiting: 12 events wait to be sent, the oldest since \d\d:\d\d:\d\d \(\d+ s\)\.$/m);
    } finally {
      proxy.block(false);
      await http.close();
      await agent.stop();
      await proxy.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
