import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { counterIncrease } from '../../agent/rules/kinds/counter';
import { CTX, engineOf, feed, sig, configProblems } from './helpers';

const base = { kind: 'counter', name: 'press1-count', source: 'plc1', tag: 'Press1.Count', production: 'WH/MO/00042' };

describe('counterIncrease', () => {
  const table: Array<
    [prev: number | undefined, raw: number, opts: { max?: number; resetThreshold?: number; afterReset: 'zero' | 'baseline' }, increase: number, kind: string]
  > = [
    [undefined, 500, { afterReset: 'zero' }, 0, 'baseline'],
    [500, 500, { afterReset: 'zero' }, 0, 'same'],
    [500, 507, { afterReset: 'zero' }, 7, 'up'],
    [65534, 2, { max: 65535, afterReset: 'zero' }, 4, 'rollover'],
    [65535, 0, { max: 65535, afterReset: 'zero' }, 1, 'rollover'],
    [4294967290, 3, { max: 4294967295, afterReset: 'zero' }, 9, 'rollover'],
    [510, 0, { max: 65535, afterReset: 'zero' }, 0, 'reset'],
    [510, 3, { max: 65535, afterReset: 'zero' }, 3, 'reset'],
    [510, 3, { max: 65535, afterReset: 'baseline' }, 0, 'reset'],
    [510, 3, { afterReset: 'zero' }, 3, 'reset'], // no max: any drop is a reset
    [65500, 50, { max: 65535, resetThreshold: 100, afterReset: 'zero' }, 86, 'rollover'],
    [65500, 200, { max: 65535, resetThreshold: 100, afterReset: 'zero' }, 200, 'reset'],
  ];
  for (const [prev, raw, opts, increase, kind] of table) {
    it(`${prev} -> ${raw} ${JSON.stringify(opts)} is ${kind} +${increase}`, () => {
      assert.deepEqual(counterIncrease(prev, raw, opts), { increase, kind });
    });
  }
});

