import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planReads, splitRequest, type PlanItem, type PlanLimits } from '../../../agent/protocols/modbus/plan';

const limits = (over: Partial<PlanLimits> = {}): PlanLimits => ({ maxReadGap: 8, maxRegistersPerRead: 125, maxBitsPerRead: 2000, ...over });
const h = (address: number, count = 1): PlanItem => ({ area: 'holding', address, count });

/** Requests as compact tuples: [area, address, count, items, unused]. */
function plan(items: PlanItem[], over: Partial<PlanLimits> = {}) {
  return planReads(items, limits(over)).map((r) => [r.area, r.address, r.count, r.items, r.unused]);
}

describe('modbus read planning', () => {
  const table: Array<[string, PlanItem[], Partial<PlanLimits>, unknown[]]> = [
    ['adjacent values share one read', [h(0), h(1, 2), h(3)], {}, [['holding', 0, 4, [0, 1, 2], 0]]],
    ['input order does not matter', [h(3), h(0), h(1, 2)], {}, [['holding', 0, 4, [1, 2, 0], 0]]],
    ['a gap up to maxReadGap is bridged', [h(0), h(9)], {}, [['holding', 0, 10, [0, 1], 8]]],
    [
      'a wider gap splits',
      [h(0), h(10)],
      {},
      [
        ['holding', 0, 1, [0], 0],
        ['holding', 10, 1, [1], 0],
      ],
    ],
    [
      'maxReadGap 0 joins only touching values',
      [h(0), h(2)],
      { maxReadGap: 0 },
      [
        ['holding', 0, 1, [0], 0],
        ['holding', 2, 1, [1], 0],
      ],
    ],
    [
      'the per-request limit splits',
      [h(0, 4), h(5, 4), h(9, 2)],
      { maxRegistersPerRead: 10 },
      [
        ['holding', 0, 9, [0, 1], 1],
        ['holding', 9, 2, [2], 0],
      ],
    ],
    ['bits of one register share it', [h(10), h(10), h(10)], {}, [['holding', 10, 1, [0, 1, 2], 0]]],
    ['a value inside another adds nothing', [h(0, 4), h(1)], {}, [['holding', 0, 4, [0, 1], 0]]],
    [
      'areas are never mixed and come out in a fixed order',
      [{ area: 'discrete', address: 0, count: 1 }, { area: 'coil', address: 0, count: 1 }, { area: 'input', address: 1, count: 1 }, h(0)],
      {},
      [
        ['holding', 0, 1, [3], 0],
        ['input', 1, 1, [2], 0],
        ['coil', 0, 1, [1], 0],
        ['discrete', 0, 1, [0], 0],
      ],
    ],
    [
      'coils use the bit limit',
      [
        { area: 'coil', address: 0, count: 1 },
        { area: 'coil', address: 1500, count: 1 },
        { area: 'coil', address: 1999, count: 1 },
      ],
      { maxReadGap: 2000, maxBitsPerRead: 2000 },
      [['coil', 0, 2000, [0, 1, 2], 1997]],
    ],
    [
      '125 one-register values need two reads',
      Array.from({ length: 126 }, (_, i) => h(i)),
      {},
      [
        ['holding', 0, 125, Array.from({ length: 125 }, (_, i) => i), 0],
        ['holding', 125, 1, [125], 0],
      ],
    ],
  ];
  for (const [name, items, over, expected] of table) {
    it(name, () => assert.deepEqual(plan(items, over), expected));
  }

  it('refuses a value larger than one read', () => {
    assert.throws(() => planReads([h(0, 126)], limits()), /does not fit in one read/);
  });

  it('an empty group plans no reads', () => {
    assert.deepEqual(planReads([], limits()), []);
  });

  it('splitting a refused read keeps shared registers together', () => {
    const items = [h(0), h(0), h(5, 2), h(9)];
    const [request] = planReads(items, limits());
    assert.equal(request!.items.length, 4);
    const parts = splitRequest(request!, items).map((r) => [r.address, r.count, r.items, r.unused]);
    assert.deepEqual(parts, [
      [0, 1, [0, 1], 0],
      [5, 2, [2], 0],
      [9, 1, [3], 0],
    ]);
  });
});
