import type { EventOf } from '../../model/event';
import { effectiveTime } from './effective-time';
import { lookupsFor, type OdooLookups, type ProductInfo } from './lookup';
import { describeAction, externalId, keyedLoad, loadNumber, m2oId, odooDatetime, readOne, searchRead, writeValues } from './odoo-calls';
import { accountingDateContext, dateMoves, stampDone } from './plant-time';
import { OperationError, type Operation, type OperationContext, type OperationOptions, type OperationOutcome } from './types';

type Moved = EventOf<'inventory.moved'>;

/**
 * inventory.moved, two kinds:
 *
 * count: the counted quantity of a product (and lot) at a location.
 *   stock.quant.inventory_quantity (absolute) then action_apply_inventory
 *   (17/18/19; on 19 the count is dated at occurredAt), in inventory mode
 *   (the Odoo user needs Inventory administrator rights). Odoo names the
 *   adjustment move after the context's inventory_name, which carries the
 *   event id: a replay finds that done move and is alreadyApplied, so an old
 *   count replayed later never overwrites newer stock.
 *
 * transfer: an internal stock.picking keyed `<module>.transfer_<event id>`
 *   with one move (from -> to), created once; its scheduled date (and its
 *   moves' date) set to the event's time while it is a draft; then state-guarded
 *   action_confirm, the quantity set as picked (a keyed stock.move.line with
 *   the lot for tracked products), and button_validate. A done transfer is
 *   alreadyApplied (button_validate on it would be a UserError); a wizard
 *   parks (NEEDS_DECISION).
 */
export function inventoryMoved(opts: OperationOptions = {}): Operation<Moved> {
  return {
    type: 'inventory.moved',
    models: () => ['stock.quant', 'stock.picking', 'stock.move', 'stock.move.line'],
    async execute(event: Moved, ctx: OperationContext): Promise<OperationOutcome> {
      const look = lookupsFor(ctx.odoo, opts.lookupTtlMs);
      const product = await look.product(event.payload.product);
      return event.payload.kind === 'count' ? count(event, ctx, look, product) : transfer(event, ctx, look, product);
    },
  };
}

async function lotOf(look: OdooLookups, product: ProductInfo, p: Moved['payload']): Promise<number | undefined> {
  const name = p.serial ?? p.lot;
  if (product.tracking === 'none') return undefined;
  if (name === undefined) throw new OperationError('LOT_REQUIRED', `product "${p.product}" is tracked by ${product.tracking} in Odoo; the event names no lot`);
  const id = await look.lot(product.id, name);
  if (id === undefined) throw new OperationError('UNKNOWN_REFERENCE', `unknown lot "${name}" of product "${p.product}" in Odoo`);
  return id;
}

/** The name Odoo gives the adjustment move; carries the event id so a replay can find it. */
export function countName(event: Moved): string {
  return `${event.payload.reference ?? 'Count'} [${event.id}]`;
}

