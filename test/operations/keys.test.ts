import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeAction, externalId, loadNumber, odooDatetime, sameQuantity, sanitizeKey } from '../../agent/sync/operations/odoo-calls';
import { lotProducingField } from '../../agent/sync/operations/production-reported';
import { OperationError } from '../../agent/sync/operations/types';

describe('external ids', () => {
  const cases: Array<[string, RegExp]> = [
    ['0190b3a2-7c1d-7abc-8def-0123456789ab', /^0190b3a2-7c1d-7abc-8def-0123456789ab$/],
    ['stop_42', /^stop_42$/],
    ['WH/MO/00042', /^WH_MO_00042_[0-9a-f]{10}$/],
    ['Presse 3 · arrêt', /^Presse_3___arr_t_[0-9a-f]{10}$/],
    ['x'.repeat(300), /^x{120}_[0-9a-f]{10}$/],
  ];
  for (const [key, expected] of cases) {
    test(`sanitizes ${JSON.stringify(key.slice(0, 30))}`, () => assert.match(sanitizeKey(key), expected));
  }
  test('keys that sanitize alike stay apart', () => {
    assert.notEqual(sanitizeKey('WH/MO/1'), sanitizeKey('WH_MO_1'));
    assert.notEqual(sanitizeKey('a b'), sanitizeKey('a_b'));
  });
  test('module, kind and key', () => {
    assert.equal(externalId('edge_plant1', 'downtime', 'stop_7'), 'edge_plant1.downtime_stop_7');
  });
});

describe('wire formats', () => {
  const times: Array<[string, string]> = [
    ['2026-11-26T08:00:05Z', '2026-11-26 08:00:05'],
    ['2026-11-26T09:00:05.999+01:00', '2026-11-26 08:00:05'],
    ['2026-03-29T01:30:00-05:00', '2026-03-29 06:30:00'],
    ['2026-01-31T23:59:59.123Z', '2026-01-31 23:59:59'],
    ['2028-02-29T12:00:00Z', '2028-02-29 12:00:00'],
    ['2026-12-31T00:00:00.5+14:00', '2026-12-30 10:00:00'],
  ];
  for (const [iso, odoo] of times) test(`time ${iso}`, () => assert.equal(odooDatetime(iso), odoo));
  test('a bad time is an OperationError', () => assert.throws(() => odooDatetime('yesterday'), OperationError));
  for (const bad of ['2026-02-30T00:00:00Z', '2027-02-29T00:00:00Z', '2026-04-31T08:00:00Z', '2026-11-26T24:00:00Z', '2026-13-01T00:00:00Z']) {
    test(`a day that does not exist is refused, not rolled over: ${bad}`, () => assert.throws(() => odooDatetime(bad), OperationError));
  }

  const numbers: Array<[number, string]> = [
    [3, '3'],
    [2.5, '2.5'],
    [0.1 + 0.2, '0.3'],
    [1e-7, '1e-7'],
  ];
  for (const [n, s] of numbers) test(`number ${n}`, () => assert.equal(loadNumber(n), s));

  test('quantities compare within Odoo rounding', () => {
    assert.equal(sameQuantity(3, 3.0000001), true);
    assert.equal(sameQuantity(3, 3.001), false);
  });

  test('a returned action names its wizard; True names nothing', () => {
    assert.equal(describeAction(true), undefined);
    assert.equal(describeAction(undefined), undefined);
    assert.equal(
      describeAction({ type: 'ir.actions.act_window', res_model: 'mrp.production.backorder', name: 'You produced less' }),
      'mrp.production.backorder / You produced less',
    );
  });

  test('produced lot field per version', () => {
    assert.equal(lotProducingField(17), 'lot_producing_id');
    assert.equal(lotProducingField(18), 'lot_producing_id');
    assert.equal(lotProducingField(19), 'lot_producing_ids');
  });
});
