import { effectiveTime } from './effective-time';
import type { EventOf } from '../../model/event';
import { dropOdooLines, type ConsumedLine } from './material-consumed';
import { describeAction, m2oId, odooDatetime, readOne, sameQuantity, searchRead, writeValues } from './odoo-calls';
import { accountingDateContext, dateMoves, stampProduction } from './plant-time';
import { MARK_DONE_CONTEXT, readProduction, type ProductionRecord } from './production-common';
import { lotProducingField } from './production-reported';
import { OperationError, type Operation, type OperationContext, type OperationOptions, type OperationOutcome } from './types';

type ProductionCompleted = EventOf<'production.completed'>;

/**
 * production.completed: close the manufacturing order.
 *   17/18/19: mrp.production.button_mark_done with context skip_backorder,
 *   skip_consumption, skip_redirection (and skip_immediate, which Odoo 16 needs).
 * Before the button:
 *   - a serial-tracked product is closed only with one serial per unit the
 *     plant reported (Odoo 17 would make one serial itself, produce 1 and
 *     close the order short): otherwise NEEDS_DECISION, nothing sent;
 *   - on component moves the plant reported consumption for, Odoo's own
 *     lines are replaced by the plant's (material.consumed), so a work order
 *     finish that marked reserved lines as used does not double them.
 * After it: the order is read again; it must be done, and have produced what
 * Odoo held as the plant's total (else CLOSED_SHORT, parked: a person looks).
 * Then the plant's time: the order's date_finished, and the date of its
 * component and finished moves (which Odoo stamps at mark done), with each of
 * the plant's consumption lines keeping the time of its own fact.
 * State-guarded: an order already done is alreadyApplied; a cancelled or
 * draft order parks. A wizard (a dict) with the order not done: NEEDS_DECISION.
 */
export function productionCompleted(opts: OperationOptions = {}): Operation<ProductionCompleted> {
  return {
    type: 'production.completed',
    models: () => ['mrp.production', 'stock.move', 'stock.move.line'],
    async execute(event: ProductionCompleted, ctx: OperationContext): Promise<OperationOutcome> {
      const lotField = lotProducingField(ctx.server.major);
      const { mo } = await readProduction(ctx, opts, event.payload.production, ['qty_producing', 'product_qty', 'product_id', lotField]);
      const odooIds = { 'mrp.production': mo.id };
      if (mo.state === 'done') return { odooIds, alreadyApplied: true };
      if (mo.state === 'cancel') throw new OperationError('PRODUCTION_CLOSED', `cannot finish manufacturing order ${mo.name}: it is cancelled in Odoo`);
      if (mo.state === 'draft') {
        throw new OperationError('PRODUCTION_NOT_CONFIRMED', `cannot finish manufacturing order ${mo.name}: it is still a draft in Odoo (confirm it first)`);
      }
      const producing = Number(mo.qty_producing ?? 0);
      await requireSerials(ctx, mo, lotField, producing);

      const rawMoves = await searchRead<{ id: number }>(
        ctx,
        'stock.move',
        [
          ['raw_material_production_id', '=', mo.id],
          ['state', 'not in', ['done', 'cancel']],
        ],
        ['id'],
      );
      const ours = await dropOdooLines(
        ctx,
        rawMoves.map((m) => m.id),
      );

      const result = await ctx.odoo.call('mrp.production', 'button_mark_done', {
        ids: [mo.id],
        context: { ...MARK_DONE_CONTEXT, ...accountingDateContext(effectiveTime(event), ctx.timeZone) },
      });
      const after = await readOne<ProductionRecord>(ctx, 'mrp.production', mo.id, ['id', 'name', 'state', 'qty_produced'], `manufacturing order ${mo.name}`);
      if (after.state !== 'done') {
        const wizard = describeAction(result);
        if (wizard !== undefined) {
          throw new OperationError('NEEDS_DECISION', `needs decision: ${wizard} (manufacturing order ${mo.name} is still ${after.state})`);
        }
        throw new OperationError('NOT_DONE', `button_mark_done returned but manufacturing order ${mo.name} is still ${after.state}`);
      }
      await stampDone(ctx, mo.id, effectiveTime(event), ours);
      const produced = Number(after.qty_produced ?? 0);
      if (producing > 0 && !sameQuantity(produced, producing)) {
        throw new OperationError(
          'CLOSED_SHORT',
          `Odoo closed manufacturing order ${mo.name} with ${produced} produced, but the plant reported ${producing}: a person must check the order in Odoo`,
        );
      }
      return { odooIds };
    },
  };
}

/**
 * A serial-tracked product needs one serial per unit: with none reported
 * (Odoo would invent one and produce 1) or fewer than the units reported,
 * a person decides before anything is closed.
 */
async function requireSerials(ctx: OperationContext, mo: ProductionRecord, lotField: string, producing: number): Promise<void> {
  const productId = m2oId(mo.product_id);
  if (productId === undefined) return;
  const product = await readOne<{ tracking: string }>(ctx, 'product.product', productId, ['tracking'], `product of ${mo.name}`);
  if (product.tracking !== 'serial') return;
  const lots = lotField === 'lot_producing_ids' ? (Array.isArray(mo[lotField]) ? (mo[lotField] as number[]).length : 0) : m2oId(mo[lotField]) ? 1 : 0;
  const units = producing > 0 ? producing : Number(mo.product_qty ?? 0);
  if (lots !== units || (producing === 0 && units !== 1)) {
    throw new OperationError(
      'NEEDS_DECISION',
      `needs decision: manufacturing order ${mo.name} makes a serial-tracked product; ${units} unit(s) need ${units} serial number(s) and Odoo holds ${lots} from the plant (Odoo would otherwise close it with serials of its own or short)`,
    );
  }
}

/** The plant's completion time on the order and on the moves Odoo dated at mark done; each consumption line keeps its own fact's time. */
async function stampDone(ctx: OperationContext, moId: number, occurredAt: string, ours: Map<number, ConsumedLine[]>): Promise<void> {
  const at = odooDatetime(occurredAt);
  // force_date: the done order takes its real date; Odoo dates its finished moves with it.
  await stampProduction(ctx, moId, { date_finished: at });
  const moves = await searchRead<{ id: number }>(ctx, 'stock.move', ['|', ['raw_material_production_id', '=', moId], ['production_id', '=', moId]], ['id']);
  // The moves and their lines take the completion time; the plant's consumption lines then get their own times back.
  await dateMoves(
    ctx,
    moves.map((m) => m.id),
    at,
  );
  const byDate = new Map<string, number[]>();
  for (const l of [...ours.values()].flat()) if (typeof l.date === 'string' && l.date !== at) byDate.set(l.date, [...(byDate.get(l.date) ?? []), l.id]);
  for (const [date, ids] of byDate) await writeValues(ctx, 'stock.move.line', ids, { date });
}
