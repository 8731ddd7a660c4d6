import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEvent, type CanonicalEvent } from '../../agent/model/event';
import type { Signal } from '../../agent/model/signal';
import { RuleEngine } from '../../agent/rules/engine';
import type { MasterDataLookup, Unit } from '../../agent/rules/types';
import { convertUnits, roundTo } from '../../agent/rules/units';
import { CTX } from './helpers';

/** Units as the master data pull keeps them: kg and g in one group, Units and Dozens in another, Hours alone. */
const UNITS: Unit[] = [
  { id: 1, name: 'Units', group: 'category:1', perReference: 1, rounding: 1 },
  { id: 2, name: 'Dozens', group: 'category:1', perReference: 12, rounding: 1 },
  { id: 3, name: 'kg', group: 'category:2', perReference: 1, rounding: 0.001 },
  { id: 4, name: 'g', group: 'category:2', perReference: 0.001, rounding: 0.01 },
  { id: 5, name: 'Hours', group: 'category:3', perReference: 0.125, rounding: 0.01 },
];

function masterData(units: Unit[] = UNITS): MasterDataLookup {
  return {
    product: (code) =>
      ({
        'RM-STEEL': { id: 10, name: 'Steel Bar', defaultCode: 'RM-STEEL', uomId: 3 },
        'RM-SEAL': { id: 11, name: 'Seal Kit', defaultCode: 'RM-SEAL', uomId: 1 },
        'RM-NOUNIT': { id: 12, name: 'Unknown unit' },
      })[code],
    production: (name) => (name === 'WH/MO/00001' ? { id: 1, name, state: 'confirmed', productId: 20, uomId: 1 } : undefined),
    lot: () => undefined,
    unit: (name) => units.find((u) => u.name === name),
    unitById: (id) => units.find((u) => u.id === id),
  };
}

function event(type: string, payload: Record<string, unknown>): CanonicalEvent {
  const r = parseEvent({ id: 'e1', type, sequenceKey: 'k', occurredAt: '2025-03-03T10:00:00Z', receivedAt: '2025-03-03T10:00:01Z', source: 's', payload });
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.event;
}

const consumed = (quantity: number, uom?: string, product = 'RM-STEEL') =>
  event('material.consumed', { production: 'WH/MO/00001', product, quantity, ...(uom ? { uom } : {}) });

