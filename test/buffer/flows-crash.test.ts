import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { runUntilKilled } from '../helpers/kill-child';
import { withFile } from '../helpers/sqlite-file';
import { testRandom } from '../helpers/seed';
import { CRASH_FLOW } from './flows-crash-flow';

const dir = mkdtempSync(join(tmpdir(), 'flows-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Ack {
  id: string;
  key: string;
  type: string;
}

/** Run the child until it acknowledged some events, then SIGKILL it after a random delay. */
function runAndKill(path: string, round: number, random: () => number): Promise<Ack[]> {
  return runUntilKilled(
    join(__dirname, 'flows-crash-child.js'),
    [path, String(round)],
    (line) => {
      const [tag, id, key, type] = line.split(' ');
      return tag === 'ok' && id && key && type ? { id, key, type } : undefined;
    },
    random,
  );
}

interface Member {
  n: number;
  id: string;
  skey: string;
  event: string;
  flushed_into: string | null;
}

function check(o: SqliteOutbox, path: string, acked: Ack[]): void {
  const members = withFile(path, (db) => db.prepare('SELECT n, id, skey, event, flushed_into FROM flow_members ORDER BY n').all() as Member[]);
  const events = withFile(
    path,
    (db) =>
      db.prepare('SELECT seq, id, type, skey, body FROM events ORDER BY seq').all() as Array<{
        seq: number;
        id: string;
        type: string;
        skey: string;
        body: string;
      }>,
  );
  const memberQty = (m: Member) => (JSON.parse(m.event) as { payload: { quantity: number } }).payload.quantity;
  const eventById = new Map(events.map((e) => [e.id, e]));
  const memberById = new Map(members.map((m) => [m.id, m]));

  for (const a of acked) {
    if (a.type === 'material.consumed') assert.ok(memberById.has(a.id), `acknowledged consumption ${a.id} is held or released`);
    else assert.ok(eventById.has(a.id), `acknowledged completion ${a.id} is queued`);
  }
  // Each released member points at a queued event, and each queued consumption is exactly the sum of its members.
  const into = new Map<string, Member[]>();
  for (const m of members) {
    if (m.flushed_into === null) continue;
    assert.ok(eventById.has(m.flushed_into), `member ${m.id} went into ${m.flushed_into}, which is queued`);
    into.set(m.flushed_into, [...(into.get(m.flushed_into) ?? []), m]);
  }
  for (const e of events.filter((x) => x.type === 'material.consumed')) {
    const of = into.get(e.id) ?? [];
    assert.ok(of.length >= 1, `queued consumption ${e.id} came from held members`);
    const q = (JSON.parse(e.body) as { p: { quantity: number } }).p.quantity;
    assert.equal(
      q,
      of.reduce((s, m) => s + memberQty(m), 0),
      `${e.id} is the sum of its ${of.length} members, no more, no less`,
    );
  }
  // Order per key: every consumption acknowledged before a completion of its order went out ahead of it.
  const seqOf = new Map(events.map((e) => [e.id, e.seq]));
  for (const key of new Set(acked.map((a) => a.key))) {
    const ofKey = acked.filter((a) => a.key === key);
    ofKey.forEach((a, i) => {
      if (a.type !== 'production.completed') return;
      for (const before of ofKey.slice(0, i).filter((b) => b.type === 'material.consumed')) {
        const m = memberById.get(before.id)!;
        assert.ok(m.flushed_into !== null, `${before.id} was released before completion ${a.id}`);
        assert.ok(seqOf.get(m.flushed_into)! < seqOf.get(a.id)!, `${before.id} is queued ahead of completion ${a.id}`);
      }
    });
  }
  const heldRows = members.filter((m) => m.flushed_into === null).length;
  assert.equal(o.heldEvents, heldRows, 'the in-memory count agrees with the table');
  assert.equal(o.counts().pending, events.length, 'counters agree with the rows');
}

it('a flush killed at any moment releases all or nothing, and a re-run makes no second event', async (t) => {
  const random = testRandom(t);
  const path = join(dir, 'flows-crash.db');
  const acked: Ack[] = [];
  for (let round = 0; round < 4; round++) {
    acked.push(...(await runAndKill(path, round, random)));
    const o = new SqliteOutbox({ path, flows: [CRASH_FLOW] });
    check(o, path, acked);
    await o.close();
  }
  assert.ok(acked.length > 200, `acknowledged ${acked.length}`);
  const o = new SqliteOutbox({ path, flows: [CRASH_FLOW] });
  o.flushFlow(CRASH_FLOW.name);
  check(o, path, acked);
  assert.equal(o.heldEvents, 0);
  const [total, queued] = withFile(path, (db) => [
    (db.prepare(`SELECT count(*) AS n FROM flow_members`).get() as { n: number }).n,
    (db.prepare(`SELECT count(*) AS n FROM events WHERE type = 'material.consumed'`).get() as { n: number }).n,
  ]);
  assert.ok(queued < total, `${total} consumption events rolled up into ${queued}`);
  await o.close();
});
