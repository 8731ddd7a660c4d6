import { effectiveTime } from './effective-time';
import type { EventOf } from '../../model/event';
import { describeAction, externalId, keyedLoad, loadNumber, readOne } from './odoo-calls';
import { accountingDateContext, stampDone } from './plant-time';
import { lookupsFor } from './lookup';
import { OperationError, type Operation, type OperationContext, type OperationOptions, type OperationOutcome } from './types';

type Scrap = EventOf<'scrap.reported'>;

/**
 * scrap.reported: a stock.scrap (17/18/19) keyed `<module>.scrap_<event id>`
 * with product, scrap_qty, unit, lot, production_id and location when given,
 * and the reason as a scrap reason tag when Odoo has a tag of that name
 * (otherwise the reason goes into the scrap's source document), then
 * action_validate; then the plant's time as the scrap's date_done and its
 * move's date (Odoo stamps the server's at validation). Created once (a replay never rewrites a done scrap), and
 * state-guarded: a scrap already done is alreadyApplied. When Odoo asks for
 * a decision (not enough stock at the location) the event parks.
 */
export function scrapReported(opts: OperationOptions = {}): Operation<Scrap> {
  return {
    type: 'scrap.reported',
    models: () => ['stock.scrap', 'stock.move'],
    async execute(event: Scrap, ctx: OperationContext): Promise<OperationOutcome> {
      const p = event.payload;
      const look = lookupsFor(ctx.odoo, opts.lookupTtlMs);
      const product = await look.product(p.product);
      const fields = ['id', 'product_id/.id', 'scrap_qty'];
      const row = [externalId(ctx.xmlidModule, 'scrap', event.id), String(product.id), loadNumber(p.quantity)];
      const uomId = p.uom !== undefined ? await look.uom(p.uom) : product.uomId;
      if (uomId !== undefined) {
        fields.push('product_uom_id/.id');
        row.push(String(uomId));
      }
      if (p.lot !== undefined) {
        const lotId = await look.lot(product.id, p.lot);
        if (lotId === undefined) throw new OperationError('UNKNOWN_REFERENCE', `unknown lot "${p.lot}" of product "${p.product}" in Odoo`);
        fields.push('lot_id/.id');
        row.push(String(lotId));
      }
      let productionId: number | undefined;
      if (p.production !== undefined) {
        productionId = await look.production(p.production);
        fields.push('production_id/.id');
        row.push(String(productionId));
      }
      if (p.location !== undefined) {
        fields.push('location_id/.id');
        row.push(String(await look.location(p.location)));
      }
      if (p.reason !== undefined) {
        const tag = await look.scrapReason(p.reason);
        if (tag !== undefined) {
          fields.push('scrap_reason_tag_ids/.id');
          row.push(String(tag));
        } else {
          fields.push('origin');
          row.push(p.reason);
        }
      }
      const [id] = await keyedLoad(ctx, 'stock.scrap', fields, [row], 'create');
      const scrapId = id!;
      const odooIds: OperationOutcome['odooIds'] = { 'stock.scrap': scrapId };
      if (productionId !== undefined) odooIds['mrp.production'] = productionId;

      const before = await readOne<{ state: string }>(ctx, 'stock.scrap', scrapId, ['state'], 'scrap');
      if (before.state === 'done') return { odooIds, alreadyApplied: true };
      const result = await ctx.odoo.call('stock.scrap', 'action_validate', {
        ids: [scrapId],
        context: accountingDateContext(effectiveTime(event), ctx.timeZone),
      });
      const after = await readOne<{ state: string; move_ids: number[] }>(ctx, 'stock.scrap', scrapId, ['state', 'move_ids'], 'scrap');
      if (after.state === 'done') {
        await stampDone(ctx, 'stock.scrap', scrapId, after.move_ids, effectiveTime(event));
        return { odooIds };
      }
      const wizard = describeAction(result);
      if (wizard !== undefined) throw new OperationError('NEEDS_DECISION', `needs decision: ${wizard} (scrap of ${p.quantity} "${p.product}")`);
      throw new OperationError('NOT_DONE', `action_validate returned but the scrap of "${p.product}" is still ${after.state}`);
    },
  };
}