describe('units: converted to the unit Odoo counts the product or order in', () => {
  const cases: Array<[name: string, e: CanonicalEvent, md: MasterDataLookup | undefined, expect: Record<string, unknown> | RegExp]> = [
    ['g to the product unit kg', consumed(1500, 'g'), masterData(), { quantity: 1.5, uom: 'kg' }],
    ['rounded to the unit (kg: 0.001)', consumed(1234.56, 'g'), masterData(), { quantity: 1.235, uom: 'kg' }],
    ['the product unit itself: unchanged', consumed(2, 'kg'), masterData(), { quantity: 2, uom: 'kg' }],
    ['no unit: unchanged', consumed(2), masterData(), { quantity: 2 }],
    [
      'Dozens to the order unit Units',
      event('production.reported', { production: 'WH/MO/00001', totalQuantity: 3, uom: 'Dozens' }),
      masterData(),
      { totalQuantity: 36, uom: 'Units' },
    ],
    [
      'scrap in Dozens of a product in Units',
      event('scrap.reported', { product: 'RM-SEAL', quantity: 2, uom: 'Dozens' }),
      masterData(),
      { quantity: 24, uom: 'Units' },
    ],
    ['a count in g', event('inventory.moved', { kind: 'count', product: 'RM-STEEL', quantity: 250, uom: 'g' }), masterData(), { quantity: 0.25, uom: 'kg' }],
    [
      'another category: refused',
      consumed(2, 'Units'),
      masterData(),
      /material\.consumed in "Units" cannot be converted to "kg", the unit of product RM-STEEL: .*not the same category/,
    ],
    [
      'a unit Odoo does not have: refused',
      consumed(2, 'lbs'),
      masterData(),
      /unit "lbs" is not a unit of measure in Odoo's master data \(product RM-STEEL counts in "kg"\)/,
    ],
    ['no master data yet: unchanged (Odoo decides)', consumed(2, 'lbs'), undefined, { quantity: 2, uom: 'lbs' }],
    ['a product unknown offline: unchanged', consumed(2, 'g', 'RM-OTHER'), masterData(), { quantity: 2, uom: 'g' }],
    ['a product without a unit in the cache: unchanged', consumed(2, 'g', 'RM-NOUNIT'), masterData(), { quantity: 2, uom: 'g' }],
  ];
  for (const [name, e, md, expect] of cases) {
    test(name, () => {
      const r = convertUnits(e, md);
      if (expect instanceof RegExp) {
        assert.equal(r.ok, false);
        if (!r.ok) assert.match(r.reason, expect);
        return;
      }
      assert.ok(r.ok, r.ok ? '' : r.reason);
      if (r.ok) for (const [k, v] of Object.entries(expect)) assert.equal((r.event.payload as Record<string, unknown>)[k], v, k);
    });
  }

  test('Odoo 19 chains: g is the root, kg is 1000 g', () => {
    const chain: Unit[] = [
      { id: 3, name: 'kg', group: 'chain:4', perReference: 1000, rounding: 0.01 },
      { id: 4, name: 'g', group: 'chain:4', perReference: 1, rounding: 0.01 },
      { id: 1, name: 'Units', group: 'chain:1', perReference: 1, rounding: 0.01 },
    ];
    const r = convertUnits(consumed(2500, 'g'), masterData(chain));
    assert.ok(r.ok && (r.event.payload as { quantity: number }).quantity === 2.5);
    assert.equal(convertUnits(consumed(1, 'Units'), masterData(chain)).ok, false);
  });

  const rounding: Array<[number, number | undefined, number]> = [
    [0.1 + 0.2, 0.01, 0.3],
    [1.0005, 0.001, 1.001],
    [2.5, 1, 3],
    [0.30000000000000004, undefined, 0.3],
  ];
  for (const [value, step, expected] of rounding) test(`roundTo(${value}, ${step}) = ${expected}`, () => assert.equal(roundTo(value, step), expected));
});

describe('units in the rule engine', () => {
  const sig = (value: Signal['value']): Signal => ({
    source: 'mes',
    tag: 'mes/consumed',
    value,
    quality: 'good',
    sourceTime: '2025-03-03T10:00:00Z',
    receivedAt: '2025-03-03T10:00:00Z',
  });
  const engine = () =>
    RuleEngine.fromConfig([
      {
        kind: 'template',
        name: 'consumed',
        source: 'mes',
        tag: 'mes/consumed',
        type: 'material.consumed',
        payload: { production: '{{value.order}}', product: '{{value.product}}', quantity: '{{value.qty|number}}', uom: '{{value.unit}}' },
      },
    ]);

  test('an event in g is queued in kg; one in a unit of another category is kept as invalid input with the reason', () => {
    const r = engine().process(
      [sig({ order: 'WH/MO/00001', product: 'RM-STEEL', qty: 750, unit: 'g' }), sig({ order: 'WH/MO/00001', product: 'RM-STEEL', qty: 3, unit: 'Hours' })],
      { ...CTX, masterData: masterData() },
    );
    assert.deepEqual(
      r.events.map((e) => [(e.payload as { quantity: number }).quantity, (e.payload as { uom: string }).uom]),
      [[0.75, 'kg']],
    );
    assert.equal(r.invalid.length, 1);
    assert.match(r.invalid[0]!.reason, /"Hours" cannot be converted to "kg"/);
    assert.ok(Object.isFrozen(r.events[0]), 'the converted event is validated again');
  });

  test('a quantity that rounds to nothing in the product unit is refused, not sent as 0', () => {
    const r = engine().process([sig({ order: 'WH/MO/00001', product: 'RM-STEEL', qty: 0.1, unit: 'g' })], { ...CTX, masterData: masterData() });
    assert.equal(r.events.length, 0);
    assert.match(r.invalid[0]!.reason, /not valid once converted to kg: payload.quantity/);
  });
});
