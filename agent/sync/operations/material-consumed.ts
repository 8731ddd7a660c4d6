import type { EventOf } from '../../model/event';
import { externalId, findExternalId, keyedLoad, loadNumber, m2oId, odooDatetime, readOne, searchRead, writeValues } from './odoo-calls';
import { readProduction } from './production-common';
import { OperationError, type Operation, type OperationContext, type OperationOptions, type OperationOutcome } from './types';

type Consumed = EventOf<'material.consumed'>;

interface RawMove {
  id: number;
  product_uom: unknown;
  location_id: unknown;
  location_dest_id: unknown;
  manual_consumption: boolean;
}

/**
 * material.consumed: one consumption fact (this lot, this quantity) becomes
 * one stock.move.line on the order's component move for that product,
 * keyed `<module>.consumed_<event id>`, with lot_id (or lot_name where the
 * manufacturing operation type lets Odoo create component lots), quantity and
 * picked = true (17/18/19). The move is then marked manual_consumption, as
 * Odoo does when a person edits consumption, so a later production report
 * (set_qty_producing) keeps these lines instead of recomputing them. At
 * "mark done", Odoo drops the move's reserved lines that were not picked, so
 * the consumption is exactly the sum of the lines the plant reported.
 * Idempotent: the line is created once (a replay returns it untouched); on a
 * done order a replay finds its line by external id (alreadyApplied) and an
 * unknown one parks.
 */
export function materialConsumed(opts: OperationOptions = {}): Operation<Consumed> {
  return {
    type: 'material.consumed',
    models: () => ['stock.move.line', 'stock.move'],
    async execute(event: Consumed, ctx: OperationContext): Promise<OperationOutcome> {
      const p = event.payload;
      const xmlid = externalId(ctx.xmlidModule, 'consumed', event.id);
      const { mo, look } = await readProduction(ctx, opts, p.production, ['picking_type_id']);
      if (mo.state === 'done' || mo.state === 'cancel') {
        const existing = await findExternalId(ctx, xmlid);
        if (existing !== undefined) return { odooIds: { 'stock.move.line': existing, 'mrp.production': mo.id }, alreadyApplied: true };
        throw new OperationError(
          'PRODUCTION_CLOSED',
          `cannot record consumption on manufacturing order ${mo.name}: it is ${mo.state === 'done' ? 'done' : 'cancelled'} in Odoo`,
        );
      }
      if (mo.state === 'draft') {
        throw new OperationError(
          'PRODUCTION_NOT_CONFIRMED',
          `cannot record consumption on manufacturing order ${mo.name}: it is still a draft in Odoo (confirm it first)`,
        );
      }
      const product = await look.product(p.product);
      const moves = await searchRead<RawMove>(
        ctx,
        'stock.move',
        [
          ['raw_material_production_id', '=', mo.id],
          ['product_id', '=', product.id],
          ['state', 'not in', ['done', 'cancel']],
        ],
        ['id', 'product_uom', 'location_id', 'location_dest_id', 'manual_consumption'],
        { order: 'id' },
      );
      const move = moves[0];
      if (!move) throw new OperationError('NOT_A_COMPONENT', `product "${p.product}" is not an open component of manufacturing order ${mo.name}`);

      const fields = ['id', 'move_id/.id', 'product_id/.id', 'quantity', 'product_uom_id/.id', 'location_id/.id', 'location_dest_id/.id', 'picked', 'date'];
      const uomId = p.uom !== undefined ? await look.uom(p.uom) : m2oId(move.product_uom);
      const locationId = p.location !== undefined ? await look.location(p.location) : m2oId(move.location_id);
      const row = [
        xmlid,
        String(move.id),
        String(product.id),
        loadNumber(p.quantity),
        uomId === undefined ? '' : String(uomId),
        locationId === undefined ? '' : String(locationId),
        String(m2oId(move.location_dest_id) ?? ''),
        '1',
        odooDatetime(event.occurredAt),
      ];

      const lotName = p.serial ?? p.lot;
      if (product.tracking !== 'none') {
        if (lotName === undefined) {
          throw new OperationError(
            'LOT_REQUIRED',
            `product "${p.product}" is tracked by ${product.tracking} in Odoo; the consumption on ${mo.name} names no lot`,
          );
        }
        const lotId = await look.lot(product.id, lotName);
        if (lotId !== undefined) {
          fields.push('lot_id/.id');
          row.push(String(lotId));
        } else if (await mayCreateComponentLots(ctx, m2oId(mo.picking_type_id))) {
          fields.push('lot_name');
          row.push(lotName);
        } else {
          throw new OperationError(
            'UNKNOWN_REFERENCE',
            `unknown lot "${lotName}" of product "${p.product}" in Odoo (and ${mo.name}'s operation type does not create component lots)`,
          );
        }
      } else if (lotName !== undefined) {
        ctx.log.debug({ product: p.product, lot: lotName }, 'lot ignored: the product is not tracked in Odoo');
      }

      const [lineId] = await keyedLoad(ctx, 'stock.move.line', fields, [row], 'create');
      await dropOdooLines(ctx, [move.id]);
      if (!move.manual_consumption) await writeValues(ctx, 'stock.move', [move.id], { manual_consumption: true });
      return { odooIds: { 'stock.move.line': lineId!, 'stock.move': move.id, 'mrp.production': mo.id } };
    },
  };
}