async function count(event: Moved, ctx: OperationContext, look: OdooLookups, product: ProductInfo): Promise<OperationOutcome> {
  const p = event.payload;
  const where = p.location ?? p.toLocation;
  if (where === undefined) throw new OperationError('LOCATION_REQUIRED', `inventory count of "${p.product}" names no location`);
  const locationId = await look.location(where);
  const lotId = await lotOf(look, product, p);
  const name = countName(event);

  // Already applied? Odoo stores the name in stock.move `reference` (19) or `name` (17/18).
  const nameField = ctx.server.major >= 19 ? 'reference' : 'name';
  const countMoves = [
    ['product_id', '=', product.id],
    ['is_inventory', '=', true],
    ['state', '=', 'done'],
    [nameField, 'like', `[${event.id}]`],
  ];
  const done = await searchRead<{ id: number }>(ctx, 'stock.move', countMoves, ['id'], { limit: 1 });
  if (done[0]) return { odooIds: { 'stock.move': done[0].id }, alreadyApplied: true };

  // The count is a fact about the stock at occurredAt: what Odoo moved in or out since still counts.
  const since = await movedSince(ctx, product.id, locationId, lotId, event.occurredAt);
  if (since.superseded) {
    ctx.log.info({ event: event.id, product: p.product, location: where }, 'count not applied: a later count of the same stock is already in Odoo');
    return { odooIds: {}, alreadyApplied: true };
  }
  const quantity = Number((p.quantity + since.net).toPrecision(15));
  const inventory = { inventory_mode: true };
  const quants = await searchRead<{ id: number; package_id: unknown; owner_id: unknown }>(
    ctx,
    'stock.quant',
    [
      ['product_id', '=', product.id],
      ['location_id', '=', locationId],
      ['lot_id', '=', lotId ?? false],
    ],
    ['id', 'package_id', 'owner_id'],
    { context: inventory },
  );
  let quantId = quants.find((q) => m2oId(q.package_id) === undefined && m2oId(q.owner_id) === undefined)?.id;
  if (quantId === undefined) {
    const vals: Record<string, unknown> = { product_id: product.id, location_id: locationId, inventory_quantity: quantity };
    if (lotId !== undefined) vals.lot_id = lotId;
    const created = await ctx.odoo.call<number | number[]>('stock.quant', 'create', { kwargs: { vals_list: [vals] }, context: inventory });
    quantId = Array.isArray(created) ? created[0] : created;
    if (typeof quantId !== 'number') throw new OperationError('NOT_CREATED', `Odoo did not create a stock quant for "${p.product}"`);
  } else {
    await ctx.odoo.call('stock.quant', 'write', { ids: [quantId], kwargs: { vals: { inventory_quantity: quantity } }, context: inventory });
  }
  const kwargs: Record<string, unknown> = ctx.server.major >= 19 ? { date: odooDatetime(effectiveTime(event)) } : {};
  const result = await ctx.odoo.call('stock.quant', 'action_apply_inventory', {
    ids: [quantId],
    kwargs,
    context: { ...inventory, inventory_name: name, ...accountingDateContext(effectiveTime(event), ctx.timeZone) },
  });
  const wizard = describeAction(result);
  if (wizard !== undefined) throw new OperationError('NEEDS_DECISION', `needs decision: ${wizard} (count of "${p.product}" at ${where})`);
  if (ctx.server.major < 19) {
    // 17/18 date the adjustment at the server's now: it happened at the count.
    const moves = await searchRead<{ id: number }>(ctx, 'stock.move', countMoves, ['id']);
    await dateMoves(
      ctx,
      moves.map((m) => m.id),
      odooDatetime(effectiveTime(event)),
    );
  }
  return { odooIds: { 'stock.quant': quantId } };
}

/**
 * What Odoo moved in and out of this stock (product, location, lot) after
 * `at`, from its done move lines: the net quantity, and whether a later
 * inventory count is among them (then this older count is superseded).
 */
export async function movedSince(
  ctx: OperationContext,
  productId: number,
  locationId: number,
  lotId: number | undefined,
  at: string,
): Promise<{ net: number; superseded: boolean }> {
  const lines = await searchRead<{ quantity_product_uom: number; location_id: unknown; location_dest_id: unknown; is_inventory: boolean }>(
    ctx,
    'stock.move.line',
    [
      ['product_id', '=', productId],
      ['lot_id', '=', lotId ?? false],
      ['state', '=', 'done'],
      ['date', '>', odooDatetime(at)],
      '|',
      ['location_id', '=', locationId],
      ['location_dest_id', '=', locationId],
    ],
    ['quantity_product_uom', 'location_id', 'location_dest_id', 'is_inventory'],
  );
  let net = 0;
  for (const l of lines) {
    const into = m2oId(l.location_dest_id) === locationId;
    const outOf = m2oId(l.location_id) === locationId;
    if (into === outOf) continue;
    if (l.is_inventory) return { net: 0, superseded: true };
    net += into ? Number(l.quantity_product_uom) : -Number(l.quantity_product_uom);
  }
  return { net, superseded: false };
}

interface PickingRow {
  id: number;
  state: string;
  move_ids: number[];
}

