import { plantDay } from '../../model/plant-time';
import { odooDatetime, searchRead, writeValues } from './odoo-calls';
import type { OperationContext } from './types';

/**
 * Odoo's buttons stamp the server's "now" (button_start, button_finish,
 * button_mark_done, scrap and transfer validation). After an outage that is
 * the delivery time, not the plant's. These helpers write the event's time
 * over what the button just stamped, on the fields where Odoo keeps it.
 * Odoo datetimes are naive UTC text, so they compare as strings.
 */

/**
 * Context for a validation that makes stock valuation entries (17 and 18 with
 * automated valuation; 19 values moves without an entry at the move): the
 * entries are dated on the plant's day of the time the event writes, as
 * Odoo dates the entry of a person who validates in the plant's time zone
 * (`context_today`), instead of the day of delivery. Odoo's stock_account
 * reads force_period_date.
 */
export function accountingDateContext(at: string, timeZone = 'UTC'): { force_period_date: string } {
  return { force_period_date: plantDay(Date.parse(at), timeZone) };
}

/** Context that keeps Odoo from replanning a work order when its dates are written (17/18/19). */
const WORKORDER_DATES = Object.freeze({ bypass_duration_calculation: true });
/** Context that lets a running or done order take its real dates without being unplanned (17/18/19). */
const PRODUCTION_DATES = Object.freeze({ force_date: true });

interface TimeLog {
  id: number;
  date_start: string;
  date_end: string | false;
}

/** The work order's open time log(s), the ones button_start just opened: they start at the plant's time. */
export async function startTimeLogs(ctx: OperationContext, workorderId: number, at: string): Promise<void> {
  const when = odooDatetime(at);
  const open = await openTimeLogs(ctx, workorderId);
  const late = open.filter((t) => t.date_start > when).map((t) => t.id);
  if (late.length > 0) await ctx.odoo.call('mrp.workcenter.productivity', 'write', { ids: late, kwargs: { vals: { date_start: when } } });
}

/**
 * Close the work order's open time logs at the plant's time, before
 * button_finish would close them at the server's (it then finds none open).
 * A log that started after that time (a clock that went back) ends where it starts.
 */
export async function closeTimeLogs(ctx: OperationContext, workorderId: number, at: string): Promise<void> {
  const when = odooDatetime(at);
  for (const t of await openTimeLogs(ctx, workorderId)) {
    await ctx.odoo.call('mrp.workcenter.productivity', 'write', { ids: [t.id], kwargs: { vals: { date_end: t.date_start > when ? t.date_start : when } } });
  }
}

function openTimeLogs(ctx: OperationContext, workorderId: number): Promise<TimeLog[]> {
  return searchRead<TimeLog>(
    ctx,
    'mrp.workcenter.productivity',
    [
      ['workorder_id', '=', workorderId],
      ['date_end', '=', false],
    ],
    ['id', 'date_start', 'date_end'],
  );
}

/** Write a work order's real start or finish without Odoo replanning it. */
export async function stampWorkorder(ctx: OperationContext, workorderId: number, vals: { date_start?: string; date_finished?: string }): Promise<void> {
  await ctx.odoo.call('mrp.workorder', 'write', { ids: [workorderId], kwargs: { vals }, context: { ...WORKORDER_DATES } });
}

/** Write a manufacturing order's real start or finish (allowed on a done order with force_date). */
export async function stampProduction(ctx: OperationContext, productionId: number, vals: { date_start?: string; date_finished?: string }): Promise<void> {
  await ctx.odoo.call('mrp.production', 'write', { ids: [productionId], kwargs: { vals }, context: { ...PRODUCTION_DATES } });
}

/** The earlier of two Odoo datetimes (false counts as "none"). */
export function earlier(a: string | false | undefined, b: string): string {
  return typeof a === 'string' && a !== '' && a < b ? a : b;
}

/**
 * A validated scrap or transfer: its date_done and its moves' date (which
 * Odoo copies onto the move lines) become the plant's time.
 */
export async function stampDone(ctx: OperationContext, model: 'stock.scrap' | 'stock.picking', id: number, moveIds: number[], at: string): Promise<void> {
  const when = odooDatetime(at);
  await writeValues(ctx, model, [id], { date_done: when });
  await dateMoves(ctx, moveIds, when);
}

/**
 * Done moves dated at the plant's time, and their lines with them: Odoo 19
 * copies a done move's date onto its lines, 17 and 18 do not (the lines'
 * dates are what stock history and a late count read).
 */
export async function dateMoves(ctx: OperationContext, moveIds: number[], when: string): Promise<void> {
  if (moveIds.length === 0) return;
  await writeValues(ctx, 'stock.move', moveIds, { date: when });
  if (ctx.server.major >= 19) return;
  const lines = await searchRead<{ id: number }>(ctx, 'stock.move.line', [['move_id', 'in', moveIds]], ['id']);
  if (lines.length > 0)
    await writeValues(
      ctx,
      'stock.move.line',
      lines.map((l) => l.id),
      { date: when },
    );
}
