import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { runUntilKilled } from '../helpers/kill-child';
import { withFile } from '../helpers/sqlite-file';
import { testRandom } from '../helpers/seed';

const dir = mkdtempSync(join(tmpdir(), 'outbox-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Run the child until it has acknowledged some events, then SIGKILL it after a random delay. */
function runAndKill(path: string, round: number, random: () => number): Promise<Array<{ id: string; key: string }>> {
  return runUntilKilled(
    join(__dirname, 'crash-child.js'),
    [path, String(round)],
    (line) => {
      const [tag, id, key] = line.split(' ');
      return tag === 'ok' && id && key ? { id, key } : undefined;
    },
    random,
  );
}

it('every event whose enqueue resolved survives a SIGKILL, once, in order per key', async (t) => {
  const random = testRandom(t);
  const path = join(dir, 'crash.db');
  const acked: Array<{ id: string; key: string }> = [];
  for (let round = 0; round < 4; round++) acked.push(...(await runAndKill(path, round, random)));
  assert.ok(acked.length > 200, `acknowledged ${acked.length}`);

  const o = new SqliteOutbox({ path });
  const rows = withFile(path, (db) => db.prepare('SELECT id, skey, seq FROM events ORDER BY seq').all() as Array<{ id: string; skey: string; seq: number }>);
  const ids = new Set(rows.map((r) => r.id));
  assert.equal(ids.size, rows.length, 'no event twice');
  const missing = acked.filter((a) => !ids.has(a.id));
  assert.deepEqual(missing, [], 'every acknowledged event is there');
  const seqOf = new Map(rows.map((r) => [r.id, r.seq]));
  for (const key of new Set(acked.map((a) => a.key))) {
    const seqs = acked.filter((a) => a.key === key).map((a) => seqOf.get(a.id)!);
    assert.deepEqual(
      [...seqs].sort((x, y) => x - y),
      seqs,
      `acknowledgement order kept on ${key}`,
    );
  }
  assert.equal(o.counts().pending, rows.length, 'counters agree with the rows');
  await o.close();
});
