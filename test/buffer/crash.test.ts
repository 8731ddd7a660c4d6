import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';

const dir = mkdtempSync(join(tmpdir(), 'outbox-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Run the child until it has acknowledged at least `minAcks` events plus a random delay, then SIGKILL it. */
function runAndKill(path: string, round: number): Promise<Array<{ id: string; key: string }>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'crash-child.js'), path, String(round)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: Array<{ id: string; key: string }> = [];
    let buf = '';
    let armed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const [tag, id, key] = buf.slice(0, i).split(' ');
        buf = buf.slice(i + 1);
        if (tag === 'ok' && id && key) acked.push({ id, key });
      }
      if (!armed && acked.length > 50) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), 50 + Math.floor(Math.random() * 400));
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child ended by itself (${signal ?? _code})`));
      else resolve(acked);
    });
  });
}

it('every event whose enqueue resolved survives a SIGKILL, once, in order per key', async () => {
  const path = join(dir, 'crash.db');
  const acked: Array<{ id: string; key: string }> = [];
  for (let round = 0; round < 4; round++) acked.push(...(await runAndKill(path, round)));
  assert.ok(acked.length > 200, `acknowledged ${acked.length}`);

  const o = new SqliteOutbox({ path });
  const rows = o.database.prepare('SELECT id, skey, seq FROM events ORDER BY seq').all() as Array<{ id: string; skey: string; seq: number }>;
  const ids = new Set(rows.map((r) => r.id));
  assert.equal(ids.size, rows.length, 'no event twice');
  const missing = acked.filter((a) => !ids.has(a.id));
  assert.deepEqual(missing, [], 'every acknowledged event is there');
  const seqOf = new Map(rows.map((r) => [r.id, r.seq]));
  for (const key of new Set(acked.map((a) => a.key))) {
    const seqs = acked.filter((a) => a.key === key).map((a) => seqOf.get(a.id)!);
    assert.deepEqual([...seqs].sort((x, y) => x - y), seqs, `acknowledgement order kept on ${key}`);
  }
  assert.equal(o.counts().pending, rows.length, 'counters agree with the rows');
  await o.close();
});