/** The external-id prefix of the lines this operation creates: `<module>.consumed_`. */
export function consumedPrefix(xmlidModule: string): string {
  return `${xmlidModule}.consumed_`;
}

/**
 * What the plant reported replaces what Odoo filled in itself. On the given
 * component moves, every open line that is not one of the agent's
 * consumption lines (Odoo's reserved lines, made "used" when a work order
 * started or a production report set the quantity) is deleted, so the
 * consumption per lot is exactly the sum of the plant's facts, whatever the
 * order in which the start, the reports and the consumptions arrived. Moves
 * without any agent line are left alone: the plant reported nothing for them.
 * Returns the agent's lines found per move.
 */
export async function dropOdooLines(ctx: OperationContext, moveIds: number[]): Promise<Map<number, ConsumedLine[]>> {
  const ours = new Map<number, ConsumedLine[]>();
  if (moveIds.length === 0) return ours;
  const lines = await searchRead<ConsumedLine>(
    ctx,
    'stock.move.line',
    [
      ['move_id', 'in', moveIds],
      ['state', 'not in', ['done', 'cancel']],
    ],
    ['id', 'move_id', 'date'],
  );
  if (lines.length === 0) return ours;
  // get_external_id reads ir.model.data as superuser: callable by a user who may not read that model.
  const xmlids = (await ctx.odoo.call<Record<string, string>>('stock.move.line', 'get_external_id', { ids: lines.map((l) => l.id) })) ?? {};
  const prefix = consumedPrefix(ctx.xmlidModule);
  const others = new Map<number, number[]>();
  for (const l of lines) {
    const moveId = m2oId(l.move_id)!;
    if (String(xmlids[String(l.id)] ?? '').startsWith(prefix)) ours.set(moveId, [...(ours.get(moveId) ?? []), l]);
    else others.set(moveId, [...(others.get(moveId) ?? []), l.id]);
  }
  const drop = [...others].filter(([moveId]) => ours.has(moveId)).flatMap(([, ids]) => ids);
  if (drop.length > 0) {
    ctx.log.debug({ lines: drop }, "consumption: Odoo's own lines replaced by what the plant reported");
    await ctx.odoo.call('stock.move.line', 'unlink', { ids: drop });
  }
  return ours;
}

export interface ConsumedLine {
  id: number;
  move_id: unknown;
  date: string | false;
}

async function mayCreateComponentLots(ctx: OperationContext, pickingTypeId: number | undefined): Promise<boolean> {
  if (pickingTypeId === undefined) return false;
  const t = await readOne<{ use_create_components_lots?: boolean }>(ctx, 'stock.picking.type', pickingTypeId, ['use_create_components_lots'], 'operation type');
  return t.use_create_components_lots === true;
}
