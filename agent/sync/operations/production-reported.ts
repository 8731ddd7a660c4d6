import type { EventOf } from '../../model/event';
import { externalId, keyedLoad, m2oId, m2oName, sameQuantity, writeValues } from './odoo-calls';
import { readProduction, requireOpenProduction } from './production-common';
import { OperationError, type Operation, type OperationContext, type OperationOptions, type OperationOutcome } from './types';

type ProductionReported = EventOf<'production.reported'>;

/** The field holding the produced lot: one lot up to 18, a list from 19. */
export function lotProducingField(major: number): 'lot_producing_id' | 'lot_producing_ids' {
  return major >= 19 ? 'lot_producing_ids' : 'lot_producing_id';
}

/**
 * production.reported: the total produced so far on a manufacturing order.
 *   17/18: write mrp.production.qty_producing (+ lot_producing_id), then set_qty_producing()
 *   19:    same, the lot goes into lot_producing_ids
 * Idempotent as an absolute total: when Odoo already holds that total (and lot)
 * the write is skipped (alreadyApplied); set_qty_producing() is still called,
 * since it only recomputes component quantities from the total and finishes a
 * first attempt that stopped between the two calls. A finished lot Odoo does
 * not know yet is created (keyed `<module>.lot_<product id>_<lot>`).
 * On a done order whose produced quantity already includes the total (a
 * replay after the order closed), nothing is written: alreadyApplied.
 */
export function productionReported(opts: OperationOptions = {}): Operation<ProductionReported> {
  return {
    type: 'production.reported',
    models: () => ['mrp.production', 'stock.lot'],
    async execute(event: ProductionReported, ctx: OperationContext): Promise<OperationOutcome> {
      const p = event.payload;
      const lotField = lotProducingField(ctx.server.major);
      const { mo, look } = await readProduction(ctx, opts, p.production, ['qty_producing', 'qty_produced', 'product_id', 'product_uom_id', lotField]);
      // A replay on an order that is done with this total (or more) in it: Odoo already holds it.
      if (mo.state === 'done' && Number(mo.qty_produced ?? 0) + 1e-6 >= p.totalQuantity) {
        return { odooIds: { 'mrp.production': mo.id }, alreadyApplied: true };
      }
      requireOpenProduction(mo, 'report production on');

      if (p.uom !== undefined && p.uom !== m2oName(mo.product_uom_id)) {
        const uomId = await look.uom(p.uom);
        if (uomId !== m2oId(mo.product_uom_id)) {
          throw new OperationError(
            'UOM_MISMATCH',
            `production of ${mo.name} reported in "${p.uom}" but the order counts in "${m2oName(mo.product_uom_id) ?? '?'}"; convert in the rule`,
          );
        }
      }

      const odooIds: OperationOutcome['odooIds'] = { 'mrp.production': mo.id };
      let lotId: number | undefined;
      if (p.lot !== undefined) {
        const productId = m2oId(mo.product_id);
        if (productId === undefined) throw new OperationError('RECORD_GONE', `manufacturing order ${mo.name} has no product`);
        lotId = await look.lot(productId, p.lot);
        if (lotId === undefined) {
          // The finished lot is born here: create it, keyed so a replay finds it.
          const [id] = await keyedLoad(
            ctx,
            'stock.lot',
            ['id', 'name', 'product_id/.id'],
            [[externalId(ctx.xmlidModule, 'lot', `${productId}_${p.lot}`), p.lot, String(productId)]],
            'create',
          );
          lotId = id!;
        }
        odooIds['stock.lot'] = lotId;
      }

      const current = Number(mo.qty_producing ?? 0);
      const currentLots =
        lotField === 'lot_producing_ids'
          ? Array.isArray(mo[lotField])
            ? (mo[lotField] as number[])
            : []
          : [m2oId(mo[lotField])].filter((x) => x !== undefined);
      const lotOk = lotId === undefined || (currentLots.length === 1 && currentLots[0] === lotId);
      const already = sameQuantity(current, p.totalQuantity) && lotOk;

      if (!already) {
        const vals: Record<string, unknown> = { qty_producing: p.totalQuantity };
        if (lotId !== undefined) vals[lotField] = lotField === 'lot_producing_ids' ? [[6, 0, [lotId]]] : lotId;
        await writeValues(ctx, 'mrp.production', [mo.id], vals);
      }
      await ctx.odoo.call('mrp.production', 'set_qty_producing', { ids: [mo.id] });
      return already ? { odooIds, alreadyApplied: true } : { odooIds };
    },
  };
}
