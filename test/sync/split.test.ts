import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OdooError } from '../../agent/odoo/types';
import { HeldBackError } from '../../agent/sync/operations/types';
import { failedAsWhole, splitBatch } from '../../agent/sync/split';
import { claimedRecord as rec } from '../helpers/sync';

const park = () => new OdooError('Wrong value for loss_id', { action: 'park', code: 'ODOO_LOAD_FAILED', odooName: 'load' });
const retry = () => new OdooError('HTTP 503', { action: 'retry', code: 'ODOO_UNAVAILABLE', status: 503 });
const done = { odooIds: { 'mrp.workcenter.productivity': 1 } };

describe('splitting a failed batch', () => {
  it('splits only a batch of several events where every row parks', () => {
    const two = [rec(1, 'A'), rec(2, 'B')];
    assert.equal(failedAsWhole(two, [park(), park()]), true);
    assert.equal(failedAsWhole(two, [park(), retry()]), false, 'a transient failure retries the batch whole');
    assert.equal(failedAsWhole(two, [park(), done]), false, 'a row went through: nothing to find');
    assert.equal(failedAsWhole(two, [park(), new HeldBackError('B')]), false);
    assert.equal(failedAsWhole([rec(1, 'A')], [park()]), false, 'a single event parks');
    assert.equal(failedAsWhole(two, [new TypeError('x is undefined'), new Error('boom')]), true, 'an error with no action parks');
  });

  it('halves a batch of many keys', () => {
    const { halves, back } = splitBatch([rec(1, 'A'), rec(2, 'B'), rec(3, 'C'), rec(4, 'D'), rec(5, 'E')]);
    assert.deepEqual(
      halves.map((h) => h.map((r) => r.seq)),
      [
        [1, 2, 3],
        [4, 5],
      ],
    );
    assert.deepEqual(back, []);
  });

  it('hands back the later part of a key whose run is in the first half, instead of sending it beside it', () => {
    const { halves, back } = splitBatch([rec(1, 'A'), rec(2, 'A'), rec(3, 'A'), rec(4, 'A'), rec(5, 'B'), rec(6, 'B')]);
    assert.deepEqual(
      halves.map((h) => h.map((r) => r.seq)),
      [
        [1, 2, 3],
        [5, 6],
      ],
    );
    assert.deepEqual(back, [{ seq: 4, outcome: 'release' }]);
  });

  it('sends one half when the whole second half belongs to keys of the first', () => {
    const { halves, back } = splitBatch([rec(1, 'A'), rec(2, 'A'), rec(3, 'A')]);
    assert.deepEqual(
      halves.map((h) => h.map((r) => r.seq)),
      [[1, 2]],
    );
    assert.deepEqual(back, [{ seq: 3, outcome: 'release' }]);
  });
});
