import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventType } from '../../agent/model/event';
import type { Operation, OperationRegistry } from '../../agent/sync/operations/types';
import { buildUnits, runPolicy, runsOf, type Unit } from '../../agent/sync/units';
import { claimedRecord as rec } from '../helpers/sync';

function op(type: EventType, batch: boolean): Operation {
  const o: Operation = { type, models: () => [], execute: async () => ({ odooIds: {} }) };
  if (batch) o.executeBatch = async (events) => events.map(() => ({ odooIds: {} }));
  return o;
}

const registry: OperationRegistry = new Map<EventType, Operation>([
  ['downtime.started', op('downtime.started', true)],
  ['production.reported', op('production.reported', false)],
  ['maintenance.requested', op('maintenance.requested', true)],
]);

/** Each unit as its type and seqs. */
const shape = (units: Unit[]) => units.map((u) => [u.op.type, ...u.records.map((r) => r.seq)]);

describe('sync units', () => {
  it('cuts a claim into runs of consecutive events of one key', () => {
    const runs = runsOf([rec(1, 'A'), rec(2, 'A'), rec(3, 'B'), rec(4, 'A')]);
    assert.deepEqual(
      runs.map((r) => r.map((x) => x.seq)),
      [[1, 2], [3], [4]],
    );
  });

  it('claims runs only for batchable types, and only with a batch size above 1', () => {
    const runs = runPolicy(registry, 20);
    assert.deepEqual([...runs!.types].sort(), ['downtime.started', 'maintenance.requested']);
    assert.equal(runs!.max, 20);
    assert.equal(runPolicy(registry, 1), undefined);
    assert.equal(runPolicy(new Map([['production.reported', op('production.reported', false)]]), 20), undefined);
  });

  it('sends a type without batch one event per request', () => {
    const { units, parked } = buildUnits([rec(1, 'MO-1', { type: 'production.reported' }), rec(2, 'MO-2', { type: 'production.reported' })], {
      operations: registry,
      batchSize: 50,
      free: 1,
      skippable: new Set(),
    });
    assert.deepEqual(shape(units), [
      ['production.reported', 1],
      ['production.reported', 2],
    ]);
    assert.deepEqual(parked, []);
  });

  it('spreads the heads of a batchable type over the free request slots, up to the batch size', () => {
    const heads = Array.from({ length: 6 }, (_, i) => rec(i + 1, `WC-${i}`));
    const opts = { operations: registry, batchSize: 50, skippable: new Set<string>() };
    assert.deepEqual(shape(buildUnits(heads, { ...opts, free: 3 }).units), [
      ['downtime.started', 1, 2],
      ['downtime.started', 3, 4],
      ['downtime.started', 5, 6],
    ]);
    assert.deepEqual(shape(buildUnits(heads, { ...opts, free: 1, batchSize: 4 }).units), [
      ['downtime.started', 1, 2, 3, 4],
      ['downtime.started', 5, 6],
    ]);
    // A batch size of 1 sends one event per request even for a batchable type.
    assert.equal(buildUnits(heads, { ...opts, free: 1, batchSize: 1 }).units.length, 6);
  });

  it("keeps a key's run whole in one unit, even past the share of a slot", () => {
    // Two slots, four events: two per unit, but A's run of three is not cut.
    const claim = [rec(1, 'A'), rec(2, 'A'), rec(3, 'A'), rec(4, 'B')];
    const { units } = buildUnits(claim, { operations: registry, batchSize: 50, free: 2, skippable: new Set() });
    assert.deepEqual(shape(units), [
      ['downtime.started', 1, 2, 3],
      ['downtime.started', 4],
    ]);
  });

  it('orders units oldest first across types', () => {
    const claim = [rec(1, 'WC-1'), rec(2, 'MO-1', { type: 'production.reported' }), rec(3, 'EQ-1', { type: 'maintenance.requested' }), rec(4, 'WC-2')];
    const { units } = buildUnits(claim, { operations: registry, batchSize: 50, free: 1, skippable: new Set() });
    assert.deepEqual(shape(units), [
      ['downtime.started', 1, 4],
      ['production.reported', 2],
      ['maintenance.requested', 3],
    ]);
  });

  it('parks an event whose type has no operation; it blocks its key unless the type is skippable', () => {
    const claim = [rec(1, 'Q-1', { type: 'quality.recorded' }), rec(2, 'S-1', { type: 'scrap.reported' }), rec(3, 'WC-1')];
    const { units, parked } = buildUnits(claim, { operations: registry, batchSize: 50, free: 1, skippable: new Set(['quality.recorded']) });
    assert.deepEqual(shape(units), [['downtime.started', 3]]);
    assert.deepEqual(parked, [
      { seq: 1, outcome: 'park', reason: 'no operation for event type quality.recorded (check sync.mappings)', code: 'NO_OPERATION', blocking: false },
      { seq: 2, outcome: 'park', reason: 'no operation for event type scrap.reported (check sync.mappings)', code: 'NO_OPERATION', blocking: true },
    ]);
  });
});
