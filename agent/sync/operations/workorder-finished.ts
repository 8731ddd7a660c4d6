import type { EventOf } from '../../model/event';
import { readOne } from './odoo-calls';
import { OperationError, type Operation, type OperationOptions, type OperationOutcome } from './types';
import { resolveWorkorder } from './workorder-started';

/**
 * workorder.finished: mrp.workorder.button_finish (17/18/19; `button_done`
 * no longer exists in 19). State-guarded: a done work order is
 * alreadyApplied; a cancelled one parks.
 */
export function workorderFinished(opts: OperationOptions = {}): Operation<EventOf<'workorder.finished'>> {
  return {
    type: 'workorder.finished',
    models: () => ['mrp.workorder'],
    async execute(event, ctx): Promise<OperationOutcome> {
      const { mo, wo } = await resolveWorkorder(event, ctx, opts);
      const odooIds = { 'mrp.workorder': wo.id, 'mrp.production': mo.id };
      if (wo.state === 'done') return { odooIds, alreadyApplied: true };
      if (wo.state === 'cancel') throw new OperationError('WORKORDER_CLOSED', `cannot finish work order "${wo.name}" of ${mo.name}: it is cancelled in Odoo`);
      await ctx.odoo.call('mrp.workorder', 'button_finish', { ids: [wo.id] });
      const after = await readOne<{ state: string }>(ctx, 'mrp.workorder', wo.id, ['state'], `work order "${wo.name}"`);
      if (after.state !== 'done') {
        throw new OperationError('NOT_DONE', `button_finish returned but work order "${wo.name}" of ${mo.name} is still ${after.state}`);
      }
      return { odooIds };
    },
  };
}
