import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { makeEvent } from '../helpers/events';
import { damageMiddlePage } from '../helpers/sqlite-file';

const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');

it('an outbox damaged in the middle: the agent started, found it in its background check, stopped and exits 65 naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'damaged-run-'));
  try {
    const path = join(dir, 'outbox.db');
    const o = new SqliteOutbox({ path });
    await o.enqueue(Array.from({ length: 3000 }, (_, i) => makeEvent({ sequenceKey: `D-${i % 13}` })));
    await o.close();
    damageMiddlePage(path);
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, ['plant: { id: damaged }', `stateDir: ${JSON.stringify(dir)}`, 'http: { enabled: false }', ''].join('\n'));
    const child = spawn(process.execPath, [cli, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 65, out);
    assert.match(out, new RegExp(`${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*restore the last backup`));
    assert.match(out, /agent stopped/, 'a clean stop before the exit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