async function transfer(event: Moved, ctx: OperationContext, look: OdooLookups, product: ProductInfo): Promise<OperationOutcome> {
  const p = event.payload;
  if (p.fromLocation === undefined || p.toLocation === undefined) {
    throw new OperationError('LOCATION_REQUIRED', `transfer of "${p.product}" needs both fromLocation and toLocation`);
  }
  if (p.quantity <= 0) throw new OperationError('NOTHING_TO_MOVE', `transfer of "${p.product}" has quantity 0`);
  const [from, to] = await Promise.all([look.location(p.fromLocation), look.location(p.toLocation)]);
  const lotId = await lotOf(look, product, p);
  const uomId = p.uom !== undefined ? await look.uom(p.uom) : product.uomId;
  const typeId = await look.internalPickingType(from);

  const xmlid = externalId(ctx.xmlidModule, 'transfer', event.id);
  const fields = [
    'id',
    'picking_type_id/.id',
    'location_id/.id',
    'location_dest_id/.id',
    'origin',
    'move_ids/product_id/.id',
    'move_ids/product_uom_qty',
    'move_ids/product_uom/.id',
    'move_ids/location_id/.id',
    'move_ids/location_dest_id/.id',
  ];
  const row = [
    xmlid,
    String(typeId),
    String(from),
    String(to),
    p.reference ?? '',
    String(product.id),
    loadNumber(p.quantity),
    uomId === undefined ? '' : String(uomId),
    String(from),
    String(to),
  ];
  if (ctx.server.major < 19) {
    // Odoo 17/18 require a description on every stock.move (gone in 19).
    fields.push('move_ids/name');
    row.push(product.name);
  }
  const [pickingId] = await keyedLoad(ctx, 'stock.picking', fields, [row], 'create');
  const odooIds: OperationOutcome['odooIds'] = { 'stock.picking': pickingId! };

  let picking = await readOne<PickingRow>(ctx, 'stock.picking', pickingId!, ['id', 'state', 'move_ids'], 'transfer');
  if (picking.state === 'done') return { odooIds, alreadyApplied: true };
  if (picking.state === 'cancel') throw new OperationError('TRANSFER_CANCELLED', `transfer for event ${event.id} is cancelled in Odoo`);
  const moveId = picking.move_ids[0];
  if (moveId === undefined) throw new OperationError('RECORD_GONE', `transfer for event ${event.id} has no move in Odoo`);
  odooIds['stock.move'] = moveId;
  if (picking.state === 'draft') {
    // The transfer's date (its moves' date): written after the create, as Odoo recomputes it from the moves there.
    await writeValues(ctx, 'stock.picking', [pickingId!], { scheduled_date: odooDatetime(effectiveTime(event)) });
    await ctx.odoo.call('stock.picking', 'action_confirm', { ids: [pickingId!] });
  }
  if (lotId !== undefined) {
    // The lot goes on a picked line of its own; Odoo drops unpicked reserved lines at validation.
    const [lineId] = await keyedLoad(
      ctx,
      'stock.move.line',
      ['id', 'move_id/.id', 'product_id/.id', 'lot_id/.id', 'quantity', 'product_uom_id/.id', 'location_id/.id', 'location_dest_id/.id', 'picked'],
      [
        [
          externalId(ctx.xmlidModule, 'transfer_line', event.id),
          String(moveId),
          String(product.id),
          String(lotId),
          loadNumber(p.quantity),
          uomId === undefined ? '' : String(uomId),
          String(from),
          String(to),
          '1',
        ],
      ],
      'create',
    );
    odooIds['stock.move.line'] = lineId!;
  } else {
    await writeValues(ctx, 'stock.move', [moveId], { quantity: p.quantity, picked: true });
  }
  const result = await ctx.odoo.call('stock.picking', 'button_validate', {
    ids: [pickingId!],
    context: { skip_backorder: true, skip_immediate: true, skip_sms: true, ...accountingDateContext(effectiveTime(event), ctx.timeZone) },
  });
  picking = await readOne<PickingRow>(ctx, 'stock.picking', pickingId!, ['id', 'state', 'move_ids'], 'transfer');
  if (picking.state === 'done') {
    await stampDone(ctx, 'stock.picking', pickingId!, picking.move_ids, effectiveTime(event));
    return { odooIds };
  }
  const wizard = describeAction(result);
  if (wizard !== undefined) throw new OperationError('NEEDS_DECISION', `needs decision: ${wizard} (transfer of "${p.product}")`);
  throw new OperationError('NOT_DONE', `button_validate returned but the transfer of "${p.product}" is still ${picking.state}`);
}
