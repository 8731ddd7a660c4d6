import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { parseEvent, type CanonicalEvent, type EventType } from '../../agent/model/event';
import { checkEvent, EdgeCheck } from '../../agent/sync/edge-check';
import { MasterDataCache } from '../../agent/sync/master-data';
import { fillMasterData } from '../helpers/master-data';

const outbox = new SqliteOutbox({ path: ':memory:' });
after(() => outbox.close());
fillMasterData(outbox);
const cache = new MasterDataCache(outbox.masterData);

let n = 0;
function ev(type: EventType, payload: Record<string, unknown>): CanonicalEvent {
  const t = new Date(Date.UTC(2026, 11, 7, 6, 0, n++)).toISOString();
  const r = parseEvent({ id: `e-${n}`, type, sequenceKey: 'k', occurredAt: t, receivedAt: t, source: 'test', payload });
  if (!r.ok) throw new Error(r.reason);
  return r.event;
}

/** [what, type, payload, expected code (undefined: goes as it is)] */
const cases: Array<[string, EventType, Record<string, unknown>, string | undefined]> = [
  // work centers and loss reasons
  [
    'downtime at a known work center (by name)',
    'downtime.started',
    { downtimeId: 'd', workcenter: 'Assembly Line 1', reason: 'Material Availability' },
    undefined,
  ],
  ['downtime at a known work center (by code)', 'downtime.started', { downtimeId: 'd', workcenter: 'ASM1', reason: 'Material Availability' }, undefined],
  [
    'downtime at a misspelled work center',
    'downtime.started',
    { downtimeId: 'd', workcenter: 'Asembly Line 1', reason: 'Material Availability' },
    'EDGE_UNKNOWN_WORKCENTER',
  ],
  ['downtime with an unknown loss reason', 'downtime.started', { downtimeId: 'd', workcenter: 'ASM1', reason: 'Coffee' }, 'EDGE_UNKNOWN_LOSS'],
  ['downtime end without a reason', 'downtime.ended', { downtimeId: 'd', workcenter: 'ASM1' }, undefined],
  ['downtime end at an unknown work center', 'downtime.ended', { downtimeId: 'd', workcenter: 'WC-9' }, 'EDGE_UNKNOWN_WORKCENTER'],
  // orders
  ['production on an open order', 'production.reported', { production: 'WH/MO/00001', totalQuantity: 3 }, undefined],
  ['production on an order by id', 'production.reported', { production: 23, totalQuantity: 3 }, undefined],
  ['production on a draft order', 'production.reported', { production: 'WH/MO/00002', totalQuantity: 3 }, 'EDGE_PRODUCTION_NOT_CONFIRMED'],
  ['production on an order Odoo does not hold open', 'production.reported', { production: 'WH/MO/09999', totalQuantity: 3 }, 'EDGE_UNKNOWN_PRODUCTION'],
  ['production in an unknown unit', 'production.reported', { production: 'WH/MO/00001', totalQuantity: 3, uom: 'Stück' }, 'EDGE_UNKNOWN_UOM'],
  [
    'production with a finished lot Odoo does not know yet (it is created)',
    'production.reported',
    { production: 'WH/MO/00001', totalQuantity: 3, lot: 'NEW' },
    undefined,
  ],
  ['completion of an order the cache does not hold (done in Odoo: already applied)', 'production.completed', { production: 'WH/MO/09999' }, undefined],
  ['completion of a draft order', 'production.completed', { production: 'WH/MO/00002' }, 'EDGE_PRODUCTION_NOT_CONFIRMED'],
  // consumption: product, lot, serial, unit, location
  [
    'consumption of a lot-tracked product with its lot',
    'material.consumed',
    { production: 'WH/MO/00001', product: 'RM-STEEL', quantity: 4, lot: 'LOT-A' },
    undefined,
  ],
  ['consumption found by barcode', 'material.consumed', { production: 'WH/MO/00001', product: '4006381333955', quantity: 4, lot: 'LOT-A' }, undefined],
  [
    'consumption found by a GTIN-14 form of the barcode',
    'material.consumed',
    { production: 'WH/MO/00001', product: '04006381333955', quantity: 4, lot: 'LOT-A' },
    undefined,
  ],
  [
    'consumption of a lot the cache does not know (Odoo decides)',
    'material.consumed',
    { production: 'WH/MO/00001', product: 'RM-STEEL', quantity: 4, lot: 'LOT-NEW' },
    undefined,
  ],
  [
    'consumption of a lot-tracked product without a lot',
    'material.consumed',
    { production: 'WH/MO/00001', product: 'RM-STEEL', quantity: 4 },
    'EDGE_LOT_REQUIRED',
  ],
  ['consumption of an unknown product', 'material.consumed', { production: 'WH/MO/00001', product: 'RM-STEL', quantity: 4 }, 'EDGE_UNKNOWN_PRODUCT'],
  ['consumption of one serial', 'material.consumed', { production: 'WH/MO/00001', product: 'FG-GEAR', quantity: 1, serial: 'SN-1' }, undefined],
  [
    'consumption of 3 under one serial',
    'material.consumed',
    { production: 'WH/MO/00001', product: 'FG-GEAR', quantity: 3, serial: 'SN-1' },
    'EDGE_SERIAL_QUANTITY',
  ],
  [
    'consumption of an untracked product naming a lot (ignored by the operation)',
    'material.consumed',
    { production: 'WH/MO/00001', product: 'RM-SEAL', quantity: 2, lot: 'X' },
    undefined,
  ],
  ['consumption in a known unit', 'material.consumed', { production: 'WH/MO/00001', product: 'RM-SEAL', quantity: 2, uom: 'kg' }, undefined],
  ['consumption in an unknown unit', 'material.consumed', { production: 'WH/MO/00001', product: 'RM-SEAL', quantity: 2, uom: 'kilo' }, 'EDGE_UNKNOWN_UOM'],
  [
    'consumption from an unknown location',
    'material.consumed',
    { production: 'WH/MO/00001', product: 'RM-SEAL', quantity: 2, location: 'WH/Stok' },
    'EDGE_UNKNOWN_LOCATION',
  ],
  ['consumption on a draft order', 'material.consumed', { production: 'WH/MO/00002', product: 'RM-SEAL', quantity: 2 }, 'EDGE_PRODUCTION_NOT_CONFIRMED'],
  // inventory
  [
    'transfer between known locations (one by barcode)',
    'inventory.moved',
    { kind: 'transfer', product: 'RM-SEAL', quantity: 2, fromLocation: 'WH-STOCK', toLocation: 'WH/Stock/Shelf 1' },
    undefined,
  ],
  [
    'transfer to an unknown location',
    'inventory.moved',
    { kind: 'transfer', product: 'RM-SEAL', quantity: 2, fromLocation: 'WH/Stock', toLocation: 'WH/Shelf 9' },
    'EDGE_UNKNOWN_LOCATION',
  ],
  [
    'transfer without a destination',
    'inventory.moved',
    { kind: 'transfer', product: 'RM-SEAL', quantity: 2, fromLocation: 'WH/Stock' },
    'EDGE_LOCATION_REQUIRED',
  ],
  [
    'transfer of nothing',
    'inventory.moved',
    { kind: 'transfer', product: 'RM-SEAL', quantity: 0, fromLocation: 'WH/Stock', toLocation: 'WH/Stock/Shelf 1' },
    'EDGE_NOTHING_TO_MOVE',
  ],
  ['count of a serial: 0 or 1', 'inventory.moved', { kind: 'count', product: 'FG-GEAR', quantity: 0, serial: 'SN-1', location: 'WH/Stock' }, undefined],
  [
    'count of 2 under one serial',
    'inventory.moved',
    { kind: 'count', product: 'FG-GEAR', quantity: 2, serial: 'SN-1', location: 'WH/Stock' },
    'EDGE_SERIAL_QUANTITY',
  ],
  ['count without a location', 'inventory.moved', { kind: 'count', product: 'RM-SEAL', quantity: 2 }, 'EDGE_LOCATION_REQUIRED'],
  // scrap, quality, maintenance
  ['scrap of a lot-tracked product without a lot (Odoo decides)', 'scrap.reported', { product: 'RM-STEEL', quantity: 1 }, undefined],
  ['scrap of an unknown product', 'scrap.reported', { product: 'NOPE', quantity: 1 }, 'EDGE_UNKNOWN_PRODUCT'],
  [
    'scrap on an order the cache does not hold (a done order may be scrapped from)',
    'scrap.reported',
    { product: 'RM-SEAL', quantity: 1, production: 'WH/MO/09999' },
    undefined,
  ],
  ['quality result for a lot without a product', 'quality.recorded', { test: 'Torque', result: 'pass', lot: 'LOT-A' }, 'EDGE_PRODUCT_REQUIRED'],
  ['quality result for a known product', 'quality.recorded', { test: 'Torque', result: 'pass', product: 'FG-GEAR' }, undefined],
  ['maintenance of known equipment (by serial number)', 'maintenance.requested', { equipment: 'PR-001', name: 'Leak' }, undefined],
  ['maintenance of unknown equipment', 'maintenance.requested', { equipment: 'Press 9', name: 'Leak' }, 'EDGE_UNKNOWN_EQUIPMENT'],
  // work orders
  ['start of the only matching work order', 'workorder.started', { production: 'WH/MO/00001', workorder: 'Assembly' }, undefined],
  ['start of a cancelled work order', 'workorder.started', { production: 'WH/MO/00001', workorder: 'Testing' }, 'EDGE_WORKORDER_CLOSED'],
  ['start of a work order the order does not have', 'workorder.started', { production: 'WH/MO/00001', workorder: 'Painting' }, 'EDGE_UNKNOWN_WORKORDER'],
  ['start of an ambiguous work order', 'workorder.finished', { production: 'WH/MO/00003', workorder: 'Assembly' }, 'EDGE_AMBIGUOUS_WORKORDER'],
  ['start made unique by its work center', 'workorder.finished', { production: 'WH/MO/00003', workorder: 'Assembly', workcenter: 'TST1' }, undefined],
  ['start at a misspelled work center', 'workorder.started', { production: 'WH/MO/00001', workcenter: 'Asembly Line 1' }, 'EDGE_UNKNOWN_WORKCENTER'],
  ['start on an order the cache does not hold (done in Odoo: already applied)', 'workorder.started', { production: 'WH/MO/09999' }, undefined],
];

