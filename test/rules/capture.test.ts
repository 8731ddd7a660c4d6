import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { triggerFired } from '../../agent/rules/kinds/capture';
import { CTX, engineOf, feed, sig, configProblems } from './helpers';

const cycle = {
  kind: 'capture',
  name: 'press1-cycle',
  source: 'plc1',
  tag: 'Press1.CycleDone',
  edge: 'rising',
  tags: { order: 'Press1.Order', lot: 'Press1.Lot', good: 'Press1.Good' },
  event: 'production.reported',
  fields: { production: '{{tags.order}}', totalQuantity: '{{tags.good}}', lot: '{{tags.lot}}', workcenter: 'Press 1' },
};

describe('triggerFired', () => {
  const table: Array<[edge: 'rising' | 'falling' | 'change', prev: unknown, cur: unknown, expected: boolean | 'problem']> = [
    ['rising', false, true, true],
    ['rising', true, true, false],
    ['rising', true, false, false],
    ['rising', undefined, true, false],
    ['rising', 0, 1, true],
    ['falling', true, false, true],
    ['falling', false, true, false],
    ['change', 41, 42, true],
    ['change', 42, 42, false],
    ['change', undefined, 42, false],
    ['change', { a: 1 }, { a: 2 }, true],
    ['rising', false, 'maybe', 'problem'],
  ];
  for (const [edge, prev, cur, expected] of table) {
    it(`${edge} ${JSON.stringify(prev)} -> ${JSON.stringify(cur)}: ${expected}`, () => {
      const r = triggerFired(edge, prev, cur);
      if (expected === 'problem') assert.equal(typeof r, 'object');
      else assert.equal(r, expected);
    });
  }
});

