import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { migrate, SCHEMA_VERSION } from '../../agent/buffer/migrations';
import type { Outbox } from '../../agent/buffer/outbox';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { checkOutboxFile, checkStructure } from '../../agent/buffer/store';
import { damageMiddlePage } from '../helpers/sqlite-file';
import { makeEvent } from '../helpers/events';
import { outboxContract } from './outbox-contract';

const dir = mkdtempSync(join(tmpdir(), 'outbox-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const paths = new WeakMap<Outbox, string>();

outboxContract('sqlite file', {
  open(opts) {
    const path = join(dir, `o${++n}.db`);
    const o = new SqliteOutbox({ path, maxEvents: opts?.maxEvents, now: opts?.clock, flows: opts?.flows });
    paths.set(o, path);
    return o;
  },
  async reopen(o, opts) {
    const path = paths.get(o)!;
    await o.close();
    const o2 = new SqliteOutbox({ path, now: opts?.clock, flows: opts?.flows });
    paths.set(o2, path);
    return o2;
  },
});

describe('sqlite outbox', () => {
  it('commits concurrent callers together (group commit)', async () => {
    const o = new SqliteOutbox({ path: join(dir, 'group.db') });
    const before = o.commits;
    await Promise.all(Array.from({ length: 200 }, () => o.enqueue([makeEvent({ sequenceKey: 'G' })])));
    const commits = o.commits - before;
    assert.ok(commits >= 1 && commits < 20, `200 callers shared ${commits} commits`);
    assert.equal(o.counts().pending, 200);
    await o.close();
  });

  it('a lone caller is committed when its promise resolves', async () => {
    const path = join(dir, 'lone.db');
    const o = new SqliteOutbox({ path });
    const e = makeEvent();
    await o.enqueue([e]);
    const reader = new Database(path, { readonly: true });
    const row = reader.prepare('SELECT state FROM events WHERE id = ?').get(e.id) as { state: string } | undefined;
    reader.close();
    assert.equal(row?.state, 'pending', 'another connection sees it: it is committed');
    await o.close();
  });

  it('opens an outbox written by schema version 1 and migrates it', async () => {
    const path = join(dir, 'old.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    assert.deepEqual(migrate(db, 1), [1]);
    const now = Date.now();
    const insertOld = db.prepare(`INSERT INTO events(id, type, skey, state, body, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)`);
    for (const [id, at, downtimeId] of [
      ['old-1', '2026-01-01T00:00:00.000Z', 'x'],
      ['old-2', '2026-01-01T00:01:00.000Z', 'y'],
    ]) {
      const body = JSON.stringify({ o: at, r: at, s: 'old', p: { downtimeId, workcenter: 'WC-9', reason: 'Setup' } });
      insertOld.run(id, 'downtime.started', 'WC-9', body, now, now);
    }
    db.prepare(`INSERT INTO heads(skey, seq, state) VALUES ('WC-9', 1, 'pending')`).run();
    db.prepare(`UPDATE counters SET value = 2 WHERE name = 'pending'`).run();
    db.close();

    const o = new SqliteOutbox({ path });
    assert.equal(new Database(path, { readonly: true }).pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const rec = o.get('old-1');
    assert.equal(rec?.state, 'pending');
    assert.equal(rec?.event.sequenceKey, 'WC-9');
    assert.equal(o.counts().pending, 2);
    await o.enqueue([makeEvent()], { invalid: [{ source: 's', origin: 'o', reason: 'r', raw: 'x', receivedAt: new Date().toISOString() }] });
    assert.equal(o.listInvalid().length, 1, 'the table added by migration 2 works');
    const runs = { types: new Set(['downtime.started']), max: 5 };
    assert.deepEqual(
      o
        .claim(5, undefined, runs)
        .filter((r) => r.sequenceKey === 'WC-9')
        .map((r) => r.id),
      ['old-1', 'old-2'],
      'the key index rebuilt by migration 5 finds the old events of a key, in order',
    );
    const index = new Database(path, { readonly: true }).prepare(`SELECT sql FROM sqlite_master WHERE name = 'events_open'`).get() as { sql: string };
    assert.match(index.sql, /seq >> 10/);
    await o.close();
  });

  it('gives a key a new head when its next event arrives after all its events were delivered', async () => {
    const o = new SqliteOutbox({ path: join(dir, 'key-again.db') });
    await o.enqueue([makeEvent({ id: 'a-1', sequenceKey: 'A' })]);
    const [head] = o.claim(10);
    o.settle([{ seq: head!.seq, outcome: 'done', odooIds: {} }]);
    await o.enqueue([makeEvent({ id: 'a-2', sequenceKey: 'A' })]);
    assert.deepEqual(
      o.claim(10).map((r) => r.id),
      ['a-2'],
    );
    await o.close();
  });

  it('gives a key a new head when another connection (the CLI) finished the key since this one last enqueued for it', async () => {
    const path = join(dir, 'two-connections.db');
    const agent = new SqliteOutbox({ path });
    await agent.enqueue([makeEvent({ id: 'k-1', sequenceKey: 'K' })]);
    const cli = new SqliteOutbox({ path, role: 'operator' });
    assert.equal(cli.skip({ ids: ['k-1'] }, 'cli:test', 'sent by hand'), 1);
    await cli.close();
    // Same key, same bucket of the key index: this connection had seen the key's head row, which is gone now.
    await agent.enqueue([makeEvent({ id: 'k-2', sequenceKey: 'K' })]);
    assert.deepEqual(
      agent.claim(10).map((r) => r.id),
      ['k-2'],
      'the new event is its key head and can be sent',
    );
    await agent.close();
  });

  it('gives a key a head after a commit that failed had inserted its first event', async () => {
    const o = new SqliteOutbox({ path: join(dir, 'failed-commit.db') });
    const bad = { source: 's', origin: 'o', reason: null as unknown as string, raw: 'x', receivedAt: new Date().toISOString() };
    await assert.rejects(o.enqueue([makeEvent({ id: 'f-1', sequenceKey: 'F' })], { invalid: [bad] }), /outbox commit failed/);
    assert.equal(o.get('f-1'), undefined, 'rolled back');
    await o.enqueue([makeEvent({ id: 'f-2', sequenceKey: 'F' })]);
    assert.deepEqual(
      o.claim(10).map((r) => r.id),
      ['f-2'],
    );
    await o.close();
  });

  it('refuses a database from a newer agent', () => {
    const path = join(dir, 'newer.db');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => new SqliteOutbox({ path }), /newer than this agent/);
  });

  it("a second open of the outbox (the CLI) leaves the running agent's claims in flight (opening once ran crash recovery)", async () => {
    const path = join(dir, 'cli-while-agent-runs.db');
    const agent = new SqliteOutbox({ path });
    await agent.enqueue([makeEvent({ id: 'r-1', sequenceKey: 'R' }), makeEvent({ id: 'r-2', sequenceKey: 'R' })]);
    const [first] = agent.claim(10);
    assert.equal(first?.id, 'r-1');
    const cli = new SqliteOutbox({ path, role: 'operator' });
    assert.equal(cli.get('r-1')?.state, 'inflight', 'the CLI sees the claim as it is');
    await cli.close();
    assert.equal(agent.get('r-1')?.state, 'inflight', 'still in flight after the CLI opened and closed the outbox');
    assert.deepEqual(agent.claim(10), [], 'and its key is not claimable a second time while its request is out');
    assert.equal(agent.counts().inflight, 1);
    await agent.close();
  });

  it('a tool never claims or settles: claims belong to the agent', async () => {
    const path = join(dir, 'tool-claims.db');
    const agent = new SqliteOutbox({ path });
    await agent.enqueue([makeEvent({ id: 't-1', sequenceKey: 'T' })]);
    const cli = new SqliteOutbox({ path, role: 'operator' });
    assert.throws(
      () => cli.claim(10),
      (e: Error & { code?: string }) => e.code === 'NOT_OWNER',
    );
    assert.throws(
      () => cli.settle([{ seq: 1, outcome: 'release' }]),
      (e: Error & { code?: string }) => e.code === 'NOT_OWNER',
    );
    await cli.close();
    assert.equal(agent.claim(10)[0]?.id, 't-1');
    await agent.close();
  });

  it("a second agent on the same outbox is refused, naming the outbox, its directory and the owner's pid", async () => {
    const path = join(dir, 'owned.db');
    const first = new SqliteOutbox({ path });
    assert.throws(
      () => new SqliteOutbox({ path, ownerWaitMs: 50 }),
      (e: Error & { code?: string; pid?: number }) => {
        assert.equal(e.code, 'OUTBOX_IN_USE');
        assert.equal(e.pid, process.pid);
        assert.ok(e.message.includes(path) && e.message.includes(dir), e.message);
        assert.match(e.message, new RegExp(`pid ${process.pid}`));
        return true;
      },
    );
    await first.close();
    const next = new SqliteOutbox({ path, ownerWaitMs: 50 });
    await next.close();
  });

  it('the owner lock goes with the owner: after a SIGKILL the next agent opens the outbox and recovers its claims', async () => {
    const path = join(dir, 'killed-owner.db');
    const seed = new SqliteOutbox({ path });
    await seed.enqueue([makeEvent({ id: 'k-1', sequenceKey: 'K' })]);
    await seed.close();
    // A child process owns the outbox, claims, and is killed with its claim out.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const { SqliteOutbox } = require(${JSON.stringify(require.resolve('../../agent/buffer/sqlite-outbox'))});
         const o = new SqliteOutbox({ path: ${JSON.stringify(path)} });
         o.claim(10);
         process.stdout.write('claimed\\n');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => b.toString().includes('claimed') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    assert.throws(() => new SqliteOutbox({ path, ownerWaitMs: 50 }), new RegExp(`pid ${child.pid}`));
    child.kill('SIGKILL');
    await once(child, 'exit');
    const agent = new SqliteOutbox({ path, ownerWaitMs: 2000 });
    assert.equal(agent.get('k-1')?.state, 'pending', "the killed owner's claim is pending again");
    assert.equal(agent.claim(10)[0]?.id, 'k-1');
    await agent.close();
  });

  it('finds a file damaged in the middle (the structure check the agent runs at start, naming the file and what to do), and outbox check lists the damage', async () => {
    const path = join(dir, 'damaged-middle.db');
    await filled(path, 3000);
    await checkStructure(path); // sound before the damage
    damageMiddlePage(path);
    await assert.rejects(
      checkStructure(path),
      (e: Error & { code?: string }) => e.code === 'OUTBOX_DAMAGED' && e.message.includes(path) && /restore the last backup/.test(e.message),
    );
    assert.ok(checkOutboxFile(path).length > 0, 'the full check (edge-agent outbox check) names the damage');
  });

  it('refuses a file whose header is damaged, naming the file (not a stack trace)', async () => {
    const path = join(dir, 'damaged-header.db');
    await filled(path, 10);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(100, 0x41), 0, 100, 0);
    closeSync(fd);
    for (const role of ['agent', 'operator'] as const) {
      assert.throws(
        () => new SqliteOutbox({ path, role }),
        (e: Error & { code?: string }) => e.code === 'OUTBOX_DAMAGED' && e.message.includes(path),
      );
    }
  });

  it('refuses an empty file where the outbox should be, instead of starting a new empty outbox in it', async () => {
    const path = join(dir, 'empty.db');
    writeFileSync(path, '');
    assert.throws(
      () => new SqliteOutbox({ path }),
      (e: Error & { code?: string }) => e.code === 'OUTBOX_DAMAGED' && /empty/.test(e.message),
    );
    assert.equal(statSync(path).size, 0, 'left as found');
  });

  it('a backup taken while events keep arriving is a consistent, checked copy that opens as an outbox', async () => {
    const path = join(dir, 'backed-up.db');
    const o = new SqliteOutbox({ path });
    await o.enqueue(Array.from({ length: 2000 }, (_, i) => makeEvent({ sequenceKey: `B-${i % 7}` })));
    const writing = (async () => {
      for (let i = 0; i < 50; i++) await o.enqueue([makeEvent({ sequenceKey: 'B-live' })]);
    })();
    const copy = join(dir, 'copy.db');
    const pages = await o.backup(copy);
    await writing;
    assert.ok(pages > 0);
    assert.equal(existsSync(`${copy}.partial`), false, 'no partial file left');
    const restored = new SqliteOutbox({ path: copy });
    const n = restored.counts().pending;
    assert.ok(n >= 2000 && n <= 2050, `the copy holds the events of one moment (${n})`);
    assert.equal(restored.list({ limit: 5000 }).length, n, 'counters agree with the rows');
    assert.deepEqual(checkOutboxFile(copy), []);
    await restored.close();
    await o.close();
  });
});

async function filled(path: string, events: number): Promise<void> {
  const o = new SqliteOutbox({ path });
  await o.enqueue(Array.from({ length: events }, (_, i) => makeEvent({ sequenceKey: `D-${i % 13}` })));
  await o.close();
}
