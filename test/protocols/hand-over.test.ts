import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { AgentError, OutboxFullError } from '../../agent/errors';
import type { InvalidInput, Signal } from '../../agent/model/signal';
import { HandOver, type HandOverOptions, type Held } from '../../agent/protocols/hand-over';
import { until } from '../helpers/until';

const silent = pino({ level: 'silent' });

function sig(tag: string, value: string | number): Signal {
  const t = '2026-01-01T00:00:00.000Z';
  return { source: 'line-1', tag, value, quality: 'good', sourceTime: t, receivedAt: t };
}

function bad(reason: string): InvalidInput {
  return { source: 'line-1', origin: 'port', reason, raw: 'AA==', encoding: 'base64', receivedAt: '2026-01-01T00:00:00.000Z' };
}

const view = (list: Signal[]) => list.map((s) => `${s.tag}=${String(s.value)}`);

/**
 * An outbox stand-in. `refuse` decides per emit whether it fails (OUTBOX_FULL by
 * default); `gate` makes emits wait until opened.
 */
function outbox() {
  const o = {
    batches: [] as Signal[][],
    taken: [] as string[],
    offers: 0,
    offeredAt: [] as number[],
    refuse: false as boolean | Error,
    refuseReject: false,
    gate: null as Promise<void> | null,
    ctx: {
      emit: async (signals: Signal[]) => {
        o.offers++;
        o.offeredAt.push(Date.now());
        if (o.gate) await o.gate;
        if (o.refuse) throw o.refuse === true ? new OutboxFullError(10) : o.refuse;
        o.batches.push(signals);
        o.taken.push(...view(signals));
      },
      reject: async (input: InvalidInput) => {
        if (o.refuseReject) throw new OutboxFullError(10);
        o.taken.push(`invalid:${input.reason}`);
      },
    },
  };
  return o;
}

function handOver<N = undefined>(o: ReturnType<typeof outbox>, options: Partial<HandOverOptions<N>> = {}, log = silent): HandOver<N> {
  const h = new HandOver<N>(o.ctx, log, { policy: 'keep-all', limit: 100, retry: { initialMs: 10, maxMs: 20 }, ...options });
  h.start();
  return h;
}

const waitFor = (what: string, cond: () => boolean, ms = 3000): Promise<void> => until(cond, what, ms);

