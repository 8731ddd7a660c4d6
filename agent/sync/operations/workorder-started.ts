import type { EventOf } from '../../model/event';
import { readOne } from './odoo-calls';
import { readProduction } from './production-common';
import { OperationError, type Operation, type OperationContext, type OperationOptions, type OperationOutcome } from './types';

type WorkorderEvent = EventOf<'workorder.started'> | EventOf<'workorder.finished'>;

/** Find the work order an event names and read its state. */
export async function resolveWorkorder(event: WorkorderEvent, ctx: OperationContext, opts: OperationOptions) {
  const p = event.payload;
  const { mo, look } = await readProduction(ctx, opts, p.production, []);
  const wo = await look.workorder(mo.id, mo.name, p.workorder, p.workcenter);
  return { mo, wo };
}

/**
 * workorder.started: mrp.workorder.button_start (17/18/19).
 * State-guarded: a work order in progress or already done is alreadyApplied
 * (a replay, or a start that Odoo saw from the tablet); a cancelled one parks.
 * Odoo refuses to start while the work center is blocked by an open downtime
 * (UserError: parked with Odoo's message).
 */
export function workorderStarted(opts: OperationOptions = {}): Operation<EventOf<'workorder.started'>> {
  return {
    type: 'workorder.started',
    models: () => ['mrp.workorder'],
    async execute(event, ctx): Promise<OperationOutcome> {
      const { mo, wo } = await resolveWorkorder(event, ctx, opts);
      const odooIds = { 'mrp.workorder': wo.id, 'mrp.production': mo.id };
      if (wo.state === 'progress' || wo.state === 'done') return { odooIds, alreadyApplied: true };
      if (wo.state === 'cancel') throw new OperationError('WORKORDER_CLOSED', `cannot start work order "${wo.name}" of ${mo.name}: it is cancelled in Odoo`);
      await ctx.odoo.call('mrp.workorder', 'button_start', { ids: [wo.id] });
      const after = await readOne<{ state: string }>(ctx, 'mrp.workorder', wo.id, ['state'], `work order "${wo.name}"`);
      if (after.state !== 'progress' && after.state !== 'done') {
        throw new OperationError('NOT_STARTED', `button_start returned but work order "${wo.name}" of ${mo.name} is still ${after.state}`);
      }
      return { odooIds };
    },
  };
}
