import type { EventOf } from '../../model/event';
import { describeAction, readOne } from './odoo-calls';
import { MARK_DONE_CONTEXT, readProduction, type ProductionRecord } from './production-common';
import { OperationError, type Operation, type OperationContext, type OperationOptions, type OperationOutcome } from './types';

type ProductionCompleted = EventOf<'production.completed'>;

/**
 * production.completed: close the manufacturing order.
 *   17/18/19: mrp.production.button_mark_done with context skip_backorder,
 *   skip_consumption, skip_redirection (and skip_immediate, which Odoo 16 needs).
 * State-guarded: an order already done is alreadyApplied; a cancelled or
 * draft order parks. When Odoo answers with a wizard (a dict) and the order is
 * not done afterwards, a person must decide: NEEDS_DECISION, parked. A dict
 * that comes back with the order done (a report to print) is success.
 */
export function productionCompleted(opts: OperationOptions = {}): Operation<ProductionCompleted> {
  return {
    type: 'production.completed',
    models: () => ['mrp.production'],
    async execute(event: ProductionCompleted, ctx: OperationContext): Promise<OperationOutcome> {
      const { mo } = await readProduction(ctx, opts, event.payload.production, []);
      const odooIds = { 'mrp.production': mo.id };
      if (mo.state === 'done') return { odooIds, alreadyApplied: true };
      if (mo.state === 'cancel') throw new OperationError('PRODUCTION_CLOSED', `cannot finish manufacturing order ${mo.name}: it is cancelled in Odoo`);
      if (mo.state === 'draft') {
        throw new OperationError('PRODUCTION_NOT_CONFIRMED', `cannot finish manufacturing order ${mo.name}: it is still a draft in Odoo (confirm it first)`);
      }
      const result = await ctx.odoo.call('mrp.production', 'button_mark_done', { ids: [mo.id], context: { ...MARK_DONE_CONTEXT } });
      const after = await readOne<ProductionRecord>(ctx, 'mrp.production', mo.id, ['id', 'name', 'state'], `manufacturing order ${mo.name}`);
      if (after.state === 'done') return { odooIds };
      const wizard = describeAction(result);
      if (wizard !== undefined) {
        throw new OperationError('NEEDS_DECISION', `needs decision: ${wizard} (manufacturing order ${mo.name} is still ${after.state})`);
      }
      throw new OperationError('NOT_DONE', `button_mark_done returned but manufacturing order ${mo.name} is still ${after.state}`);
    },
  };
}
