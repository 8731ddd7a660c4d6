import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GS } from '../../agent/rules/kinds/scan-gs1';
import { findProduct, lookupScan } from '../../agent/rules/kinds/scan-lookup';
import { fakeMasterData } from './fake-master-data';

test('GS1 label: GTIN-14 finds the product stored under its EAN-13, and its lot', () => {
  const md = fakeMasterData();
  const r = lookupScan(`]d20109506000134352${'10L-100'}${GS}`, md, { referenceYear: 2025 });
  assert.ok(r.ok);
  assert.equal(r.scan.gtin, '09506000134352');
  assert.equal(r.scan.product?.product.id, 1);
  assert.equal(r.scan.product?.code, '9506000134352');
  assert.equal(r.scan.product?.via, 'gtin');
  assert.equal(r.scan.lotRecord?.id, 100);
  assert.equal(r.scan.symbology, ']d2');
  assert.deepEqual(md.asked, ['09506000134352', '9506000134352']);
});

test('plain EAN-13 finds a product stored under its GTIN-14', () => {
  const r = lookupScan('4006381333931', fakeMasterData());
  assert.ok(r.ok);
  assert.equal(r.scan.product?.product.id, 2);
  assert.equal(r.scan.product?.code, '04006381333931');
  assert.equal(r.scan.gtin, '04006381333931');
  assert.equal(r.scan.gs1, undefined);
});

test('plain internal reference, with the symbology identifier removed', () => {
  const r = lookupScan(']C0RESIN-A', fakeMasterData());
  assert.ok(r.ok);
  assert.equal(r.scan.code, 'RESIN-A');
  assert.equal(r.scan.product?.product.id, 3);
  assert.equal(r.scan.product?.via, 'code');
});

test('unknown code: no product, master data was available', () => {
  const r = lookupScan('NOPE-1', fakeMasterData());
  assert.ok(r.ok);
  assert.equal(r.scan.product, undefined);
  assert.equal(r.scan.masterData, true);
});

test('offline before the first pull: nothing looked up', () => {
  const r = lookupScan('4006381333931', undefined);
  assert.ok(r.ok);
  assert.equal(r.scan.masterData, false);
  assert.equal(r.scan.product, undefined);
  assert.equal(r.scan.gtin, '04006381333931');
});

test('unreadable GS1 label is an error', () => {
  const r = lookupScan(']C10109506000134353', fakeMasterData());
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error, /check digit/);
});

test('bare element string is GS1 only when allowed', () => {
  const md = fakeMasterData();
  const bare = '0109506000134352' + '10L-100';
  const strict = lookupScan(bare, md);
  assert.ok(strict.ok);
  assert.equal(strict.scan.gs1, undefined);
  const loose = lookupScan(bare, md, { requireMarker: false });
  assert.ok(loose.ok);
  assert.equal(loose.scan.gs1?.lot, 'L-100');
});

test('findProduct does not try GTIN forms for a non-GTIN code', () => {
  const md = fakeMasterData();
  assert.equal(findProduct(md, '12345'), undefined);
  assert.deepEqual(md.asked, ['12345']);
});
