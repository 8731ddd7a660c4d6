import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { parseConfigText } from '../../agent/config/load';
import { startHttp } from '../../agent/http/server';
import { formatClock } from '../../agent/http/format';
import { startAgent } from '../../agent/runtime/agent';
import { until } from '../helpers/until';
import { startOdooSim } from '../odoo-sim';

const dir = mkdtempSync(join(tmpdir(), 'clocks-page-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('clocks on the status page, in /metrics and in /api/status', () => {
  it(
    "shows Odoo's clock (30 s ahead, from its Date headers) and a source's (12 s behind), each with a warning past clocks.warnOffsetS",
    { timeout: 60_000 },
    async () => {
      const sim = await startOdooSim({ version: 19, clock: () => new Date(Date.now() + 30_000) });
      const keyFile = join(dir, 'key');
      writeFileSync(keyFile, `${sim.apiKey}\n`);
      const config = parseConfigText(
        [
          'plant: { id: clocks_page, timezone: America/Chicago }',
          `stateDir: ${JSON.stringify(dir)}`,
          'outbox: { synchronous: NORMAL }',
          'http: { port: 0 }',
          `odoo: { url: "${sim.url}", database: ${sim.db}, apiKey: "\${file:${keyFile}}" }`,
          'clocks: { warnOffsetS: 10 }',
          'sources:',
          '  - { name: press-plc, type: mqtt, url: "mqtt://127.0.0.1:1", subscriptions: [{ topic: "p/#" }] }',
          '  - { name: scale, type: mqtt, url: "mqtt://127.0.0.1:1", subscriptions: [{ topic: "s/#" }] }',
          '',
        ].join('\n'),
        join(dir, 'config.yaml'),
      );
      const agent = await startAgent(config, { withoutSources: true, log: pino({ level: 'silent' }) });
      const http = await startHttp(agent, { port: 0, host: '127.0.0.1' });
      try {
        const now = Date.now();
        await agent.pipeline.emit([
          {
            source: 'press-plc',
            tag: 'p/state',
            value: 1,
            quality: 'good',
            sourceTime: new Date(now - 12_000).toISOString(),
            receivedAt: new Date(now).toISOString(),
          },
          { source: 'scale', tag: 's/w', value: 2, quality: 'good', sourceTime: new Date(now).toISOString(), receivedAt: new Date(now).toISOString() },
        ]);
        await until(() => agent.view.clocks!().readings.some((r) => r.kind === 'odoo'), "Odoo's clock measured from its answers");

        const { readings, gatewayStamped } = agent.view.clocks!();
        const odoo = readings.find((r) => r.name === 'odoo')!;
        assert.ok(Math.abs(odoo.offsetMs - 30_000) <= odoo.uncertaintyMs + 50, JSON.stringify(odoo));
        assert.equal(odoo.warning, true);
        const plc = readings.find((r) => r.name === 'press-plc')!;
        assert.equal(plc.offsetMs, -12_000);
        assert.equal(plc.warning, true);
        assert.deepEqual(gatewayStamped, ['scale']);

        const page = await (await fetch(`${http.url}/`)).text();
        const section = /<section id="clocks">[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
        assert.match(section, /Odoo&#39;s clock is (29|30|31)\.\d s ahead of this gateway&#39;s/);
        assert.match(section, /the clock of source press-plc is 12 s behind this gateway&#39;s/);
        assert.equal((section.match(/more than 10 s off/g) ?? []).length, 2);
        assert.match(section, /Stamped by this gateway on arrival .*: scale\./);

        assert.match(page, /times in America\/Chicago/);
        const started = new Intl.DateTimeFormat('en-GB', {
          timeZone: 'America/Chicago',
          hourCycle: 'h23',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
        });
        assert.ok(page.includes(`agent running since ${started.format(new Date(agent.startedAt))}`), 'the start in plant time');

        const metrics = await (await fetch(`${http.url}/metrics`)).text();
        assert.match(metrics, /edge_clock_offset_seconds\{clock="odoo",name="odoo"\} (29\.\d+|30(\.\d+)?)\n/);
        assert.match(metrics, /edge_clock_offset_seconds\{clock="source",name="press-plc"\} -12\n/);
        assert.match(metrics, /edge_clock_offset_warning\{clock="source",name="press-plc"\} 1\n/);

        const status = (await (await fetch(`${http.url}/api/status`)).json()) as { clocks: { readings: Array<{ name: string }>; warnOffsetMs: number } };
        assert.deepEqual(status.clocks.readings.map((r) => r.name).sort(), ['odoo', 'press-plc']);
        assert.equal(status.clocks.warnOffsetMs, 10_000);
      } finally {
        await http.close();
        await agent.stop();
        await sim.close();
      }
    },
  );
});

describe('page times are plant time', () => {
  const at = Date.parse('2026-07-15T12:00:00Z');
  const table: Array<[zone: string | undefined, at: number, expected: string]> = [
    ['Europe/Berlin', at, '14:00:00'],
    ['America/Chicago', at, '07:00:00'],
    ['Europe/Berlin', Date.parse('2026-07-14T17:30:00Z'), '2026-07-14 19:30'],
    ['Asia/Tokyo', Date.parse('2026-07-14T17:30:00Z'), '02:30:00'],
  ];
  for (const [zone, t, expected] of table) {
    it(`${new Date(t).toISOString()} in ${zone}: ${expected}`, () => {
      assert.equal(formatClock(t, at, zone), expected);
    });
  }
});
