import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { importEvents, MAX_LINE_BYTES } from '../../agent/cli/import-events';
import { fillMasterData } from '../helpers/master-data';

const dir = mkdtempSync(join(tmpdir(), 'import-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
const NOW = () => new Date('2026-11-26T08:00:00Z');

let files = 0;
function file(content: string | Buffer): string {
  const f = join(dir, `events-${++files}.jsonl`);
  writeFileSync(f, content);
  return f;
}
function outbox(maxEvents?: number): SqliteOutbox {
  return new SqliteOutbox({ path: join(dir, `outbox-${++files}.db`), log, maxEvents });
}

const line = (n: number, over: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'downtime.started',
    sequenceKey: 'WC-1',
    occurredAt: new Date(Date.UTC(2026, 10, 26, 7, 0, n)).toISOString(),
    payload: { downtimeId: `d${n}`, workcenter: 'Press 1', reason: 'Setup' },
    ...over,
  });
const deep = '{"a":'.repeat(6000) + '1' + '}'.repeat(6000);

describe('events import: each line on its own', () => {
  it('a line nested 6,000 deep is rejected with its line number; the good lines before and after it are committed (it aborted the whole import)', async () => {
    const o = outbox();
    const noId = JSON.stringify({ type: 'downtime.started', sequenceKey: 'WC-1', occurredAt: '2026-11-26T07:00:00Z', payload: deep });
    const r = await importEvents(file([line(1), deep, noId, line(2), ''].join('\n')), o, NOW);
    assert.deepEqual(
      r.rejected.map((x) => x.line),
      [2, 3],
    );
    assert.match(r.rejected[0]!.reason, /^JSON nested deeper than 64 levels/);
    assert.equal(r.inserted, 2);
    assert.equal(r.stopped, undefined);
    assert.equal(o.counts().pending, 2);
    await o.close();
  });

  it('ids that differ only in invalid UTF-8 are refused by line number, not merged into one event (U+FFFD made the second a duplicate)', async () => {
    const o = outbox();
    const withId = (bad: number) => {
      const [head, tail] = line(1, { id: 'MES-#' }).split('#') as [string, string];
      return Buffer.concat([Buffer.from(head), Buffer.from([bad]), Buffer.from(tail)]);
    };
    const content = Buffer.concat([withId(0xff), Buffer.from('\n'), withId(0xfe), Buffer.from('\n'), Buffer.from(line(3)), Buffer.from('\n')]);
    const r = await importEvents(file(content), o, NOW);
    assert.deepEqual(r.rejected, [
      { line: 1, reason: 'not valid UTF-8 text' },
      { line: 2, reason: 'not valid UTF-8 text' },
    ]);
    assert.equal(r.duplicates, 0);
    assert.equal(r.inserted, 1);
    await o.close();
  });

  it('a line longer than the limit is refused by number; the next line is read', async () => {
    const o = outbox();
    const long = JSON.stringify({ note: 'x'.repeat(MAX_LINE_BYTES) });
    const r = await importEvents(file([long, line(1)].join('\n')), o, NOW);
    assert.deepEqual(r.rejected, [{ line: 1, reason: `the line is ${long.length} bytes, more than ${MAX_LINE_BYTES}` }]);
    assert.equal(r.inserted, 1);
    await o.close();
  });

  it('takes CRLF line ends, a byte order mark and a last line without a newline', async () => {
    const o = outbox();
    const r = await importEvents(file(`\ufeff${line(1)}\r\n\r\n${line(2)}\r\n${line(3)}`), o, NOW);
    assert.deepEqual(r.rejected, []);
    assert.equal(r.inserted, 3);
    assert.equal(r.lines, 4);
    await o.close();
  });

  it('when the outbox is full the import stops naming the first line not committed, and every line before it is committed', async () => {
    const o = outbox(600);
    const lines = Array.from({ length: 700 }, (_, i) => line(i));
    const r = await importEvents(file(lines.join('\n')), o, NOW);
    assert.equal(r.inserted, 500);
    assert.equal(r.stopped?.line, 501);
    assert.match(r.stopped?.reason ?? '', /outbox is full/);
    assert.equal(o.counts().pending, 500);
    await o.close();
  });

  it('the command prints each bad line as file:line and exits 5 (partly done)', () => {
    const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');
    const config = join(dir, 'agent.yaml');
    writeFileSync(config, `plant:\n  id: imp\nstateDir: ${dir}\noutbox:\n  path: cli-outbox.db\n`);
    const f = file(Buffer.concat([Buffer.from(`${line(1)}\n${deep}\n`), Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), Buffer.from(`${line(2)}\n`)]));
    const r = spawnSync(process.execPath, [cli, 'events', 'import', f, '--config', config], {
      encoding: 'utf8',
      env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' },
    });
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stdout, /2 events committed, 0 already there, 2 lines rejected \(of 4\)/);
    assert.match(r.stderr, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: JSON nested deeper than 64 levels`));
    assert.match(r.stderr, /:3: not valid UTF-8 text/);
  });

  it('the command checks what it imports at the edge, against the master data in the outbox file, when events go to Odoo', async () => {
    const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');
    const config = join(dir, 'agent-odoo.yaml');
    writeFileSync(
      config,
      `plant:\n  id: imp\nstateDir: ${dir}\noutbox:\n  path: cli-edge.db\nodoo:\n  url: http://127.0.0.1:1\n  database: x\n  apiKey: \${env:NOT_SET_HERE}\n`,
    );
    const o = new SqliteOutbox({ path: join(dir, 'cli-edge.db') });
    fillMasterData(o);
    await o.close();
    const f = file([line(1, { payload: { downtimeId: 'a', workcenter: 'ASM1', reason: 'Material Availability' } }), line(2)].join('\n'));
    const r = spawnSync(process.execPath, [cli, 'events', 'import', f, '--config', config], {
      encoding: 'utf8',
      env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' },
    });
    assert.equal(r.status, 0, r.stderr);
    const after = new SqliteOutbox({ path: join(dir, 'cli-edge.db'), role: 'operator' });
    try {
      assert.equal(after.counts().pending, 1);
      assert.equal(after.list({ state: 'flagged' })[0]?.error, 'work center "Press 1" is not known in Odoo');
    } finally {
      await after.close();
    }
  });
});
