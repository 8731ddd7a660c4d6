import assert from 'node:assert/strict';
import { describe, it, afterEach } from 'node:test';
import { CLOSED_PERIOD, type Outbox } from '../../agent/buffer/outbox';
import { OutboxFullError } from '../../agent/errors';
import type { FlowDefinition } from '../../agent/buffer/flows';
import { makeEvent, makeProduction } from '../helpers/events';
import { consumption, flow } from '../helpers/flow-events';

export interface OutboxFactory {
  /** A fresh, empty outbox. `maxEvents` bounds it. `clock` lets a test move time. `flows`: batch and roll-up flows. */
  open(opts?: { maxEvents?: number; clock?: () => number; flows?: FlowDefinition[] }): Outbox;
  /** Close and open the same store again (a restart), with the flows the new config has. */
  reopen(outbox: Outbox, opts?: { clock?: () => number; flows?: FlowDefinition[] }): Promise<Outbox>;
}

/** The behaviour every outbox implementation must have. */
export function outboxContract(name: string, factory: OutboxFactory): void {
  describe(`outbox contract: ${name}`, () => {
    let open: Outbox[] = [];
    const make = (opts?: Parameters<OutboxFactory['open']>[0]) => {
      const o = factory.open(opts);
      open.push(o);
      return o;
    };
    /** Close and open again (a restart); the new one is closed after the test. */
    const reopen = async (o: Outbox, opts?: Parameters<OutboxFactory['reopen']>[1]): Promise<Outbox> => {
      const o2 = await factory.reopen(o, opts);
      open = open.filter((x) => x !== o);
      open.push(o2);
      return o2;
    };
    afterEach(async () => {
      for (const o of open) await o.close();
      open = [];
    });

    it('commits an event and reads it back', async () => {
      const o = make();
      const e = makeEvent();
      const r = await o.enqueue([e]);
      assert.deepEqual(r, { inserted: 1, duplicates: 0 });
      const rec = o.get(e.id);
      assert.ok(rec);
      assert.equal(rec.state, 'pending');
      assert.deepEqual(rec.event, e);
      assert.equal(o.counts().pending, 1);
    });

    it('ignores a duplicate id and counts it', async () => {
      const o = make();
      const e = makeEvent();
      await o.enqueue([e]);
      // The same fact again: received later (another receivedAt), its payload's keys in another order.
      const again = { ...e, receivedAt: new Date().toISOString(), payload: Object.fromEntries(Object.entries(e.payload).reverse()) } as typeof e;
      const r = await o.enqueue([again]);
      assert.deepEqual(r, { inserted: 0, duplicates: 1 });
      assert.equal(o.counts().duplicates, 1);
      assert.equal(o.counts().conflicts, 0);
      assert.equal(o.counts().pending, 1);
    });

    it('keeps the same id with other content as a conflict with both versions (it was dropped silently as a duplicate)', async () => {
      const o = make();
      const e = makeEvent();
      await o.enqueue([e]);
      const corrected = { ...e, payload: { ...e.payload, reason: 'changed' } } as typeof e;
      const r = await o.enqueue([corrected]);
      assert.deepEqual(r, { inserted: 0, duplicates: 1, conflicts: 1 });
      assert.equal(o.counts().conflicts, 1);
      assert.equal(o.counts().pending, 1);
      assert.equal((o.get(e.id)!.event.payload as { reason: string }).reason, 'Material shortage', 'the first is kept');
      const [c] = o.listConflicts();
      assert.equal(c?.id, e.id);
      assert.deepEqual(c?.kept, e);
      assert.deepEqual(c?.refused, corrected);
    });

    it('claims only the head of each key, oldest first', async () => {
      const o = make();
      const a = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' })];
      const b = [makeEvent({ sequenceKey: 'B' }), makeEvent({ sequenceKey: 'B' })];
      await o.enqueue([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!]);
      const first = o.claim(10);
      assert.deepEqual(
        first.map((r) => r.id),
        [a[0]!.id, b[0]!.id],
      );
      assert.deepEqual(o.claim(10), [], 'a key with an event in flight has no other head');
      o.settle([{ seq: first[0]!.seq, outcome: 'done', odooIds: { 'mrp.workcenter.productivity': 7 } }]);
      const second = o.claim(10);
      assert.deepEqual(
        second.map((r) => r.id),
        [a[1]!.id],
      );
      assert.deepEqual(o.get(a[0]!.id)!.odooIds, { 'mrp.workcenter.productivity': 7 });
      assert.equal(o.get(a[0]!.id)!.state, 'done');
    });

    it('keeps order per key when many writers enqueue at once', async () => {
      const o = make();
      const keys = ['MO-1', 'MO-2', 'MO-3', 'MO-4'];
      const perWriter = new Map<string, string[]>();
      const writers = Array.from({ length: 12 }, async (_, w) => {
        for (let i = 0; i < 25; i++) {
          const key = keys[(w + i) % keys.length]!;
          const e = makeProduction(key, i + 1);
          const list = perWriter.get(`${w}/${key}`) ?? [];
          list.push(e.id);
          perWriter.set(`${w}/${key}`, list);
          await o.enqueue([e]);
        }
      });
      await Promise.all(writers);
      assert.equal(o.counts().pending, 300);
      const delivered = new Map<string, string[]>();
      for (;;) {
        const claimed = o.claim(3);
        if (claimed.length === 0) break;
        const seen = new Set(claimed.map((r) => r.sequenceKey));
        assert.equal(seen.size, claimed.length, 'never two events of one key at once');
        for (const r of claimed) delivered.set(r.sequenceKey, [...(delivered.get(r.sequenceKey) ?? []), r.id]);
        o.settle(claimed.map((r) => ({ seq: r.seq, outcome: 'done' as const, odooIds: {} })));
      }
      for (const [wk, ids] of perWriter) {
        const key = wk.split('/')[1]!;
        const order = delivered.get(key)!;
        const positions = ids.map((id) => order.indexOf(id));
        assert.ok(
          positions.every((p) => p >= 0),
          'every event delivered',
        );
        assert.deepEqual(
          [...positions].sort((x, y) => x - y),
          positions,
          `writer order kept on ${key}`,
        );
      }
      assert.equal(o.counts().done, 300);
      assert.equal(o.counts().unfinished, 0);
    });

    it('retrying waits for its time, then keeps its place as head', async () => {
      let now = 1_000_000;
      const o = make({ clock: () => now });
      const [e1, e2] = [makeEvent({ sequenceKey: 'K' }), makeEvent({ sequenceKey: 'K' })];
      await o.enqueue([e1!, e2!]);
      const [c] = o.claim(5);
      o.settle([{ seq: c!.seq, outcome: 'retry', nextAttemptAt: now + 5000, error: 'HTTP 503', code: 'HTTP_503' }]);
      const rec = o.get(e1!.id)!;
      assert.equal(rec.state, 'retrying');
      assert.equal(rec.nextAttemptAt, now + 5000);
      assert.equal(rec.attempts, 1);
      assert.deepEqual(o.claim(5), [], 'not before its time, and the next event of the key waits too');
      assert.equal(o.nextRetryAt(), now + 5000);
      now += 5000;
      const again = o.claim(5);
      assert.deepEqual(
        again.map((r) => r.id),
        [e1!.id],
      );
      assert.equal(o.counts().retrying, 0);
      assert.equal(o.counts().inflight, 1);
    });

    it('a blocking park holds its key; a skippable park lets it pass', async () => {
      const o = make();
      const [a1, a2, b1, b2] = [
        makeEvent({ sequenceKey: 'A' }),
        makeEvent({ sequenceKey: 'A' }),
        makeEvent({ sequenceKey: 'B' }),
        makeEvent({ sequenceKey: 'B' }),
      ];
      await o.enqueue([a1!, a2!, b1!, b2!]);
      const claimed = o.claim(5);
      o.settle([
        { seq: claimed[0]!.seq, outcome: 'park', reason: 'UserError: no such work center', code: 'UserError', blocking: true },
        { seq: claimed[1]!.seq, outcome: 'park', reason: 'ValidationError: bad value', code: 'ValidationError', blocking: false },
      ]);
      assert.equal(o.get(a1!.id)!.state, 'parked');
      assert.equal(o.get(a1!.id)!.error, 'UserError: no such work center');
      const next = o.claim(5);
      assert.deepEqual(
        next.map((r) => r.id),
        [b2!.id],
        'A is blocked by its parked head; B moved on',
      );
      assert.equal(o.counts().parked, 2);
    });

    it('lists parked events by their code: only those parked with it (the status page kept every parked event under "closed period")', async () => {
      const o = make();
      const [a, b] = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'B' })];
      await o.enqueue([a!, b!]);
      const [ca, cb] = o.claim(5);
      o.settle([
        { seq: ca!.seq, outcome: 'park', reason: 'period locked', code: CLOSED_PERIOD, blocking: true },
        { seq: cb!.seq, outcome: 'park', reason: 'UserError: no such work center', code: 'UserError', blocking: true },
      ]);
      assert.deepEqual(
        o.list({ state: 'parked', errorCode: CLOSED_PERIOD }).map((r) => r.id),
        [a!.id],
      );
      assert.deepEqual(
        o.list({ state: 'parked', errorCode: 'UserError' }).map((r) => r.id),
        [b!.id],
      );
      assert.equal(o.list({ state: 'parked' }).length, 2);
    });

    it('retry, skip and edit of parked events, each written to the audit log', async () => {
      const o = make();
      const [a1, a2] = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' })];
      await o.enqueue([a1!, a2!]);
      let [c] = o.claim(5);
      o.settle([{ seq: c!.seq, outcome: 'park', reason: 'unknown loss reason', blocking: true }]);
      assert.throws(() => o.edit(a1!.id, 'payload.reason', 42, 'alice'), /not valid/);
      assert.throws(() => o.edit(a1!.id, 'payload.__proto__.polluted', 'x', 'mallory'), /not a payload field name/);
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing written onto Object.prototype');
      const edited = o.edit(a1!.id, 'payload.reason', 'Breakdown', 'alice');
      assert.equal(edited.state, 'pending');
      assert.equal((edited.event.payload as { reason: string }).reason, 'Breakdown');
      assert.equal((edited.originalPayload as { reason: string }).reason, 'Material shortage');
      [c] = o.claim(5);
      assert.equal(c!.id, a1!.id);
      o.settle([{ seq: c!.seq, outcome: 'park', reason: 'still wrong', blocking: true }]);
      assert.equal(o.retry({ ids: [a1!.id] }, 'bob'), 1);
      [c] = o.claim(5);
      assert.equal(c!.id, a1!.id);
      o.settle([{ seq: c!.seq, outcome: 'park', reason: 'give up', blocking: true }]);
      assert.equal(o.skip({ state: 'parked' }, 'carol', 'duplicate of a manual entry'), 1);
      assert.equal(o.get(a1!.id)!.state, 'skipped');
      [c] = o.claim(5);
      assert.equal(c!.id, a2!.id, 'skipping the head frees the key');
      const audit = o.listAudit();
      assert.deepEqual(
        audit.map((x) => `${x.actor}:${x.action}`),
        ['carol:skip', 'bob:retry', 'alice:edit'],
      );
    });

    it('replays done events in a time window', async () => {
      let now = 5_000_000;
      const o = make({ clock: () => now });
      const es = [makeEvent({ sequenceKey: 'R' }), makeEvent({ sequenceKey: 'R' }), makeEvent({ sequenceKey: 'R' })];
      await o.enqueue(es);
      for (let i = 0; i < 3; i++) {
        now += 1000;
        const [c] = o.claim(1);
        o.settle([{ seq: c!.seq, outcome: 'done', odooIds: { x: i } }]);
      }
      assert.equal(o.replay(now - 1500, now, 'ops'), 2, 'the last two were done inside the window');
      const again = o.claim(5);
      assert.deepEqual(
        again.map((r) => r.id),
        [es[1]!.id],
        'replayed events keep their order',
      );
      assert.equal(o.counts().done, 1);
      assert.equal(o.counts().pending + o.counts().inflight, 2);
    });

    it('turns inflight back into pending after a restart', async () => {
      const o = make();
      const e = makeEvent();
      await o.enqueue([e]);
      assert.equal(o.claim(1).length, 1);
      const o2 = await reopen(o);
      assert.equal(o2.get(e.id)!.state, 'pending');
      assert.equal(o2.counts().inflight, 0);
      assert.equal(o2.claim(1)[0]!.id, e.id);
    });

    const runs = { types: new Set(['downtime.started']), max: 10 };

    it('claims a run: the head and the events behind it of the same type, in order, up to the first other type', async () => {
      const o = make();
      const a = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' })];
      const other = makeProduction('A', 5);
      const last = makeEvent({ sequenceKey: 'A' });
      await o.enqueue([...a, other, last]);
      const run = o.claim(50, undefined, runs);
      assert.deepEqual(
        run.map((r) => r.id),
        a.map((e) => e.id),
        'the run stops before the production event',
      );
      assert.equal(o.counts().inflight, 3);
      assert.deepEqual(o.claim(50, undefined, runs), [], 'nothing of a key while its run is in flight');
      o.settle(run.map((r) => ({ seq: r.seq, outcome: 'done' as const, odooIds: { x: r.seq } })));
      assert.deepEqual(
        o.claim(50, undefined, runs).map((r) => r.id),
        [other.id],
        'a type outside the policy comes alone',
      );
    });

    it('shares the room after the heads evenly among the keys', async () => {
      const o = make();
      const events = [];
      for (let i = 0; i < 10; i++) events.push(makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'B' }));
      await o.enqueue(events);
      const claimed = o.claim(6, undefined, runs);
      assert.deepEqual(
        claimed.map((r) => r.sequenceKey),
        ['A', 'A', 'A', 'B', 'B', 'B'],
      );
      assert.deepEqual(
        claimed.filter((r) => r.sequenceKey === 'A').map((r) => r.id),
        events
          .filter((e) => e.sequenceKey === 'A')
          .slice(0, 3)
          .map((e) => e.id),
      );
      const small = { types: runs.types, max: 2 };
      o.settle(claimed.map((r) => ({ seq: r.seq, outcome: 'done' as const, odooIds: {} })));
      assert.equal(o.claim(50, undefined, small).length, 4, 'at most runs.max events of one key');
    });

    it('a run that failed comes back whole when its head is due; a released follower waits for its head', async () => {
      let now = 1_000_000;
      const o = make({ clock: () => now });
      const a = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' })];
      await o.enqueue(a);
      let run = o.claim(10, now, runs);
      o.settle(run.map((r) => ({ seq: r.seq, outcome: 'retry' as const, nextAttemptAt: now + 1000, error: 'HTTP 503' })));
      assert.deepEqual(o.claim(10, now, runs), [], 'not before the head is due');
      now += 1000;
      run = o.claim(10, now, runs);
      assert.deepEqual(
        run.map((r) => r.id),
        a.map((e) => e.id),
      );
      // The head went; the rest was held back (released) in the same settlement.
      o.settle([
        { seq: run[0]!.seq, outcome: 'done', odooIds: {} },
        { seq: run[1]!.seq, outcome: 'release' },
        { seq: run[2]!.seq, outcome: 'release' },
      ]);
      assert.equal(o.get(a[1]!.id)!.attempts, 1, 'a release counts no attempt');
      assert.deepEqual(
        o.claim(10, now, runs).map((r) => r.id),
        [a[1]!.id, a[2]!.id],
      );
    });

    it('a parked event inside a run blocks the rest of its key', async () => {
      const o = make();
      const a = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' })];
      await o.enqueue(a);
      const run = o.claim(10, undefined, runs);
      o.settle([
        { seq: run[0]!.seq, outcome: 'done', odooIds: {} },
        { seq: run[1]!.seq, outcome: 'park', reason: 'refused', blocking: true },
        { seq: run[2]!.seq, outcome: 'release' },
      ]);
      assert.deepEqual(o.claim(10, undefined, runs), [], 'the key waits behind its parked event');
      assert.equal(o.retry({ ids: [a[1]!.id] }, 'test'), 1);
      assert.deepEqual(
        o.claim(10, undefined, runs).map((r) => r.id),
        [a[1]!.id, a[2]!.id],
      );
    });

    it('turns a whole run in flight back into pending after a restart', async () => {
      const o = make();
      const a = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' })];
      await o.enqueue(a);
      assert.equal(o.claim(10, undefined, runs).length, 3);
      const o2 = await reopen(o);
      assert.equal(o2.counts().inflight, 0);
      assert.equal(o2.counts().pending, 3);
      assert.deepEqual(
        o2.claim(10, undefined, runs).map((r) => r.id),
        a.map((e) => e.id),
      );
    });

    it('claims the events behind a run in flight, of its type, and nothing of a key with nothing in flight', async () => {
      const o = make();
      const a = Array.from({ length: 5 }, () => makeEvent({ sequenceKey: 'A' }));
      const other = makeProduction('A', 5);
      const b = [makeEvent({ sequenceKey: 'B' }), makeEvent({ sequenceKey: 'B' })];
      await o.enqueue([...a, other, makeEvent({ sequenceKey: 'A' }), ...b]);
      const run = o.claim(2, undefined, { types: runs.types, max: 2 });
      assert.deepEqual(
        run.map((r) => r.id),
        [a[0]!.id, b[0]!.id],
        'two heads: no room for followers',
      );
      const aSeq = (i: number) => o.get(a[i]!.id)!.seq;
      let next = o.claimFollowing('downtime.started', [{ sequenceKey: 'A', afterSeq: aSeq(0) }], 2);
      assert.deepEqual(
        next.map((r) => r.id),
        [a[1]!.id, a[2]!.id],
        'the next two of A, in order',
      );
      assert.ok(next.every((r) => r.state === 'inflight'));
      assert.equal(o.counts().inflight, 4);
      next = o.claimFollowing('downtime.started', [{ sequenceKey: 'A', afterSeq: aSeq(2) }], 10);
      assert.deepEqual(
        next.map((r) => r.id),
        [a[3]!.id, a[4]!.id],
        'up to the event of another type',
      );
      assert.deepEqual(
        o.claimFollowing('production.reported', [{ sequenceKey: 'A', afterSeq: aSeq(1) }], 10),
        [],
        'the tail given must be the last in flight: the next one is already out',
      );
      assert.deepEqual(
        o.claimFollowing('downtime.started', [{ sequenceKey: 'B', afterSeq: o.get(b[1]!.id)!.seq }], 10),
        [],
        'a tail that is not in flight brings nothing',
      );
      assert.deepEqual(o.claimFollowing('downtime.started', [{ sequenceKey: 'B', afterSeq: aSeq(4) }], 10), [], 'a tail of another key brings nothing');
      assert.equal(o.counts().inflight, 6);
      assert.deepEqual(o.claim(10, undefined, runs), [], 'nothing more of A or B while they are in flight');
      // The head is done; the first followers went too; the rest is handed back.
      o.settle([
        { seq: aSeq(0), outcome: 'done', odooIds: {} },
        { seq: aSeq(1), outcome: 'done', odooIds: {} },
        { seq: aSeq(2), outcome: 'release' },
        { seq: aSeq(3), outcome: 'release' },
        { seq: aSeq(4), outcome: 'release' },
      ]);
      assert.equal(o.get(a[2]!.id)!.attempts, 0, 'handed back without an attempt');
      assert.deepEqual(
        o.claim(10, undefined, runs).map((r) => r.id),
        [a[2]!.id, a[3]!.id, a[4]!.id],
        'A goes on where it stopped',
      );
    });

    it('events claimed behind a run in flight are pending again after a restart', async () => {
      const o = make();
      const a = Array.from({ length: 4 }, () => makeEvent({ sequenceKey: 'A' }));
      await o.enqueue(a);
      const [head] = o.claim(1, undefined, runs);
      assert.equal(o.claimFollowing('downtime.started', [{ sequenceKey: 'A', afterSeq: head!.seq }], 10).length, 3);
      const o2 = await reopen(o);
      assert.deepEqual(o2.counts().inflight, 0);
      assert.deepEqual(
        o2.claim(10, undefined, runs).map((r) => r.id),
        a.map((e) => e.id),
        'the whole key again, in order',
      );
    });

    it('a run in flight spread over thousands of events is pending again after a restart', async () => {
      const o = make();
      const a = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' })];
      const others = Array.from({ length: 2100 }, (_, i) => makeEvent({ sequenceKey: `K-${i % 7}` }));
      await o.enqueue([a[0]!, ...others.slice(0, 1100), a[1]!, ...others.slice(1100), a[2]!]);
      const [head] = o.claim(1, undefined, runs);
      assert.equal(o.claimFollowing('downtime.started', [{ sequenceKey: 'A', afterSeq: head!.seq }], 10).length, 2);
      const o2 = await reopen(o);
      assert.equal(o2.counts().inflight, 0);
      assert.deepEqual(o2.list({ state: 'inflight', limit: 10 }), []);
      assert.deepEqual(
        o2
          .claim(100, undefined, runs)
          .filter((r) => r.sequenceKey === 'A')
          .map((r) => r.id)
          .slice(0, 1),
        [a[0]!.id],
        'A starts again at its head',
      );
    });

    it('names the oldest head that could be claimed now', async () => {
      let now = 1_000_000;
      const o = make({ clock: () => now });
      assert.equal(o.oldestReadySeq(now), null, 'none when empty');
      const [a, b] = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'B' })];
      await o.enqueue([a, b]);
      assert.equal(o.oldestReadySeq(now), o.get(a.id)!.seq);
      const [claimed] = o.claim(1, now);
      assert.equal(claimed!.id, a.id);
      assert.equal(o.oldestReadySeq(now), o.get(b.id)!.seq, 'a key in flight is not ready');
      o.settle([{ seq: claimed!.seq, outcome: 'retry', nextAttemptAt: now + 500, error: 'HTTP 503' }]);
      assert.equal(o.oldestReadySeq(now), o.get(b.id)!.seq, 'a retry that is not due is not ready');
      now += 500;
      assert.equal(o.oldestReadySeq(now), o.get(a.id)!.seq, 'due again');
    });

    it("finds a key's next events and its next head across thousands of other events", async () => {
      const o = make();
      const a = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' })];
      const others = Array.from({ length: 2500 }, (_, i) => makeEvent({ sequenceKey: `K-${i % 40}` }));
      const late = [makeEvent({ sequenceKey: 'A' }), makeEvent({ sequenceKey: 'A' })];
      await o.enqueue([a[0]!, ...others.slice(0, 1200), a[1]!, ...others.slice(1200), ...late]);
      const [head] = o.claim(1, undefined, runs);
      assert.equal(head!.id, a[0]!.id);
      assert.deepEqual(
        o.claimFollowing('downtime.started', [{ sequenceKey: 'A', afterSeq: head!.seq }], 10).map((r) => r.id),
        [a[1]!.id, ...late.map((e) => e.id)],
        'the rest of A, thousands of events apart, in order',
      );
      o.settle([{ seq: head!.seq, outcome: 'done', odooIds: {} }, ...[a[1]!, ...late].map((e) => ({ seq: o.get(e.id)!.seq, outcome: 'release' as const }))]);
      // A's next head lies more than a thousand events later (40 other keys share the room: one follower each).
      const claimed = o.claim(100, undefined, runs).filter((r) => r.sequenceKey === 'A');
      assert.deepEqual(
        claimed.map((r) => r.id),
        [a[1]!.id, late[0]!.id],
      );
      o.settle([
        { seq: claimed[0]!.seq, outcome: 'done', odooIds: {} },
        { seq: claimed[1]!.seq, outcome: 'park', reason: 'refused', blocking: true },
      ]);
      assert.deepEqual(
        o.claim(100, undefined, runs).filter((r) => r.sequenceKey === 'A'),
        [],
        'A waits behind its parked event',
      );
      assert.equal(o.retry({ ids: [late[0]!.id] }, 'test'), 1);
      assert.deepEqual(
        o
          .claim(100, undefined, runs)
          .filter((r) => r.sequenceKey === 'A')
          .map((r) => r.id),
        late.map((e) => e.id),
      );
    });

    it('refuses with a typed error when full, and drops nothing', async () => {
      const o = make({ maxEvents: 100 });
      await o.enqueue(Array.from({ length: 100 }, () => makeEvent({ sequenceKey: 'F' })));
      const extra = makeEvent({ sequenceKey: 'F' });
      await assert.rejects(o.enqueue([extra]), (err: unknown) => err instanceof OutboxFullError && err.code === 'OUTBOX_FULL');
      assert.equal(o.get(extra.id), undefined);
      assert.equal(o.counts().pending, 100);
      assert.equal(o.hasRoom(), false);
      const [c] = o.claim(1);
      o.settle([{ seq: c!.seq, outcome: 'done', odooIds: {} }]);
      assert.equal(o.hasRoom(), true);
      await o.enqueue([extra]);
      assert.equal(o.get(extra.id)!.state, 'pending');
    });

    it('keeps invalid input and rule state with the events', async () => {
      const o = make();
      const e = makeEvent();
      await o.enqueue([e], {
        ruleState: [['press-1-counter', { last: 41 }]],
        invalid: [{ source: 'mes', origin: 'plant/line1/events', reason: 'not JSON', raw: '{oops', receivedAt: new Date().toISOString() }],
      });
      assert.deepEqual(o.loadRuleState(), [['press-1-counter', { last: 41 }]]);
      const bad = o.listInvalid();
      assert.equal(bad.length, 1);
      assert.equal(bad[0]!.raw, '{oops');
      assert.equal(o.counts().invalid, 1);
    });

    it('prunes done events older than the retention age, and nothing else', async () => {
      let now = 10_000_000;
      const o = make({ clock: () => now });
      const es = [makeEvent({ sequenceKey: 'P1' }), makeEvent({ sequenceKey: 'P2' })];
      await o.enqueue(es);
      const [c] = o.claim(1);
      o.settle([{ seq: c!.seq, outcome: 'done', odooIds: {} }]);
      now += 10_000;
      const removed = o.prune(now - 5000, now - 5000);
      assert.equal(removed.events, 1);
      assert.equal(o.get(es[0]!.id), undefined);
      assert.equal(o.get(es[1]!.id)!.state, 'pending');
      assert.equal(o.counts().done, 0);
    });

    it("holds the events of a flow's types, shows them in flowStatus, and queues them when the flow is released", async () => {
      const batch = flow('consumption-batch', 'batch', ['material.consumed']);
      const o = make({ flows: [batch] });
      const held = [consumption('WH/MO/7', 2), consumption('WH/MO/7', 3)];
      const r = await o.enqueue(held);
      assert.deepEqual(r, { inserted: 2, duplicates: 0, held: 2 });
      assert.equal(o.heldEvents, 2);
      const [status] = o.flowStatus();
      assert.equal(status?.name, 'consumption-batch');
      assert.equal(status?.held, 2);
      assert.equal(status?.keys, 1);
      assert.ok(status?.heldSince !== null && status?.oldestOccurredAt === held[0]!.occurredAt);
      assert.deepEqual(o.claim(10), [], 'nothing held is sendable');
      assert.deepEqual(o.flushFlow('consumption-batch'), { flow: 'consumption-batch', members: 2, events: 2, keys: 1 });
      assert.equal(o.heldEvents, 0);
      assert.equal(o.flowStatus()[0]?.held, 0);
      assert.deepEqual(
        o.claim(10).map((x) => x.id),
        [held[0]!.id],
        "released in arrival order, the first is the key's head",
      );
      assert.throws(
        () => o.flushFlow('no-such-flow'),
        (e: Error & { code?: string }) => e.code === 'UNKNOWN_FLOW',
      );
    });

    it('releases events held for a flow the config no longer has', async () => {
      const batch = flow('consumption-batch', 'batch', ['material.consumed']);
      const o = make({ flows: [batch] });
      const held = consumption('WH/MO/8', 1);
      await o.enqueue([held]);
      const o2 = await reopen(o, { flows: [] });
      assert.equal(o2.heldEvents, 1, 'still held after the restart');
      assert.deepEqual(o2.flowStatus(), [], 'no flow is configured now');
      assert.deepEqual(o2.releaseUnscheduledFlows(), [{ flow: 'consumption-batch', members: 1, events: 1, keys: 1 }]);
      assert.equal(o2.heldEvents, 0);
      assert.equal(o2.claim(10)[0]?.id, held.id);
    });
  });
}