const turn = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('hand-over: keep all', () => {
  it('holds what the outbox refuses, in order, and hands everything over once it takes again', async () => {
    const o = outbox();
    o.refuse = true;
    const h = handOver(o);
    for (const v of ['A', 'B', 'C']) h.hold(sig('scan', v));
    await waitFor('two refused offers', () => o.offers >= 2);
    assert.equal(h.size, 3);
    assert.equal(h.refusing, true);
    assert.equal(h.lastError?.code, 'OUTBOX_FULL');
    h.hold(sig('scan', 'D'));
    o.refuse = false;
    await waitFor('all taken', () => h.size === 0);
    assert.deepEqual(o.taken, ['scan=A', 'scan=B', 'scan=C', 'scan=D']);
    assert.equal(h.refusing, false);
    assert.equal(h.counts.signals, 4);
    assert.ok(h.counts.refusals >= 2);
    await h.stop(100);
  });

  it('what arrives in the same loop turn goes in one offer, at most batchSize', async () => {
    const o = outbox();
    const h = handOver(o, { batchSize: 3 });
    for (const v of [1, 2, 3, 4, 5]) h.hold(sig('count', v));
    await waitFor('all taken', () => h.size === 0);
    assert.deepEqual(
      o.batches.map((b) => b.length),
      [3, 2],
    );
    h.hold(sig('count', 6));
    await waitFor('the sixth', () => h.size === 0);
    assert.equal(o.batches.at(-1)?.length, 1);
    await h.stop(100);
  });

  it('tells the source when it is full and when there is room again, and drops nothing beyond the limit', async () => {
    const o = outbox();
    o.refuse = true;
    const told: string[] = [];
    const h = handOver(o, { limit: 3, onFull: () => told.push('full'), onSpace: () => told.push('space') });
    h.hold(sig('scan', 'A'));
    h.hold(sig('scan', 'B'));
    assert.equal(h.full, false);
    h.hold(sig('scan', 'C'));
    assert.equal(h.full, true);
    assert.deepEqual(told, ['full']);
    h.hold(sig('scan', 'D')); // read before the source stopped: kept all the same
    assert.equal(h.size, 4);
    await waitFor('refused', () => o.offers >= 1);
    o.refuse = false;
    await waitFor('all taken', () => h.size === 0);
    assert.deepEqual(told, ['full', 'space']);
    assert.equal(h.full, false);
    assert.deepEqual(o.taken, ['scan=A', 'scan=B', 'scan=C', 'scan=D']);
    await h.stop(100);
  });

  it('reports committed items in arrival order, even when a later one commits first', async () => {
    const o = outbox();
    o.refuse = true;
    const committed: string[] = [];
    const h = handOver<string>(o, { onCommitted: (items) => committed.push(...items.map((i) => i.note)) });
    h.hold(sig('m', 1), 'first');
    h.holdInvalid(bad('not JSON'), 'second');
    h.hold(sig('m', 3), 'third');
    await waitFor('the undecodable one committed', () => o.taken.includes('invalid:not JSON'));
    await sleep(30);
    assert.deepEqual(committed, [], 'nothing reported while the first is not committed');
    assert.equal(h.size, 3);
    o.refuse = false;
    await waitFor('all committed', () => committed.length === 3);
    assert.deepEqual(committed, ['first', 'second', 'third']);
    assert.deepEqual(o.taken, ['invalid:not JSON', 'm=1', 'm=3']);
    assert.equal(h.counts.invalid, 1, 'the undecodable one was committed once');
    await h.stop(100);
  });

  it('a failure that is not OUTBOX_FULL is held and offered again too, and logged as an error', async () => {
    const o = outbox();
    o.refuse = new AgentError('DISK_IO', 'disk I/O error');
    const lines: Array<{ level: number; msg: string; code?: string }> = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l) as { level: number; msg: string }) });
    const refused: string[] = [];
    const h = handOver(o, { onRefused: (err) => refused.push((err as AgentError).code) }, log);
    h.hold(sig('scan', 'X'));
    await waitFor('three offers', () => o.offers >= 3);
    assert.equal(h.refusing, true);
    assert.equal(h.lastError?.code, 'DISK_IO');
    assert.ok(refused.length >= 2 && refused.every((c) => c === 'DISK_IO'));
    const errors = lines.filter((l) => l.level === 50);
    assert.equal(errors.length, 1, 'one error line per spell, not one per retry');
    assert.equal(errors[0]!.code, 'DISK_IO');
    o.refuse = false;
    await waitFor('taken', () => h.size === 0);
    assert.deepEqual(o.taken, ['scan=X']);
    assert.ok(lines.some((l) => l.level === 30 && /takes scans again|takes signals again/.test(l.msg)));
    await h.stop(100);
  });

  it('waits between offers grow from the floor and stay within the cap', async () => {
    const o = outbox();
    o.refuse = true;
    const h = handOver(o, { retry: { initialMs: 1, maxMs: 60, floorMs: 40 } });
    h.hold(sig('scan', 'A'));
    await waitFor('five offers', () => o.offers >= 5);
    const gaps = o.offeredAt.slice(1).map((t, i) => t - o.offeredAt[i]!);
    for (const g of gaps) {
      assert.ok(g >= 39, `a wait of ${g} ms is below the floor`);
      assert.ok(g < 60 + 150, `a wait of ${g} ms is far above the cap`);
    }
    await h.stop(100);
  });

  it('forgets what the source will send again, also while it is being offered', async () => {
    const o = outbox();
    let open!: () => void;
    o.gate = new Promise<void>((r) => (open = r));
    const committed: number[] = [];
    const h = handOver<number>(o, { limit: 2, onCommitted: (items) => committed.push(...items.map((i) => i.note)) });
    h.hold(sig('m', 1), 1);
    h.hold(sig('m', 2), 2);
    await waitFor('offered', () => o.offers === 1);
    h.hold(sig('m', 3), 3);
    assert.equal(h.full, true);
    assert.equal(
      h.forget((i) => i.note !== 3),
      2,
    );
    assert.equal(h.size, 1);
    assert.equal(h.full, false);
    o.gate = null;
    open();
    await waitFor('the third committed', () => committed.includes(3));
    assert.deepEqual(committed, [3], 'forgotten items are never reported, even though their offer went through');
    await h.stop(100);
  });

  it('a source callback that throws does not stop the hand-over', async () => {
    const o = outbox();
    const h = handOver(o, {
      onCommitted: () => {
        throw new Error('ack failed');
      },
    });
    h.hold(sig('m', 1));
    await waitFor('first', () => h.size === 0);
    h.hold(sig('m', 2));
    await waitFor('second', () => o.taken.length === 2);
    await h.stop(100);
  });
});

