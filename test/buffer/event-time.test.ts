import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { IMPLAUSIBLE_TIME, implausibleTime, span } from '../../agent/model/event-time';
import { makeEvent } from '../helpers/events';
import { consumption, flow } from '../helpers/flow-events';

const dir = mkdtempSync(join(tmpdir(), 'event-time-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const NOW = Date.UTC(2026, 10, 26, 9, 0, 0);
const LIMITS = { maxAheadMs: 15 * 60_000, maxAgeMs: 30 * 86_400_000 };
const iso = (ms: number) => new Date(ms).toISOString();

function open(extra: { nonBlocking?: Set<string>; flows?: ReturnType<typeof flow>[] } = {}) {
  return new SqliteOutbox({
    path: join(dir, `t${++n}.db`),
    now: () => NOW,
    flows: extra.flows,
    eventTime: { ...LIMITS, nonBlocking: extra.nonBlocking },
  });
}

describe('implausibleTime', () => {
  const table: Array<[name: string, occurredAtMs: number, problem: RegExp | undefined]> = [
    ['now', NOW, undefined],
    ['14 minutes ahead (a clock a little fast)', NOW + 14 * 60_000, undefined],
    [
      'an hour ahead (local time sent as UTC)',
      NOW + 3_600_000,
      /60 min ahead of the gateway's clock .* more than the 15 min allowed \(clocks.eventTime.maxAheadS\)/,
    ],
    ['29 days old (a long outage of a buffering source)', NOW - 29 * 86_400_000, undefined],
    [
      '2000-01-01 (a controller whose clock battery died)',
      Date.UTC(2000, 0, 1),
      /26\.9 years before the gateway's clock .* older than the 30 days allowed \(clocks.eventTime.maxAgeDays\)/,
    ],
    ['five years ahead', NOW + 5 * 365.25 * 86_400_000, /5 years ahead/],
  ];
  for (const [name, ms, problem] of table) {
    it(name, () => {
      const r = implausibleTime(iso(ms), NOW, LIMITS);
      if (problem === undefined) assert.equal(r, undefined);
      else assert.match(r ?? '', problem);
    });
  }
  it('spans read like a person would say them', () => {
    assert.deepEqual([42_000, 17 * 60_000, 5.25 * 3_600_000, 3 * 86_400_000, 4.1 * 365.25 * 86_400_000].map(span), [
      '42 s',
      '17 min',
      '5.3 h',
      '3 days',
      '4.1 years',
    ]);
  });
});

describe('outbox: an event with an implausible time is held for a person, not sent', () => {
  it('is stored parked with the reason and blocks its key; a plausible one of another key goes', async () => {
    const outbox = open();
    const wrong = makeEvent({ sequenceKey: 'WC-1', occurredAt: iso(Date.UTC(2000, 0, 1)) });
    const behind = makeEvent({ sequenceKey: 'WC-1', occurredAt: iso(NOW - 1000) });
    const other = makeEvent({ sequenceKey: 'WC-2', occurredAt: iso(NOW - 1000) });
    const r = await outbox.enqueue([wrong, behind, other]);
    assert.deepEqual(r, { inserted: 3, duplicates: 0, implausible: 1 });
    const rec = outbox.get(wrong.id)!;
    assert.equal(rec.state, 'parked');
    assert.equal(rec.errorCode, IMPLAUSIBLE_TIME);
    assert.match(rec.error ?? '', /years before the gateway's clock/);
    assert.equal(outbox.counts().parked, 1);
    assert.equal(outbox.counts().pending, 2);
    assert.equal(outbox.implausibleTimes, 1);
    assert.deepEqual(
      outbox.claim(10, NOW).map((c) => c.id),
      [other.id],
      'WC-1 waits behind its held event',
    );
    await outbox.close();
  });

  it('a person retries it: it goes as it is, with its time', async () => {
    const outbox = open();
    const wrong = makeEvent({ sequenceKey: 'WC-1', occurredAt: iso(NOW + 3_600_000) });
    await outbox.enqueue([wrong]);
    assert.equal(outbox.claim(10, NOW).length, 0);
    assert.equal(outbox.retry({ ids: [wrong.id] }, 'test'), 1);
    const [claimed] = outbox.claim(10, NOW);
    assert.equal(claimed?.id, wrong.id);
    assert.equal(claimed?.event.occurredAt, wrong.occurredAt);
    await outbox.close();
  });

  it('of a skippable type, it does not block its key', async () => {
    const outbox = open({ nonBlocking: new Set(['downtime.started']) });
    const wrong = makeEvent({ sequenceKey: 'WC-1', occurredAt: iso(Date.UTC(2000, 0, 1)) });
    const next = makeEvent({ sequenceKey: 'WC-1', occurredAt: iso(NOW) });
    await outbox.enqueue([wrong, next]);
    assert.deepEqual(
      outbox.claim(10, NOW).map((c) => c.id),
      [next.id],
    );
    await outbox.close();
  });

  it('is never held by a flow, and comes after the events its key had held', async () => {
    const outbox = open({ flows: [flow('hourly', 'rollup', ['material.consumed'])] });
    const early = consumption('WH/MO/00001', 2, { occurredAt: iso(NOW - 60_000) });
    const wrong = consumption('WH/MO/00001', 3, { occurredAt: iso(NOW + 86_400_000) });
    const r = await outbox.enqueue([early, wrong]);
    assert.equal(r.held, 1);
    assert.equal(r.implausible, 1);
    assert.equal(r.released, 1);
    const list = outbox.list({ sequenceKey: 'WH/MO/00001' });
    assert.deepEqual(
      list.map((e) => [e.id, e.state]),
      [
        [early.id, 'pending'],
        [wrong.id, 'parked'],
      ],
    );
    await outbox.close();
  });

  it('a duplicate of an event held for its time is a duplicate', async () => {
    const outbox = open();
    const wrong = makeEvent({ occurredAt: iso(Date.UTC(2000, 0, 1)) });
    await outbox.enqueue([wrong]);
    assert.deepEqual(await outbox.enqueue([wrong]), { inserted: 0, duplicates: 1 });
    assert.equal(outbox.counts().parked, 1);
    await outbox.close();
  });
});