describe('counter rule: readings to absolute totals', () => {
  const table: Array<{
    name: string;
    config?: Record<string, unknown>;
    readings: Array<[value: unknown, seconds: number]>;
    totals: number[];
    invalid?: number;
  }> = [
    {
      name: 'counts increments; the first reading is the baseline',
      readings: [
        [100, 0],
        [101, 1],
        [103, 2],
        [110, 3],
      ],
      totals: [1, 3, 10],
    },
    {
      name: 're-polled readings count once',
      readings: [
        [100, 0],
        [101, 1],
        [101, 2],
        [101, 3],
        [102, 4],
      ],
      totals: [1, 2],
    },
    {
      name: 'a reading already taken (replay after reconnect) is ignored',
      readings: [
        [100, 0],
        [105, 10],
        [100, 0],
        [105, 10],
        [106, 11],
      ],
      totals: [5, 6],
    },
    {
      name: '16-bit rollover',
      config: { max: 65535 },
      readings: [
        [65530, 0],
        [65534, 1],
        [2, 2],
        [5, 3],
      ],
      totals: [4, 8, 11],
    },
    {
      name: '32-bit rollover',
      config: { max: 4294967295 },
      readings: [
        [4294967290, 0],
        [3, 1],
      ],
      totals: [9],
    },
    {
      name: 'reset to 0 starts a new baseline, never a negative count',
      config: { max: 65535 },
      readings: [
        [500, 0],
        [510, 1],
        [0, 2],
        [4, 3],
      ],
      totals: [10, 14],
    },
    {
      name: 'reset seen late counts from zero',
      config: { max: 65535 },
      readings: [
        [500, 0],
        [510, 1],
        [3, 2],
      ],
      totals: [10, 13],
    },
    {
      name: 'afterReset: baseline counts nothing for the reset reading',
      config: { afterReset: 'baseline' },
      readings: [
        [500, 0],
        [510, 1],
        [3, 2],
        [5, 3],
      ],
      totals: [10, 12],
    },
    {
      name: 'resetThreshold tells a wrap from a reset',
      config: { max: 65535, resetThreshold: 100 },
      readings: [
        [65500, 0],
        [50, 1],
        [10000, 2],
        [200, 3],
      ],
      totals: [86, 10036, 10236],
    },
    {
      name: 'minIncrement holds back small increases',
      config: { minIncrement: 5 },
      readings: [
        [0, 0],
        [2, 1],
        [4, 2],
        [5, 3],
        [9, 4],
        [10, 5],
      ],
      totals: [5, 10],
    },
    {
      name: 'factor multiplies counts',
      config: { factor: 2 },
      readings: [
        [10, 0],
        [11, 1],
        [13, 2],
      ],
      totals: [2, 6],
    },
    {
      name: 'fractional factor stays exact',
      config: { factor: 0.1 },
      readings: [
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      totals: [0.1, 0.2, 0.3],
    },
    {
      name: 'numeric text is read as a number',
      readings: [
        ['7', 0],
        [' 9 ', 1],
      ],
      totals: [2],
    },
    {
      name: 'a field of an object value',
      config: { path: 'counts.good' },
      readings: [
        [{ counts: { good: 1 } }, 0],
        [{ counts: { good: 4 } }, 1],
      ],
      totals: [3],
    },
    {
      name: 'text is invalid',
      readings: [
        [1, 0],
        ['abc', 1],
        [3, 2],
      ],
      totals: [2],
      invalid: 1,
    },
    {
      name: 'a negative value is invalid',
      readings: [
        [1, 0],
        [-1, 1],
        [2, 2],
      ],
      totals: [1],
      invalid: 1,
    },
    {
      name: 'a value above max is invalid',
      config: { max: 65535 },
      readings: [
        [1, 0],
        [70000, 1],
        [2, 2],
      ],
      totals: [1],
      invalid: 1,
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const engine = engineOf([{ ...base, ...c.config }]);
      const r = feed(
        engine,
        c.readings.map(([v, s]) => sig('Press1.Count', v as never, s)),
      );
      assert.deepEqual(
        r.events.map((e) => (e.payload as { totalQuantity: number }).totalQuantity),
        c.totals,
      );
      assert.equal(r.invalid.length, c.invalid ?? 0, JSON.stringify(r.invalid.map((i) => i.reason)));
      for (const e of r.events) {
        assert.equal(e.type, 'production.reported');
        assert.equal(e.sequenceKey, 'WH/MO/00042');
        assert.equal(e.receivedAt, CTX.now);
        assert.equal(e.source, 'plc1');
      }
    });
  }

  it('skips bad-quality readings without calling them invalid', () => {
    const engine = engineOf([base]);
    const r = feed(engine, [sig('Press1.Count', 1, 0), sig('Press1.Count', 0, 1, { quality: 'bad' }), sig('Press1.Count', 3, 2)]);
    assert.deepEqual(
      r.events.map((e) => (e.payload as { totalQuantity: number }).totalQuantity),
      [2],
    );
    assert.equal(r.invalid.length, 0);
  });

  it('emits at most one event per signal and ids are deterministic', () => {
    const readings = [sig('Press1.Count', 1, 0), sig('Press1.Count', 4, 1), sig('Press1.Count', 9, 2)];
    const a = feed(engineOf([base]), readings);
    const b = engineOf([base]).process(readings, CTX);
    assert.equal(a.events.length, 2);
    assert.deepEqual(
      a.events.map((e) => e.id),
      b.events.map((e) => e.id),
    );
    assert.equal(new Set(a.events.map((e) => e.id)).size, 2);
    assert.equal(a.events[0]!.occurredAt, readings[1]!.sourceTime);
  });

  it('keeps a baseline per tag when a pattern matches several counters', () => {
    const engine = engineOf([{ ...base, tag: 'Press1.Lane*' }]);
    const r = feed(engine, [sig('Press1.LaneA', 100, 0), sig('Press1.LaneB', 7, 0), sig('Press1.LaneA', 102, 1), sig('Press1.LaneB', 10, 1)]);
    assert.deepEqual(
      r.events.map((e) => (e.payload as { totalQuantity: number }).totalQuantity),
      [2, 5],
    );
  });

  it('carries workcenter and uom when configured', () => {
    const engine = engineOf([{ ...base, workcenter: 'Press 1', uom: 'Units' }]);
    const r = feed(engine, [sig('Press1.Count', 1, 0), sig('Press1.Count', 2, 1)]);
    assert.deepEqual(r.events[0]!.payload, { production: 'WH/MO/00042', totalQuantity: 1, workcenter: 'Press 1', uom: 'Units' });
  });
});

describe('counter rule: current order from an order rule', () => {
  const rules = [
    { kind: 'order', name: 'press1-order', source: 'mes', tag: 'press1/order', workcenter: 'Press 1' },
    { kind: 'counter', name: 'press1-count', source: 'plc1', tag: 'Press1.Count', workcenter: 'Press 1' },
  ];
  const order = (name: string, s: number) => sig('press1/order', name, s, { source: 'mes' });
  const count = (n: number, s: number) => sig('Press1.Count', n, s);

  it('totals restart for a new order and continue when an order comes back', () => {
    const engine = engineOf(rules);
    const r = feed(engine, [
      order('WH/MO/00001', 0),
      count(0, 1),
      count(5, 2),
      order('WH/MO/00002', 3),
      count(7, 4),
      count(9, 5),
      order('WH/MO/00001', 6),
      count(12, 7),
    ]);
    assert.deepEqual(
      r.events.map((e) => `${e.sequenceKey}=${(e.payload as { totalQuantity: number }).totalQuantity}`),
      ['WH/MO/00001=5', 'WH/MO/00002=2', 'WH/MO/00002=4', 'WH/MO/00001=8'],
    );
    assert.equal((r.events[0]!.payload as { workcenter?: string }).workcenter, 'Press 1');
  });

  it('pieces counted with no current order are invalid, and not counted later', () => {
    const engine = engineOf(rules);
    const r = feed(engine, [count(0, 0), count(3, 1), order('WH/MO/00001', 2), count(4, 3)]);
    assert.equal(r.invalid.length, 1);
    assert.equal(r.invalid[0]!.rule, 'press1-count');
    assert.match(r.invalid[0]!.reason, /3 counted but work center "Press 1" has no current manufacturing order/);
    assert.deepEqual(
      r.events.map((e) => (e.payload as { totalQuantity: number }).totalQuantity),
      [1],
    );
  });

  it('sends what a deadband held back when the order changes', () => {
    const engine = engineOf([rules[0], { ...rules[1], minIncrement: 10 }]);
    const r = feed(engine, [order('WH/MO/00001', 0), count(0, 1), count(4, 2), order('WH/MO/00002', 3), count(6, 4), count(20, 5)]);
    assert.deepEqual(
      r.events.map((e) => `${e.sequenceKey}=${(e.payload as { totalQuantity: number }).totalQuantity}`),
      ['WH/MO/00001=4', 'WH/MO/00002=16'],
    );
  });
});