describe('hand-over: latest value per tag', () => {
  const cases: Array<[string, number, Array<[string, number]>, string[], number]> = [
    [
      'keeps every change in order while there is room',
      10,
      [
        ['a', 1],
        ['b', 1],
        ['a', 2],
      ],
      ['a=1', 'b=1', 'a=2'],
      0,
    ],
    [
      'beyond the limit keeps only the newest of each tag, never losing a tag',
      4,
      [
        ['a', 1],
        ['b', 1],
        ['a', 2],
        ['c', 1],
        ['a', 3],
      ],
      ['b=1', 'c=1', 'a=3'],
      2,
    ],
  ];
  for (const [what, limit, held, taken, coalesced] of cases) {
    it(what, async () => {
      const o = outbox();
      const h = handOver(o, { policy: 'latest-per-tag', limit });
      for (const [tag, v] of held) h.hold(sig(tag, v));
      await waitFor('taken', () => h.size === 0);
      assert.deepEqual(o.taken, taken);
      assert.equal(h.counts.coalesced, coalesced);
      await h.stop(100);
    });
  }

  it('never folds the batch under way; a refused batch goes back in front of newer changes, then folds', async () => {
    const o = outbox();
    let open!: () => void;
    o.gate = new Promise<void>((r) => (open = r));
    o.refuse = true;
    const h = handOver(o, { policy: 'latest-per-tag', limit: 3 });
    for (const s of [sig('a', 1), sig('b', 1), sig('c', 1)]) h.hold(s);
    await waitFor('offered', () => o.offers === 1);
    for (const s of [sig('a', 2), sig('b', 2), sig('a', 3), sig('b', 3)]) h.hold(s);
    assert.equal(h.counts.coalesced, 2, 'the waiting changes folded');
    assert.equal(h.size, 5, 'the batch under way is not folded');
    open();
    await waitFor('refused and folded', () => h.size === 3);
    o.gate = null;
    o.refuse = false;
    await waitFor('taken', () => h.size === 0);
    assert.deepEqual(o.taken, ['c=1', 'a=3', 'b=3']);
    assert.equal(h.counts.coalesced, 4);
    await h.stop(100);
  });

  it('stays bounded under a long refusal with few tags, holding the latest of each', async () => {
    const o = outbox();
    o.refuse = true;
    const h = handOver(o, { policy: 'latest-per-tag', limit: 100, retry: { initialMs: 1000, maxMs: 1000, floorMs: 1000 } });
    for (let i = 0; i < 100_000; i++) h.hold(sig(`t${i % 7}`, i));
    assert.ok(h.size <= 100, `${h.size} held`);
    o.refuse = false;
    const left = await h.stop(2000);
    assert.deepEqual(left, []);
    const last = new Map<string, unknown>();
    for (const s of o.batches.flat()) last.set(s.tag, s.value);
    for (let t = 0; t < 7; t++) assert.equal(last.get(`t${t}`), 99_999 - ((99_999 - t) % 7), `latest value of t${t}`);
  });

  it('refuses a limit below 1', () => {
    assert.throws(() => new HandOver(outbox().ctx, silent, { policy: 'latest-per-tag', limit: 0, retry: { initialMs: 1, maxMs: 1 } }), RangeError);
  });
});

describe('hand-over: per poll group', () => {
  it('offers each group on its own; a refused group is busy and does not hold up the others', async () => {
    const o = outbox();
    const failing = new Set(['press/counters']);
    o.ctx.emit = async (signals: Signal[]) => {
      o.offers++;
      if (signals.some((s) => failing.has(String(s.meta?.group)))) throw new OutboxFullError(10);
      o.taken.push(...view(signals));
    };
    const committed: string[] = [];
    const h = handOver(o, { policy: 'per-poll-group', limit: 10, onCommitted: (_items, group) => committed.push(group) });
    const at = (group: string, tag: string, v: number) => ({ ...sig(tag, v), meta: { group } });
    h.holdPoll('press/counters', [at('press/counters', 'good', 1), at('press/counters', 'scrap', 2)]);
    h.holdPoll('press/state', [at('press/state', 'running', 1)]);
    assert.equal(h.holds('press/counters'), true);
    assert.equal(h.holds('press/state'), true);
    await waitFor('state taken', () => !h.holds('press/state'));
    await waitFor('counters refused twice', () => h.counts.refusals >= 2);
    assert.deepEqual(o.taken, ['running=1']);
    assert.deepEqual(committed, ['press/state']);
    assert.deepEqual(h.refusedGroups(), [{ group: 'press/counters', held: 2, code: 'OUTBOX_FULL' }]);
    assert.equal(h.holds('press/counters'), true);
    // the other group goes on being polled and handed over meanwhile
    h.holdPoll('press/state', [at('press/state', 'running', 0)]);
    await waitFor('state again', () => o.taken.length === 2);
    failing.clear();
    await waitFor('counters taken', () => !h.holds('press/counters'));
    assert.deepEqual(o.taken, ['running=1', 'running=0', 'good=1', 'scrap=2']);
    assert.deepEqual(h.refusedGroups(), []);
    assert.equal(h.refusing, false);
    await h.stop(100);
  });
});

