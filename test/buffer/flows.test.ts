import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { rollupId, type FlowDefinition } from '../../agent/buffer/flows';
import { migrate, SCHEMA_VERSION } from '../../agent/buffer/migrations';
import type { OutboxRecord } from '../../agent/buffer/outbox';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { makeEvent } from '../helpers/events';
import { at, completed, consumption, flow, produced } from '../helpers/flow-events';
import { withFile } from '../helpers/sqlite-file';

const dir = mkdtempSync(join(tmpdir(), 'flows-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const HOURLY = flow('consumption-hourly', 'rollup', ['material.consumed', 'production.reported']);
const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);

function open(flows: FlowDefinition[] = [HOURLY], opts: { path?: string; maxEvents?: number; clock?: () => number } = {}) {
  const path = opts.path ?? join(dir, `f${++n}.db`);
  return { path, outbox: new SqliteOutbox({ path, flows, maxEvents: opts.maxEvents, now: opts.clock ?? (() => T0) }) };
}

const queued = (o: SqliteOutbox): OutboxRecord[] => o.list({ limit: 1000 });
const held = (o: SqliteOutbox, name = HOURLY.name) => o.flowStatus().find((f) => f.name === name)!.held;

describe('batch and roll-up flows', () => {
  it('holds events of a flow type instead of queueing them, and counts them as committed', async () => {
    const { outbox } = open();
    const r = await outbox.enqueue([consumption('WH/MO/00012', 2), consumption('WH/MO/00012', 3), makeEvent({ sequenceKey: 'Press 1' })]);
    assert.deepEqual(r, { inserted: 3, duplicates: 0, held: 2 });
    assert.equal(outbox.counts().pending, 1, 'only the downtime is queued');
    assert.deepEqual(
      queued(outbox).map((e) => e.type),
      ['downtime.started'],
    );
    const [status] = outbox.flowStatus();
    assert.equal(status!.held, 2);
    assert.equal(status!.keys, 1);
    assert.equal(status!.heldSince, T0);
    assert.equal(outbox.heldEvents, 2);
    await outbox.close();
  });

  it('a roll-up gets its key a head when another connection (the CLI) finished the key after this one last wrote it', async () => {
    const { outbox, path } = open();
    await outbox.enqueue([completed('WH/MO/00077', 'done-first')]);
    await outbox.enqueue([consumption('WH/MO/00077', 4)]);
    const cli = new SqliteOutbox({ path, role: 'operator', flows: [HOURLY], now: () => T0 });
    assert.equal(cli.skip({ ids: ['done-first'] }, 'cli:test', 'done by hand'), 1);
    await cli.close();
    outbox.flushFlow(HOURLY.name);
    const claimed = outbox.claim(10);
    assert.deepEqual(
      claimed.map((r) => [r.type, r.sequenceKey]),
      [['material.consumed', 'WH/MO/00077']],
      'the roll-up is its key head and can be sent',
    );
    await outbox.close();
  });

  it('counts a held id again as a duplicate, also after the flush and after a restart', async () => {
    const { outbox, path } = open();
    const e = consumption('WH/MO/00012', 2);
    await outbox.enqueue([e, consumption('WH/MO/00012', 1)]);
    assert.deepEqual(await outbox.enqueue([e]), { inserted: 0, duplicates: 1 });
    outbox.flushFlow(HOURLY.name);
    assert.deepEqual(await outbox.enqueue([e]), { inserted: 0, duplicates: 1 }, 'still a duplicate once rolled up');
    await outbox.close();
    const again = new SqliteOutbox({ path, flows: [HOURLY] });
    assert.deepEqual(await again.enqueue([e]), { inserted: 0, duplicates: 1 }, 'and after a restart');
    assert.equal(again.counts().duplicates, 3);
    assert.equal(again.counts().pending, 1, 'one roll-up, nothing more');
    await again.close();
    // The flow is removed from the config: the rolled-up id is still known.
    const without = new SqliteOutbox({ path });
    assert.deepEqual(await without.enqueue([e]), { inserted: 0, duplicates: 1 }, 'and with the flow gone from the config');
    await without.close();
  });

  it('an id already queued before its type joined a flow is a duplicate, not held', async () => {
    const path = join(dir, `f${++n}.db`);
    const before = new SqliteOutbox({ path });
    const e = consumption('WH/MO/00012', 2);
    await before.enqueue([e]);
    await before.close();
    const { outbox } = open([HOURLY], { path });
    assert.deepEqual(await outbox.enqueue([e]), { inserted: 0, duplicates: 1 });
    assert.equal(held(outbox), 0);
    await outbox.close();
  });

  it('rolls up alike consumption into one event with the sum, per order, product and lot', async () => {
    let now = T0;
    const { outbox } = open([HOURLY], { clock: () => now });
    const a = [
      consumption('WH/MO/00012', 1.5, { lot: 'L1' }),
      consumption('WH/MO/00012', 2, { lot: 'L1' }),
      consumption('WH/MO/00012', 0.1, { lot: 'L1' }),
      consumption('WH/MO/00012', 0.2, { lot: 'L1' }),
    ];
    const otherLot = consumption('WH/MO/00012', 4, { lot: 'L2' });
    const otherOrder = [consumption('WH/MO/00013', 7), consumption('WH/MO/00013', 8)];
    await outbox.enqueue([a[0]!, otherLot, a[1]!, otherOrder[0]!, a[2]!, otherOrder[1]!, a[3]!]);
    now = T0 + 3_600_000;
    const r = outbox.flushFlow(HOURLY.name);
    assert.deepEqual(r, { flow: HOURLY.name, members: 7, events: 3, keys: 2 });
    const events = queued(outbox);
    assert.equal(events.length, 3);
    const lot1 = events.find((e) => (e.event.payload as { lot?: string }).lot === 'L1')!;
    assert.equal((lot1.event.payload as { quantity: number }).quantity, 3.8, '1.5 + 2 + 0.1 + 0.2, without float dust');
    assert.equal(lot1.event.id, rollupId(HOURLY.name, a.map((e) => e.id).sort(), Date.parse(a[3]!.occurredAt)));
    assert.equal(lot1.event.occurredAt, a[3]!.occurredAt, "the latest member's source time");
    assert.equal(lot1.event.receivedAt, new Date(now).toISOString(), 'received when the flush made it');
    assert.equal(lot1.event.source, 'line1-scanner');
    assert.deepEqual(lot1.event.payload, { production: 'WH/MO/00012', product: 'RM-STEEL', quantity: 3.8, lot: 'L1' });
    const lot2 = events.find((e) => (e.event.payload as { lot?: string }).lot === 'L2')!;
    assert.equal(lot2.event.id, otherLot.id, 'a group of one is that event, unchanged');
    const mo13 = events.find((e) => e.sequenceKey === 'WH/MO/00013')!;
    assert.equal((mo13.event.payload as { quantity: number }).quantity, 15);
    assert.equal(held(outbox), 0);
    assert.equal(outbox.counts().pending, 3);
    assert.deepEqual(outbox.flushFlow(HOURLY.name), { flow: HOURLY.name, members: 0, events: 0, keys: 0 }, 'a second flush finds nothing');
    assert.equal(outbox.counts().pending, 3);
    await outbox.close();
  });

  it('keeps events of different sources apart in a roll-up (one source per event)', async () => {
    const { outbox } = open();
    await outbox.enqueue([
      consumption('WH/MO/1', 1, { source: 'scanner-a' }),
      consumption('WH/MO/1', 2, { source: 'scanner-b' }),
      consumption('WH/MO/1', 3, { source: 'scanner-a' }),
    ]);
    outbox.flushFlow(HOURLY.name);
    const bySource = Object.fromEntries(queued(outbox).map((e) => [e.event.source, (e.event.payload as { quantity: number }).quantity]));
    assert.deepEqual(bySource, { 'scanner-a': 4, 'scanner-b': 2 });
    await outbox.close();
  });

  it('takes the latest total for production reports (the last to arrive, as sending them one by one would leave it), not a sum', async () => {
    const { outbox } = open();
    const first = produced('WH/MO/00012', 10, { occurredAt: at(100) });
    const second = produced('WH/MO/00012', 25, { occurredAt: at(300) });
    // The source's clock stepped back: the newest total carries an older time.
    const newest = produced('WH/MO/00012', 40, { occurredAt: at(200) });
    await outbox.enqueue([first, second, newest]);
    outbox.flushFlow(HOURLY.name);
    const [e] = queued(outbox);
    assert.equal(queued(outbox).length, 1);
    assert.deepEqual(e!.event.payload, { production: 'WH/MO/00012', totalQuantity: 40, workcenter: 'Press 1' });
    assert.equal(e!.event.occurredAt, at(200));
    await outbox.close();
  });

  it('production reports of one shift roll up together, with the shift total of the last', async () => {
    const { outbox } = open();
    const shift = (quantity: number, name = 'early') => ({ shift: { name, day: '2026-11-26', quantity } });
    const withShift = (total: number, s: ReturnType<typeof shift>) => {
      const e = produced('WH/MO/00012', total);
      return { ...e, payload: { ...e.payload, ...s } } as typeof e;
    };
    await outbox.enqueue([withShift(10, shift(10)), withShift(14, shift(14)), withShift(20, shift(6, 'late')), withShift(25, shift(11, 'late'))]);
    outbox.flushFlow(HOURLY.name);
    assert.deepEqual(
      queued(outbox).map((e) => e.event.payload),
      [
        { production: 'WH/MO/00012', totalQuantity: 14, workcenter: 'Press 1', shift: { name: 'early', day: '2026-11-26', quantity: 14 } },
        { production: 'WH/MO/00012', totalQuantity: 25, workcenter: 'Press 1', shift: { name: 'late', day: '2026-11-26', quantity: 11 } },
      ],
    );
    await outbox.close();
  });

  it('releases a batch flow as it is: same ids, same bodies, oldest first', async () => {
    const batch = flow('scrap-nightly', 'batch', ['scrap.reported', 'material.consumed']);
    const { outbox } = open([batch]);
    const events = [consumption('WH/MO/1', 1), consumption('WH/MO/2', 2), consumption('WH/MO/1', 3), consumption('WH/MO/1', 1)];
    await outbox.enqueue(events.slice(0, 2));
    await outbox.enqueue(events.slice(2));
    assert.equal(outbox.counts().pending, 0);
    assert.deepEqual(outbox.flushFlow(batch.name), { flow: batch.name, members: 4, events: 4, keys: 2 });
    const out = queued(outbox);
    assert.deepEqual(
      out.filter((e) => e.sequenceKey === 'WH/MO/1').map((e) => e.id),
      [events[0]!.id, events[2]!.id, events[3]!.id],
      'in arrival order within the key',
    );
    assert.deepEqual(out[0]!.id, events[0]!.id, 'the key with the oldest held event first');
    for (const e of events) assert.deepEqual(outbox.get(e.id)!.event, e, 'unchanged');
    await outbox.close();
  });

  it('releases a key before an event no flow holds: the roll-up gets the lower seq', async () => {
    const { outbox } = open();
    await outbox.enqueue([consumption('WH/MO/00012', 2), consumption('WH/MO/00012', 3), consumption('WH/MO/00099', 1)]);
    const done = completed('WH/MO/00012');
    const r = await outbox.enqueue([done]);
    assert.deepEqual(r, { inserted: 1, duplicates: 0, released: 1 });
    const mo12 = outbox.list({ sequenceKey: 'WH/MO/00012' });
    assert.deepEqual(
      mo12.map((e) => e.type),
      ['material.consumed', 'production.completed'],
    );
    assert.ok(mo12[0]!.seq < mo12[1]!.seq);
    assert.equal((mo12[0]!.event.payload as { quantity: number }).quantity, 5);
    assert.equal(held(outbox), 1, 'the other order keeps waiting for the schedule');
    assert.deepEqual(
      outbox.claim(10).map((e) => e.type),
      ['material.consumed'],
      'the consumption is the head of its order',
    );
    await outbox.close();
  });

  it('keeps that order within one commit too (held and unheld events of a key in the same batch)', async () => {
    const { outbox } = open();
    const c1 = consumption('WH/MO/00012', 2);
    const done = completed('WH/MO/00012');
    const c2 = consumption('WH/MO/00012', 3);
    await Promise.all([outbox.enqueue([c1]), outbox.enqueue([done, c2])]);
    assert.deepEqual(
      queued(outbox).map((e) => e.id),
      [c1.id, done.id],
      'c1 (a group of one) before the completion',
    );
    assert.equal(held(outbox), 1, 'c2 came after the completion: held for the next flush');
    await outbox.close();
  });

  it('releases the key first even when the unheld event is itself a duplicate', async () => {
    const { outbox } = open();
    const done = completed('WH/MO/00012');
    await outbox.enqueue([done]);
    await outbox.enqueue([consumption('WH/MO/00012', 2)]);
    const r = await outbox.enqueue([done]);
    assert.deepEqual(r, { inserted: 0, duplicates: 1, released: 1 });
    assert.equal(held(outbox), 0);
    await outbox.close();
  });

  it('a restarted outbox still knows which keys hold events', async () => {
    const { outbox, path } = open();
    await outbox.enqueue([consumption('WH/MO/00012', 2), consumption('WH/MO/00012', 3)]);
    await outbox.close();
    const again = new SqliteOutbox({ path, flows: [HOURLY] });
    assert.equal(again.heldEvents, 2);
    await again.enqueue([completed('WH/MO/00012')]);
    assert.deepEqual(
      again.list({ sequenceKey: 'WH/MO/00012' }).map((e) => e.type),
      ['material.consumed', 'production.completed'],
    );
    await again.close();
  });

  it('sees events another connection held (the CLI) before it queues an unheld event of that key', async () => {
    const { outbox, path } = open();
    await outbox.enqueue([makeEvent({ sequenceKey: 'Press 1' })]);
    const cli = new SqliteOutbox({ path, role: 'operator', flows: [HOURLY] });
    await cli.enqueue([consumption('WH/MO/00012', 2)]);
    await cli.close();
    await outbox.enqueue([completed('WH/MO/00012')]);
    assert.deepEqual(
      outbox.list({ sequenceKey: 'WH/MO/00012' }).map((e) => e.type),
      ['material.consumed', 'production.completed'],
    );
    await outbox.close();
  });

  it('a flush is one transaction: when it fails nothing is released, and the re-run makes one event', async () => {
    const { outbox, path } = open();
    const members = [consumption('WH/MO/00012', 2), consumption('WH/MO/00012', 3)];
    const other = [consumption('WH/MO/00013', 1), consumption('WH/MO/00013', 1)];
    await outbox.enqueue([...other, ...members]);
    const expected = rollupId(HOURLY.name, members.map((e) => e.id).sort(), Date.parse(members[1]!.occurredAt));
    // The second key's roll-up cannot be written: the first key's (already written) must go back too.
    withFile(path, (db) =>
      db.exec(`CREATE TRIGGER fail_flush BEFORE INSERT ON events WHEN NEW.id = '${expected}' BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`),
    );
    assert.throws(() => outbox.flushFlow(HOURLY.name), /disk trouble/);
    assert.equal(outbox.counts().pending, 0, 'nothing queued');
    assert.equal(queued(outbox).length, 0);
    assert.equal(held(outbox), 4, 'everything still held');
    assert.equal(outbox.heldEvents, 4, 'and the in-memory count agrees');
    withFile(path, (db) => db.exec('DROP TRIGGER fail_flush'));
    assert.deepEqual(outbox.flushFlow(HOURLY.name), { flow: HOURLY.name, members: 4, events: 2, keys: 2 });
    assert.deepEqual(
      queued(outbox)
        .filter((e) => e.sequenceKey === 'WH/MO/00012')
        .map((e) => e.id),
      [expected],
      'the same id as the failed attempt',
    );
    assert.deepEqual(outbox.flushFlow(HOURLY.name).events, 0, 'a re-run adds nothing');
    assert.equal(outbox.counts().pending, 2);
    await outbox.close();
  });

  it('after a failed enqueue the key is still known to hold events', async () => {
    const { outbox, path } = open();
    await outbox.enqueue([consumption('WH/MO/00012', 2), consumption('WH/MO/00012', 3)]);
    const done = completed('WH/MO/00012');
    withFile(path, (db) =>
      db.exec(`CREATE TRIGGER fail_done BEFORE INSERT ON events WHEN NEW.type = 'production.completed' BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`),
    );
    await assert.rejects(outbox.enqueue([done]), /disk trouble/);
    assert.equal(held(outbox), 2, 'the release went back with the failed commit');
    withFile(path, (db) => db.exec('DROP TRIGGER fail_done'));
    await outbox.enqueue([done]);
    assert.deepEqual(
      outbox.list({ sequenceKey: 'WH/MO/00012' }).map((e) => e.type),
      ['material.consumed', 'production.completed'],
    );
    await outbox.close();
  });

  it('commits held events with the rules state and invalid input of the same call', async () => {
    const { outbox } = open();
    const bad = { source: 's', origin: 'scan', reason: 'not a GS1 code', raw: 'xx', receivedAt: at(1) };
    await outbox.enqueue([consumption('WH/MO/1', 1)], { ruleState: [['scan:line1', { order: 'WH/MO/1' }]], invalid: [bad] });
    assert.deepEqual(outbox.loadRuleState(), [['scan:line1', { order: 'WH/MO/1' }]]);
    assert.equal(outbox.counts().invalid, 1);
    assert.equal(held(outbox), 1);
    await outbox.close();
  });

  it('held events count against maxEvents: a full outbox refuses, never drops', async () => {
    const { outbox } = open([HOURLY], { maxEvents: 100 });
    await outbox.enqueue(Array.from({ length: 100 }, (_, i) => consumption(`WH/MO/${i}`, 1)));
    assert.equal(outbox.hasRoom(1), false);
    await assert.rejects(outbox.enqueue([consumption('WH/MO/1', 1)]), { code: 'OUTBOX_FULL' });
    assert.equal(held(outbox), 100);
    await outbox.close();
  });

  it('refuses to flush a flow that is not configured', async () => {
    const { outbox } = open();
    assert.throws(() => outbox.flushFlow('nope'), { code: 'UNKNOWN_FLOW' });
    await outbox.close();
  });

  it('releases events held for a flow the config no longer has, as that flow would have', async () => {
    const { outbox, path } = open();
    await outbox.enqueue([consumption('WH/MO/1', 1), consumption('WH/MO/1', 2), produced('WH/MO/2', 5)]);
    await outbox.close();
    const onlyProduction = flow(HOURLY.name, 'rollup', ['production.reported']);
    const again = new SqliteOutbox({ path, flows: [onlyProduction] });
    assert.equal(again.heldEvents, 3, 'nothing moves by merely opening');
    const released = again.releaseUnscheduledFlows();
    assert.deepEqual(released, [{ flow: HOURLY.name, members: 2, events: 1, keys: 1 }]);
    assert.equal((again.list({ sequenceKey: 'WH/MO/1' })[0]!.event.payload as { quantity: number }).quantity, 3);
    assert.equal(again.flowStatus()[0]!.held, 1, 'the production report is still held: its type is still in the flow');
    await again.close();
  });

  it('retention removes released members older than the done retention, and keeps held ones', async () => {
    let now = T0;
    const { outbox, path } = open([HOURLY], { clock: () => now });
    const old = consumption('WH/MO/1', 1);
    await outbox.enqueue([old, consumption('WH/MO/1', 2)]);
    outbox.flushFlow(HOURLY.name);
    now = T0 + 40 * 86_400_000;
    await outbox.enqueue([consumption('WH/MO/2', 1)]);
    const r = outbox.prune(now - 30 * 86_400_000, now - 30 * 86_400_000);
    assert.equal(r.flowMembers, 2);
    assert.equal(held(outbox), 1, 'a held event is never pruned');
    withFile(path, (db) => {
      assert.equal((db.prepare('SELECT count(*) AS n FROM flow_members').get() as { n: number }).n, 1);
      assert.equal((db.prepare('SELECT count(*) AS n FROM flow_rollup_types').get() as { n: number }).n, 0, 'no roll-up member left to remember');
    });
    await outbox.close();
  });

  it('costs nothing extra when no flow is configured (no store, events queued as before)', async () => {
    const { outbox } = open([]);
    const r = await outbox.enqueue([consumption('WH/MO/1', 1)]);
    assert.deepEqual(r, { inserted: 1, duplicates: 0 });
    assert.equal(outbox.counts().pending, 1);
    assert.equal((outbox as unknown as { flows: unknown }).flows, undefined);
    await outbox.close();
  });

  it('migration 4 adds the flow tables to an outbox written by version 3', async () => {
    const path = join(dir, `m${++n}.db`);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    assert.deepEqual(migrate(db, 3), [1, 2, 3]);
    db.close();
    const { outbox } = open([HOURLY], { path });
    assert.equal(
      withFile(path, (db) => db.pragma('user_version', { simple: true })),
      SCHEMA_VERSION,
    );
    assert.ok(SCHEMA_VERSION >= 4);
    await outbox.enqueue([consumption('WH/MO/1', 1)]);
    assert.equal(held(outbox), 1);
    await outbox.close();
  });
});