describe('edge check: what the cached master data says Odoo would refuse', () => {
  for (const [what, type, payload, code] of cases) {
    it(`${what}: ${code ?? 'goes'}`, () => {
      const p = checkEvent(ev(type, payload), cache);
      assert.equal(p?.code, code, p?.reason);
      if (p) assert.ok(p.reason.length > 10);
    });
  }

  it('names what is wrong in the reason', () => {
    const p = checkEvent(ev('downtime.started', { downtimeId: 'd', workcenter: 'Asembly Line 1', reason: 'Material Availability' }), cache);
    assert.equal(p?.reason, 'work center "Asembly Line 1" is not known in Odoo');
  });

  it('does not judge a kind the last pull did not bring (maintenance not installed, an older pull)', () => {
    const other = new SqliteOutbox({ path: ':memory:' });
    try {
      fillMasterData(other, { kinds: ['product', 'lot', 'production', 'workcenter'] });
      const partial = new MasterDataCache(other.masterData);
      assert.equal(checkEvent(ev('maintenance.requested', { equipment: 'Press 9', name: 'Leak' }), partial), undefined);
      assert.equal(checkEvent(ev('downtime.started', { downtimeId: 'd', workcenter: 'ASM1', reason: 'Coffee' }), partial), undefined);
      assert.equal(checkEvent(ev('workorder.started', { production: 'WH/MO/00001', workorder: 'Painting' }), partial), undefined, 'no work orders pulled');
      assert.equal(checkEvent(ev('downtime.started', { downtimeId: 'd', workcenter: 'WC-9', reason: 'Coffee' }), partial)?.code, 'EDGE_UNKNOWN_WORKCENTER');
    } finally {
      void other.close();
    }
  });

  it('is not ready before the first pull; skippable types do not block; mapped types are not checked', () => {
    const empty = new SqliteOutbox({ path: ':memory:' });
    try {
      assert.equal(new EdgeCheck(new MasterDataCache(empty.masterData), { skippableTypes: [] }).ready, false);
    } finally {
      void empty.close();
    }
    const check = new EdgeCheck(cache, { skippableTypes: ['maintenance.requested'], uncheckedTypes: ['downtime.started'] });
    assert.equal(check.ready, true);
    assert.equal(check.check(ev('downtime.started', { downtimeId: 'd', workcenter: 'WC-9', reason: 'x' })), undefined);
    assert.deepEqual(check.check(ev('maintenance.requested', { equipment: 'Press 9', name: 'Leak' })), {
      code: 'EDGE_UNKNOWN_EQUIPMENT',
      reason: 'equipment "Press 9" is not known in Odoo',
      blocking: false,
    });
    assert.equal(check.check(ev('downtime.ended', { downtimeId: 'd', workcenter: 'WC-9' }))?.blocking, true);
  });
});