describe('hand-over: start and stop', () => {
  it('holds nothing before start or while stopping; start is safe to call again', async () => {
    const o = outbox();
    const h = new HandOver(o.ctx, silent, { policy: 'keep-all', limit: 10, retry: { initialMs: 10, maxMs: 20 } });
    assert.equal(h.hold(sig('scan', 'early')), false);
    h.start();
    h.start();
    assert.equal(h.hold(sig('scan', 'A')), true);
    const stopping = h.stop(100);
    assert.equal(h.hold(sig('scan', 'late')), false);
    assert.deepEqual(await stopping, []);
    assert.deepEqual(o.taken, ['scan=A']);
    assert.deepEqual(await h.stop(100), [], 'stop twice is safe');
  });

  it('stop while holding: one more offer at once, and what is still refused comes back to the source', async () => {
    const o = outbox();
    o.refuse = true;
    const h = handOver(o, { retry: { initialMs: 10_000, maxMs: 10_000, floorMs: 10_000 } });
    h.hold(sig('scan', 'A'));
    h.hold(sig('scan', 'B'));
    await waitFor('refused', () => o.offers === 1);
    const t = Date.now();
    const left = await h.stop(2000);
    assert.ok(Date.now() - t < 1000, 'no waiting for the next retry, nor after a refusal');
    assert.equal(o.offers, 2, 'one more offer at stop');
    assert.deepEqual(
      left.map((i: Held<undefined>) => i.signal?.value),
      ['A', 'B'],
    );
    assert.equal(h.size, 0);
    await sleep(30);
    assert.equal(o.offers, 2, 'nothing offered after stop');
  });

  it('stop while holding hands over what the outbox takes by then', async () => {
    const o = outbox();
    o.refuse = true;
    const h = handOver(o, { retry: { initialMs: 10_000, maxMs: 10_000, floorMs: 10_000 }, batchSize: 1 });
    h.hold(sig('scan', 'A'));
    h.hold(sig('scan', 'B'));
    await waitFor('refused', () => o.offers === 1);
    o.refuse = false;
    assert.deepEqual(await h.stop(2000), []);
    assert.deepEqual(o.taken, ['scan=A', 'scan=B']);
  });

  it('stop does not wait longer than its grace for an offer that hangs, and reports nothing after', async () => {
    const o = outbox();
    let open!: () => void;
    o.gate = new Promise<void>((r) => (open = r));
    const committed: unknown[] = [];
    const h = handOver(o, { onCommitted: (items) => committed.push(...items) });
    h.hold(sig('scan', 'A'));
    await waitFor('offered', () => o.offers === 1);
    const t = Date.now();
    const left = await h.stop(100);
    assert.ok(Date.now() - t < 1000);
    assert.deepEqual(
      left.map((i) => i.signal?.value),
      ['A'],
    );
    open();
    await turn();
    await sleep(10);
    assert.deepEqual(committed, [], 'a commit after stop is not reported to a stopped source');
  });

  it('a start while stopping holds again once the stop is over', async () => {
    const o = outbox();
    const h = handOver(o);
    h.hold(sig('scan', 'A'));
    const stopping = h.stop(500);
    h.start();
    await stopping;
    assert.equal(h.hold(sig('scan', 'B')), true);
    await waitFor('both taken', () => o.taken.length === 2);
    assert.deepEqual(o.taken, ['scan=A', 'scan=B']);
    await h.stop(100);
  });

  it('starts afresh after stop; counts go on', async () => {
    const o = outbox();
    const h = handOver(o);
    h.hold(sig('scan', 'A'));
    await h.stop(500);
    h.start();
    h.hold(sig('scan', 'B'));
    await waitFor('taken', () => o.taken.length === 2);
    assert.equal(h.counts.signals, 2);
    await h.stop(100);
  });
});
