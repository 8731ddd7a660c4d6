import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inventoryMoved } from '../../agent/sync/operations/inventory-moved';
import { scrapReported } from '../../agent/sync/operations/scrap-reported';
import { OperationError } from '../../agent/sync/operations/types';
import { Fixtures, m2o, read, readId } from './fixtures';
import { ev, onEveryOdoo } from './harness';

async function parks(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof OperationError, `expected OperationError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.action, 'park');
    assert.match(err.message, message);
    return true;
  });
}

onEveryOdoo('stock operations', (s) => {
  const scrap = scrapReported();
  const moved = inventoryMoved();

  async function onHand(productId: number, locationId: number): Promise<number> {
    const quants = await read(
      s.t.odoo,
      'stock.quant',
      [
        ['product_id', '=', productId],
        ['location_id', '=', locationId],
      ],
      ['quantity'],
    );
    return quants.reduce((sum, q) => sum + (q.quantity as number), 0);
  }

  test('scrap.reported: validated once with its lot; a replay is alreadyApplied and scraps nothing more', async () => {
    const fx = new Fixtures(s.t);
    const prod = await fx.product('SCRAP', 'lot');
    const lot = await fx.lot(prod.id);
    await fx.stock(prod.id, 10, 'WH/Stock', lot.id);
    const stock = await fx.locationId('WH/Stock');
    const e = ev('scrap.reported', { product: prod.code, quantity: 3, lot: lot.name, reason: 'burr on edge' });
    const r1 = await scrap.execute(e, s.t.ctx);
    const id = r1.odooIds['stock.scrap'] as number;
    const row = await readId(s.t.odoo, 'stock.scrap', id, ['state', 'scrap_qty', 'lot_id']);
    assert.equal(row.state, 'done');
    assert.equal(row.scrap_qty, 3);
    assert.equal(m2o(row.lot_id), lot.id);
    assert.equal(await onHand(prod.id, stock), 7);
    const r2 = await scrap.execute(e, s.t.ctx);
    assert.equal(r2.alreadyApplied, true);
    assert.equal(r2.odooIds['stock.scrap'], id);
    assert.equal(await onHand(prod.id, stock), 7);
    assert.equal((await read(s.t.odoo, 'stock.scrap', [['product_id', '=', prod.id]], ['id'])).length, 1);
  });

  test('scrap.reported: unknown product or lot parks naming it', async () => {
    const fx = new Fixtures(s.t);
    const prod = await fx.product('SCRAP', 'lot');
    await parks(scrap.execute(ev('scrap.reported', { product: `NOPE-${s.t.run}`, quantity: 1 }), s.t.ctx), 'UNKNOWN_REFERENCE', /NOPE/);
    await parks(scrap.execute(ev('scrap.reported', { product: prod.code, quantity: 1, lot: `NOLOT-${s.t.run}` }), s.t.ctx), 'UNKNOWN_REFERENCE', /NOLOT/);
  });

  test('inventory count: absolute; a replay is alreadyApplied and never undoes a later count', async () => {
    const fx = new Fixtures(s.t);
    const prod = await fx.product('CNT');
    const bin = await fx.sublocation();
    const first = ev('inventory.moved', { kind: 'count', product: prod.code, quantity: 7, location: bin.completeName });
    const r1 = await moved.execute(first, s.t.ctx);
    assert.ok(typeof r1.odooIds['stock.quant'] === 'number');
    assert.equal(await onHand(prod.id, bin.id), 7);
    assert.equal((await moved.execute(first, s.t.ctx)).alreadyApplied, true);
    await moved.execute(ev('inventory.moved', { kind: 'count', product: prod.code, quantity: 4, location: bin.completeName }), s.t.ctx);
    assert.equal(await onHand(prod.id, bin.id), 4);
    assert.equal((await moved.execute(first, s.t.ctx)).alreadyApplied, true);
    assert.equal(await onHand(prod.id, bin.id), 4, 'the old count replayed did not come back');
  });

  test('inventory transfer: one internal transfer, done once; a replay is alreadyApplied', async () => {
    const fx = new Fixtures(s.t);
    const prod = await fx.product('TRF');
    await fx.stock(prod.id, 10);
    const bin = await fx.sublocation();
    const stock = await fx.locationId('WH/Stock');
    const e = ev('inventory.moved', {
      kind: 'transfer',
      product: prod.code,
      quantity: 4,
      fromLocation: 'WH/Stock',
      toLocation: bin.completeName,
      reference: 'to line 2',
    });
    const r1 = await moved.execute(e, s.t.ctx);
    const pickingId = r1.odooIds['stock.picking'] as number;
    assert.equal((await readId(s.t.odoo, 'stock.picking', pickingId, ['state'])).state, 'done');
    assert.equal(await onHand(prod.id, bin.id), 4);
    assert.equal(await onHand(prod.id, stock), 6);
    const r2 = await moved.execute(e, s.t.ctx);
    assert.equal(r2.alreadyApplied, true);
    assert.equal(r2.odooIds['stock.picking'], pickingId);
    assert.equal(await onHand(prod.id, bin.id), 4);
    assert.equal(
      (
        await read(
          s.t.odoo,
          'stock.move',
          [
            ['product_id', '=', prod.id],
            ['picking_id', '!=', false],
          ],
          ['id'],
        )
      ).length,
      1,
    );
  });

  test('inventory transfer of a lot; unknown location parks naming it', async () => {
    const fx = new Fixtures(s.t);
    const prod = await fx.product('TRFLOT', 'lot');
    const lot = await fx.lot(prod.id);
    await fx.stock(prod.id, 5, 'WH/Stock', lot.id);
    const bin = await fx.sublocation();
    const r = await moved.execute(
      ev('inventory.moved', { kind: 'transfer', product: prod.code, quantity: 2, lot: lot.name, fromLocation: 'WH/Stock', toLocation: bin.completeName }),
      s.t.ctx,
    );
    assert.equal((await readId(s.t.odoo, 'stock.picking', r.odooIds['stock.picking'] as number, ['state'])).state, 'done');
    const quants = await read(
      s.t.odoo,
      'stock.quant',
      [
        ['product_id', '=', prod.id],
        ['location_id', '=', bin.id],
      ],
      ['quantity', 'lot_id'],
    );
    assert.deepEqual(
      quants.map((q) => [m2o(q.lot_id), q.quantity]),
      [[lot.id, 2]],
    );
    await parks(
      moved.execute(
        ev('inventory.moved', {
          kind: 'transfer',
          product: prod.code,
          quantity: 1,
          lot: lot.name,
          fromLocation: 'WH/Stock',
          toLocation: `WH/Nowhere-${s.t.run}`,
        }),
        s.t.ctx,
      ),
      'UNKNOWN_REFERENCE',
      /Nowhere/,
    );
  });
});
