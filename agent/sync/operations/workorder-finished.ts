import type { EventOf } from '../../model/event';
import { odooDatetime, readOne } from './odoo-calls';
import { closeTimeLogs, stampWorkorder } from './plant-time';
import { OperationError, type Operation, type OperationOptions, type OperationOutcome } from './types';
import { resolveWorkorder } from './workorder-started';

/**
 * workorder.finished: mrp.workorder.button_finish (17/18/19; `button_done`
 * no longer exists in 19). The plant's time goes where Odoo keeps it: the
 * open time logs are closed at occurredAt before the button (so it finds none
 * to close at the server's time), and the work order's date_finished is
 * written after it (with its date_start when that was later). The work
 * order's duration, computed by Odoo from its time logs, is then the plant's.
 * State-guarded: a done work order is alreadyApplied; a cancelled one parks.
 */
export function workorderFinished(opts: OperationOptions = {}): Operation<EventOf<'workorder.finished'>> {
  return {
    type: 'workorder.finished',
    models: () => ['mrp.workorder', 'mrp.workcenter.productivity'],
    async execute(event, ctx): Promise<OperationOutcome> {
      const { mo, wo } = await resolveWorkorder(event, ctx, opts);
      const odooIds = { 'mrp.workorder': wo.id, 'mrp.production': mo.id };
      if (wo.state === 'done') return { odooIds, alreadyApplied: true };
      if (wo.state === 'cancel') throw new OperationError('WORKORDER_CLOSED', `cannot finish work order "${wo.name}" of ${mo.name}: it is cancelled in Odoo`);
      await closeTimeLogs(ctx, wo.id, event.occurredAt);
      await ctx.odoo.call('mrp.workorder', 'button_finish', { ids: [wo.id] });
      const after = await readOne<{ state: string; date_start: string | false }>(
        ctx,
        'mrp.workorder',
        wo.id,
        ['state', 'date_start'],
        `work order "${wo.name}"`,
      );
      if (after.state !== 'done') {
        throw new OperationError('NOT_DONE', `button_finish returned but work order "${wo.name}" of ${mo.name} is still ${after.state}`);
      }
      const at = odooDatetime(event.occurredAt);
      await stampWorkorder(
        ctx,
        wo.id,
        typeof after.date_start === 'string' && after.date_start <= at ? { date_finished: at } : { date_start: at, date_finished: at },
      );
      return { odooIds };
    },
  };
}
