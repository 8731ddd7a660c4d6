import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import pino from 'pino';
import { startAgent } from '../../agent/runtime/agent';
import { parseConfigText } from '../../agent/config/load';

it('every log line of a running agent names its component once (no repeated JSON keys)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-lines-'));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  try {
    const config = parseConfigText(
      [
        'plant: { id: logs }',
        `stateDir: ${JSON.stringify(dir)}`,
        'http: { enabled: false }',
        'sources:',
        '  - name: mes',
        '    type: mqtt',
        '    url: mqtt://127.0.0.1:1',
        '    subscriptions: [{ topic: "mes/#" }]',
        '',
      ].join('\n'),
      join(dir, 'config.yaml'),
    );
    const agent = await startAgent(config, { withoutSources: true, log: pino({ level: 'info' }, sink) });
    await agent.stop();
    const components = lines.map((l) => [...l.matchAll(/"component":"([^"]*)"/g)].map((m) => m[1]));
    assert.ok(
      components.some((c) => c.includes('outbox')),
      `the outbox logs as its own component (lines: ${lines.length})`,
    );
    for (const [i, c] of components.entries()) assert.ok(c.length <= 1, `line ${i} repeats "component": ${lines[i]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