describe('counter config', () => {
  const table: Array<[config: Record<string, unknown>, problem: RegExp | null]> = [
    [base, null],
    [{ ...base, production: undefined }, /needs `workcenter`/],
    [{ ...base, resetThreshold: 10 }, /only has a meaning with `max`/],
    [{ ...base, max: 65535, resetThreshold: 10 }, null],
    [{ ...base, maxx: 65535 }, /maxx/],
    [{ ...base, afterReset: 'never' }, /afterReset/],
    [{ ...base, tag: 'a/#/b' }, /last level/],
    [{ ...base, name: 'has space' }, /rule name/],
  ];
  for (const [config, problem] of table) {
    it(`${JSON.stringify(config)} -> ${problem ?? 'valid'}`, () => {
      const problems = configProblems(config);
      if (!problem) assert.equal(problems, '');
      else assert.match(problems, problem);
    });
  }
});

describe('counter rule: per-shift totals (plant.shifts, plant time)', () => {
  const shifts = [
    { name: 'early', start: '06:00' },
    { name: 'late', start: '14:00' },
    { name: 'night', start: '22:00' },
  ];
  const ctx = { ...CTX, plantTime: { timeZone: 'Europe/Berlin', shifts } };
  const reading = (value: number, isoTime: string) => ({
    source: 'plc1',
    tag: 'Press1.Count',
    value,
    quality: 'good' as const,
    sourceTime: isoTime,
    receivedAt: isoTime,
  });

  it('a night shift across the spring DST change: its count runs 22:00 to 06:00 plant time (7 hours)', () => {
    const engine = engineOf([{ ...base, shiftTotals: true }]);
    const r = feed(
      engine,
      [
        reading(0, '2026-03-28T20:00:00Z'), // 21:00 CET, late shift: the baseline
        reading(5, '2026-03-28T20:30:00Z'), // late
        reading(8, '2026-03-28T21:30:00Z'), // 22:30 CET: night of the 28th
        reading(20, '2026-03-29T03:30:00Z'), // 05:30 CEST: still the night
        reading(23, '2026-03-29T04:00:00Z'), // 06:00 CEST: early of the 29th
      ],
      ctx,
    );
    assert.deepEqual(
      r.events.map((e) => (e.payload as { totalQuantity: number; shift: unknown }).shift),
      [
        { name: 'late', day: '2026-03-28', quantity: 5 },
        { name: 'night', day: '2026-03-28', quantity: 3 },
        { name: 'night', day: '2026-03-28', quantity: 15 },
        { name: 'early', day: '2026-03-29', quantity: 3 },
      ],
    );
    assert.deepEqual(
      r.events.map((e) => (e.payload as { totalQuantity: number }).totalQuantity),
      [5, 8, 20, 23],
      'the order total goes on across shifts',
    );
  });

  it('without shiftTotals, reports carry no shift', () => {
    const r = feed(engineOf([base]), [reading(0, '2026-03-28T20:00:00Z'), reading(5, '2026-03-28T20:30:00Z')], ctx);
    assert.equal((r.events[0]!.payload as { shift?: unknown }).shift, undefined);
  });

  it('shiftTotals without plant.shifts is refused at load, at the rule', async () => {
    const { parseConfigText } = await import('../../agent/config/load');
    assert.throws(
      () =>
        parseConfigText(
          'plant: { id: p }\nstateDir: /tmp\nsources:\n  - { name: plc1, type: mqtt, url: "mqtt://127.0.0.1:1", subscriptions: [{ topic: "a" }] }\nrules:\n  - { kind: counter, name: c, source: plc1, tag: a, production: MO1, shiftTotals: true }\n',
          'plant.yaml',
        ),
      (err: Error & { problems?: string[] }) =>
        (err.problems ?? []).some((p) => /^plant\.yaml:6:\d+: rules\[0\]\.shiftTotals: shiftTotals needs a shift calendar: set plant\.shifts/.test(p)),
    );
  });
});
