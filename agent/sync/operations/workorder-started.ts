import type { EventOf } from '../../model/event';
import { odooDatetime, readOne } from './odoo-calls';
import { startTimeLogs, stampProduction, stampWorkorder } from './plant-time';
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

/** Default for OperationOptions.blockedStartWaitMs: how long a start refused by a blocked work center is retried. */
export const DEFAULT_BLOCKED_START_WAIT_MS = 10 * 60_000;
/** Odoo's refusal while the work center has an open downtime (17/18/19). */
const BLOCKED = /Please unblock the work center to start the work order/i;

/**
 * workorder.started: mrp.workorder.button_start (17/18/19), then the plant's
 * time written where button_start put the server's: the time log it opened
 * (mrp.workcenter.productivity date_start), the work order's date_start and,
 * when it is earlier, the order's date_start.
 * State-guarded: a work order in progress or already done is alreadyApplied
 * (a replay, or a start that Odoo saw from the tablet); a cancelled one parks.
 * Odoo refuses to start while the work center is blocked by an open downtime.
 * After an outage that is often a stop delivered ahead of this earlier start,
 * whose end is on its way on the work center's key: the start is retried
 * (backoff) for `blockedStartWaitMs` from its first refusal, then parks.
 */
export function workorderStarted(opts: OperationOptions = {}): Operation<EventOf<'workorder.started'>> {
  const waitMs = opts.blockedStartWaitMs ?? DEFAULT_BLOCKED_START_WAIT_MS;
  const now = opts.now ?? Date.now;
  /** Event id -> when Odoo first refused it for a blocked work center (this process's memory). */
  const firstRefused = new Map<string, number>();
  return {
    type: 'workorder.started',
    models: () => ['mrp.workorder', 'mrp.workcenter.productivity', 'mrp.production'],
    async execute(event, ctx): Promise<OperationOutcome> {
      const { mo, wo } = await resolveWorkorder(event, ctx, opts);
      const odooIds = { 'mrp.workorder': wo.id, 'mrp.production': mo.id };
      if (wo.state === 'done') return { odooIds, alreadyApplied: true };
      if (wo.state === 'progress') {
        // Already started: make sure the plant's (earlier) start time is there, in case an attempt stopped after the button.
        await stampStart(ctx, wo.id, mo.id, event.occurredAt);
        return { odooIds, alreadyApplied: true };
      }
      if (wo.state === 'cancel') throw new OperationError('WORKORDER_CLOSED', `cannot start work order "${wo.name}" of ${mo.name}: it is cancelled in Odoo`);
      try {
        await ctx.odoo.call('mrp.workorder', 'button_start', { ids: [wo.id] });
      } catch (err) {
        if (!(err instanceof Error) || !BLOCKED.test(err.message)) throw err;
        const t = now();
        const since = firstRefused.get(event.id) ?? t;
        firstRefused.set(event.id, since);
        if (t - since < waitMs) {
          throw new OperationError(
            'WORKCENTER_BLOCKED',
            `work center of "${wo.name}" (${mo.name}) is blocked by an open downtime in Odoo; retrying for up to ${Math.round(waitMs / 1000)} s in case its end is on the way`,
            'retry',
          );
        }
        firstRefused.delete(event.id);
        throw new OperationError(
          'WORKCENTER_BLOCKED',
          `cannot start work order "${wo.name}" of ${mo.name}: its work center is still blocked by an open downtime in Odoo after ${Math.round(waitMs / 1000)} s (${err.message})`,
        );
      }
      firstRefused.delete(event.id);
      const after = await readOne<{ state: string; date_start: string | false }>(
        ctx,
        'mrp.workorder',
        wo.id,
        ['state', 'date_start'],
        `work order "${wo.name}"`,
      );
      if (after.state !== 'progress' && after.state !== 'done') {
        throw new OperationError('NOT_STARTED', `button_start returned but work order "${wo.name}" of ${mo.name} is still ${after.state}`);
      }
      await stampStart(ctx, wo.id, mo.id, event.occurredAt);
      return { odooIds };
    },
  };
}

/**
 * The plant's start time where button_start put the server's: the open time
 * log, the work order's date_start and the order's, each only moved earlier
 * (a replay writes nothing; an earlier start from elsewhere is kept).
 */
async function stampStart(ctx: OperationContext, workorderId: number, productionId: number, occurredAt: string): Promise<void> {
  const at = odooDatetime(occurredAt);
  await startTimeLogs(ctx, workorderId, occurredAt);
  const wo = await readOne<{ date_start: string | false }>(ctx, 'mrp.workorder', workorderId, ['date_start'], `work order ${workorderId}`);
  if (typeof wo.date_start !== 'string' || wo.date_start > at) await stampWorkorder(ctx, workorderId, { date_start: at });
  // The order started when its first work order did (button_start stamped "now" on it).
  const order = await readOne<{ date_start: string | false }>(ctx, 'mrp.production', productionId, ['date_start'], `manufacturing order ${productionId}`);
  if (typeof order.date_start === 'string' && order.date_start > at) await stampProduction(ctx, productionId, { date_start: at });
}