describe('capture rule', () => {
  it('emits on the rising edge with the latest captured values, typed', () => {
    const engine = engineOf([cycle]);
    const r = feed(engine, [
      sig('Press1.CycleDone', false, 0),
      sig('Press1.Order', 'WH/MO/00042', 1),
      sig('Press1.Lot', 'L-001', 1),
      sig('Press1.Good', 10, 2),
      sig('Press1.CycleDone', true, 3),
      sig('Press1.CycleDone', true, 4), // re-poll: no new edge
      sig('Press1.Good', 11, 5),
      sig('Press1.CycleDone', false, 6),
      sig('Press1.CycleDone', true, 7),
    ]);
    assert.deepEqual(
      r.events.map((e) => e.payload),
      [
        { production: 'WH/MO/00042', totalQuantity: 10, lot: 'L-001', workcenter: 'Press 1' },
        { production: 'WH/MO/00042', totalQuantity: 11, lot: 'L-001', workcenter: 'Press 1' },
      ],
    );
    assert.equal(r.events[0]!.sequenceKey, 'WH/MO/00042');
    assert.equal(r.events[0]!.occurredAt, '2025-03-03T06:00:03.000Z');
    assert.equal(r.events[0]!.receivedAt, CTX.now);
    assert.equal(r.invalid.length, 0);
  });

  it('the first trigger value is only remembered', () => {
    const r = feed(engineOf([cycle]), [sig('Press1.Order', 'A', 0), sig('Press1.Good', 1, 0), sig('Press1.CycleDone', true, 1)]);
    assert.equal(r.events.length, 0);
  });

  it('a missing required field makes the signal invalid, not a crash', () => {
    const engine = engineOf([cycle]);
    const r = feed(engine, [sig('Press1.CycleDone', false, 0), sig('Press1.Good', 5, 1), sig('Press1.CycleDone', true, 2)]);
    assert.equal(r.events.length, 0);
    assert.equal(r.invalid.length, 1);
    assert.equal(r.invalid[0]!.rule, 'press1-cycle');
    assert.match(r.invalid[0]!.reason, /production\.reported event is not valid: payload\.production/);
  });

  it('scrap with a number from text, the order from a fact, tags of another source', () => {
    const engine = engineOf([
      { kind: 'order', name: 'press1-order', source: 'mes', tag: 'press1/order', workcenter: 'Press 1' },
      {
        kind: 'capture',
        name: 'press1-scrap',
        source: 'plc1',
        tag: 'Press1.ScrapCount',
        edge: 'change',
        workcenter: 'Press 1',
        tags: { product: { source: 'mes', tag: 'press1/product', path: 'code' }, reason: 'Press1.ScrapReason' },
        event: 'scrap.reported',
        fields: {
          product: '{{tags.product}}',
          quantity: '{{value|number}}',
          production: '{{facts.workcenter:Press 1:production}}',
          reason: '{{tags.reason}}',
          workcenter: '{{workcenter}}',
        },
      },
    ]);
    const r = feed(engine, [
      sig('press1/order', 'WH/MO/00042', 0, { source: 'mes' }),
      sig('press1/product', { code: 'FURN_8888' }, 0, { source: 'mes' }),
      sig('Press1.ScrapCount', '0', 1),
      sig('Press1.ScrapCount', '2', 2),
    ]);
    assert.equal(r.invalid.length, 0, JSON.stringify(r.invalid.map((i) => i.reason)));
    assert.equal(r.events.length, 1);
    assert.deepEqual(r.events[0]!.payload, { product: 'FURN_8888', quantity: 2, production: 'WH/MO/00042', workcenter: 'Press 1' });
    assert.equal(r.events[0]!.type, 'scrap.reported');
    assert.equal(r.events[0]!.sequenceKey, 'WH/MO/00042');
  });

  it('quality results with a sequence key template and the {{production}} shorthand', () => {
    const engine = engineOf([
      { kind: 'order', name: 'press1-order', source: 'mes', tag: 'press1/order', workcenter: 'Press 1' },
      {
        kind: 'capture',
        name: 'press1-check',
        source: 'plc1',
        tag: 'Press1.CheckDone',
        edge: 'falling',
        workcenter: 'Press 1',
        tags: { ok: 'Press1.CheckOk', width: 'Press1.Width' },
        event: 'quality.recorded',
        fields: { test: 'Width check', result: '{{tags.ok}}', measure: '{{tags.width}}', production: '{{production}}' },
        sequenceKey: 'quality:{{workcenter}}',
      },
    ]);
    const r = feed(engine, [
      sig('press1/order', 'WH/MO/00042', 0, { source: 'mes' }),
      sig('Press1.CheckOk', 'pass', 0),
      sig('Press1.Width', 12.5, 0),
      sig('Press1.CheckDone', true, 1),
      sig('Press1.CheckDone', false, 2),
    ]);
    assert.equal(r.events.length, 1, JSON.stringify(r.invalid));
    assert.deepEqual(r.events[0]!.payload, { test: 'Width check', result: 'pass', measure: 12.5, production: 'WH/MO/00042' });
    assert.equal(r.events[0]!.sequenceKey, 'quality:Press 1');
  });

  it('the same edge read twice gives the same id', () => {
    const signals = [sig('Press1.Order', 'A', 0), sig('Press1.Good', 3, 0), sig('Press1.CycleDone', false, 0), sig('Press1.CycleDone', true, 1)];
    const a = engineOf([cycle]).process(signals, CTX);
    const b = engineOf([cycle]).process(signals, CTX);
    assert.equal(a.events.length, 1);
    assert.equal(a.events[0]!.id, b.events[0]!.id);
  });

  it('the captured value is the latest to arrive, whatever its source time', () => {
    const r = feed(engineOf([cycle]), [
      sig('Press1.Order', 'A', 0),
      sig('Press1.Good', 7, 5),
      sig('Press1.Good', 9, 3),
      sig('Press1.CycleDone', false, 5),
      sig('Press1.CycleDone', true, 6),
    ]);
    assert.equal((r.events[0]!.payload as { totalQuantity: number }).totalQuantity, 9);
  });
});

describe('capture config', () => {
  const table: Array<[config: Record<string, unknown>, problem: RegExp | null]> = [
    [cycle, null],
    [{ ...cycle, fields: { ...cycle.fields, colour: 'red' } }, /has no field "colour"/],
    [{ ...cycle, fields: { production: '{{tags.order}}' } }, /needs the field "totalQuantity"/],
    [{ ...cycle, event: 'coffee.brewed' }, /event/],
    [{ ...cycle, tags: { good: 'Press1.*' } }, /without wildcards/],
    [{ ...cycle, tags: { '1st': 'Press1.Good' } }, /alias/],
    [{ ...cycle, fields: { ...cycle.fields, lot: '{{tags.lot|oops}}' } }, /unknown filter/],
    [{ ...cycle, edge: 'sideways' }, /edge/],
  ];
  for (const [config, problem] of table) {
    it(`${problem ?? 'valid'}`, () => {
      const problems = configProblems(config);
      if (!problem) assert.equal(problems, '');
      else assert.match(problems, problem);
    });
  }
});
