/**
 * The Odoo models the agent uses, with the state rules of real Odoo 17/18/19
 * (addons mrp, stock, maintenance, and the two quality modules) reduced to
 * what the agent can observe over the API: states, quantities, lots, names,
 * wizards returned as dicts, and the errors raised on wrong states.
 */
import { accessError, userError, validationError, valueError } from './errors';
import { Database, Env, type FieldDef, type MethodDef, type ModelDef, type Rec } from './orm';

const char = (string: string, extra: Partial<FieldDef> = {}): FieldDef => ({ type: 'char', string, ...extra });
const text = (string: string): FieldDef => ({ type: 'text', string });
const int = (string: string, extra: Partial<FieldDef> = {}): FieldDef => ({ type: 'integer', string, ...extra });
const float = (string: string, extra: Partial<FieldDef> = {}): FieldDef => ({ type: 'float', string, ...extra });
const bool = (string: string, extra: Partial<FieldDef> = {}): FieldDef => ({ type: 'boolean', string, ...extra });
const datetime = (string: string, extra: Partial<FieldDef> = {}): FieldDef => ({ type: 'datetime', string, ...extra });
const date = (string: string, extra: Partial<FieldDef> = {}): FieldDef => ({ type: 'date', string, ...extra });
const m2o = (relation: string, string: string, extra: Partial<FieldDef> = {}): FieldDef => ({ type: 'many2one', relation, string, ...extra });
const o2m = (relation: string, inverse: string, string: string): FieldDef => ({ type: 'one2many', relation, inverse, string });
const m2m = (relation: string, string: string, extra: Partial<FieldDef> = {}): FieldDef => ({ type: 'many2many', relation, string, ...extra });
const sel = (selection: Array<[string, string]>, string: string, extra: Partial<FieldDef> = {}): FieldDef => ({
  type: 'selection',
  selection,
  string,
  ...extra,
});
const computed = (type: FieldDef['type'], string: string, compute: (env: Env, rec: Rec) => unknown, extra: Partial<FieldDef> = {}): FieldDef => ({
  type,
  string,
  compute,
  ...extra,
});

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const id = (v: unknown): number | false => (typeof v === 'number' ? v : false);
const round = (v: number): number => Math.round(v * 1e6) / 1e6;

function singleton(model: string, ids: number[]): number {
  if (ids.length !== 1) throw valueError(`Expected singleton: ${model}(${ids.join(', ')}${ids.length === 1 ? ',' : ''})`);
  return ids[0]!;
}

function recordMethod(run: (env: Env, ids: number[], kw: Record<string, unknown>) => unknown, params: string[] = []): MethodDef {
  return { api: 'records', params, run };
}

// ---- stock helpers ------------------------------------------------------------

/** Whether a day (YYYY-MM-DD) lies on or before one of the company's accounting lock dates (Odoo 19 checks all five for transfers). */
function lockedOn(env: Env, day: string): boolean {
  const company = env.db.all('res.company')[0];
  if (!company) return false;
  return ['fiscalyear_lock_date', 'hard_lock_date', 'sale_lock_date', 'purchase_lock_date', 'tax_lock_date', 'period_lock_date'].some(
    (f) => typeof company[f] === 'string' && day <= (company[f] as string),
  );
}

function isInternal(env: Env, locationId: unknown): boolean {
  const loc = typeof locationId === 'number' ? env.get('stock.location', locationId) : undefined;
  return loc?.usage === 'internal';
}

/** Add qty (may be negative) to the quant of product/location/lot, as stock.move.line._action_done does. */
export function quantAdd(env: Env, productId: number, locationId: number, lotId: number | false, qty: number): void {
  if (!isInternal(env, locationId) || qty === 0) return;
  const quant = env.db.all('stock.quant').find((q) => q.product_id === productId && q.location_id === locationId && (q.lot_id || false) === lotId);
  if (quant) env.set('stock.quant', quant.id, { quantity: round(num(quant.quantity) + qty) });
  else {
    const qid = env.db.newId('stock.quant');
    env.db.put('stock.quant', {
      id: qid,
      product_id: productId,
      location_id: locationId,
      lot_id: lotId,
      quantity: round(qty),
      inventory_quantity: 0,
      inventory_quantity_set: false,
    });
  }
}

/** Quantity of a product at an internal location (and lot), from quants. */
function onHand(env: Env, productId: number, locationId?: number, lotId?: number | false): number {
  return env.db
    .all('stock.quant')
    .filter((q) => q.product_id === productId && (locationId === undefined ? isInternal(env, q.location_id) : q.location_id === locationId))
    .filter((q) => lotId === undefined || lotId === false || q.lot_id === lotId)
    .reduce((s, q) => s + num(q.quantity), 0);
}

/** stock.move has a required `name` up to 18; Odoo 19 dropped the field. */
function createMove(env: Env, vals: Record<string, unknown>): number {
  const { name, ...rest } = vals;
  return env.create('stock.move', env.version >= 19 ? rest : { name: name || '/', ...rest });
}

function movesLines(env: Env, moveId: number): Rec[] {
  return env.db.all('stock.move.line').filter((l) => l.move_id === moveId);
}

/** Finish a move: lines become quants (lot names become lots), the move is done. */
function moveDone(env: Env, moveId: number): void {
  const move = env.browse('stock.move', moveId);
  if (move.state === 'done' || move.state === 'cancel') return;
  const productId = move.product_id as number;
  const product = env.browse('product.product', productId);
  let lines = movesLines(env, moveId);
  // A picked move posts only its picked lines; the others (reservations) are dropped.
  if (move.picked && lines.some((l) => l.picked)) {
    for (const l of lines.filter((x) => !x.picked)) env.db.remove('stock.move.line', l.id);
    lines = movesLines(env, moveId);
    env.set('stock.move', moveId, { quantity: round(lines.reduce((s, l) => s + num(l.quantity), 0)) });
  }
  if (lines.length === 0 && num(move.quantity) > 0) {
    env.create('stock.move.line', { move_id: moveId, quantity: move.quantity });
    lines = movesLines(env, moveId);
  }
  for (const line of lines) {
    let lotId = id(line.lot_id);
    if (!lotId && typeof line.lot_name === 'string' && line.lot_name && product.tracking !== 'none') {
      const existing = env.db.all('stock.lot').find((l) => l.name === line.lot_name && l.product_id === productId);
      lotId = existing ? existing.id : env.create('stock.lot', { name: line.lot_name, product_id: productId });
      env.set('stock.move.line', line.id, { lot_id: lotId });
    }
    const qty = num(line.quantity);
    quantAdd(env, productId, line.location_id as number, lotId, -qty);
    quantAdd(env, productId, line.location_dest_id as number, lotId, qty);
    env.set('stock.move.line', line.id, { state: 'done', picked: true, date: env.now() });
  }
  env.set('stock.move', moveId, { state: 'done', picked: true, date: env.now() });
}

/** stock.location complete_name: the parent's full name and this name, except for views and roots. */
function locationFullName(env: Env, loc: Rec): string {
  const parent = typeof loc.location_id === 'number' ? env.get('stock.location', loc.location_id) : undefined;
  if (!parent || loc.usage === 'view') return String(loc.name);
  return `${String(parent.complete_name || parent.name)}/${String(loc.name)}`;
}

/** Recompute the stored full names (and with `warehouses`, the warehouse) of locations and everything under them, parents first. */
function recomputeLocations(env: Env, ids: number[], warehouses: boolean): void {
  const todo = [...ids];
  const seen = new Set<number>();
  while (todo.length > 0) {
    const lid = todo.shift()!;
    if (seen.has(lid)) continue;
    seen.add(lid);
    const loc = env.get('stock.location', lid);
    if (!loc) continue;
    env.set('stock.location', lid, { complete_name: locationFullName(env, loc), ...(warehouses ? { warehouse_id: locationWarehouse(env, loc) } : {}) });
    for (const child of env.db.all('stock.location')) if (child.location_id === lid) todo.push(child.id);
  }
}

function locationWarehouse(env: Env, loc: Rec): number | false {
  const views = new Map(env.db.all('stock.warehouse').map((w) => [w.view_location_id, w.id] as const));
  let cur: Rec | undefined = loc;
  for (let depth = 0; cur && depth <= 50; depth++) {
    const wh = views.get(cur.id);
    if (wh !== undefined) return wh;
    cur = typeof cur.location_id === 'number' ? env.get('stock.location', cur.location_id) : undefined;
  }
  return false;
}

// ---- manufacturing helpers ----------------------------------------------------

function recomputeProductionState(env: Env, moId: number): void {
  const mo = env.get('mrp.production', moId);
  if (!mo) return;
  const state = mo.state as string;
  if (state === 'draft' || state === 'cancel' || state === 'done') return;
  const raws = env.db.all('stock.move').filter((m) => m.raw_material_production_id === moId);
  const wos = env.db.all('mrp.workorder').filter((w) => w.production_id === moId);
  let next = state;
  if (wos.length > 0 && wos.every((w) => w.state === 'done' || w.state === 'cancel')) next = 'to_close';
  else if (wos.length === 0 && num(mo.qty_producing) >= num(mo.product_qty) && num(mo.product_qty) > 0) next = 'to_close';
  else if (wos.some((w) => w.state === 'progress' || w.state === 'done') || num(mo.qty_producing) !== 0 || raws.some((m) => m.picked)) next = 'progress';
  if (next !== state) env.set('mrp.production', moId, { state: next });
}

function productionLots(env: Env, mo: Rec): number[] {
  if (env.version >= 19) return (mo.lot_producing_ids as number[] | undefined) ?? [];
  return typeof mo.lot_producing_id === 'number' ? [mo.lot_producing_id] : [];
}

/** set_qty_producing(): components follow the produced quantity (quantity = qty * unit factor, picked). */
function applyQtyProducing(env: Env, moId: number): void {
  const mo = env.browse('mrp.production', moId);
  const producing = num(mo.qty_producing);
  for (const move of env.db.all('stock.move').filter((m) => m.raw_material_production_id === moId)) {
    if (move.state === 'done' || move.state === 'cancel') continue;
    // What a person (or the agent) consumed by hand stays as it is; extra components (no demand) too.
    if (move.picked && move.manual_consumption) continue;
    if (num(move.product_uom_qty) === 0) continue;
    const qty = round(producing * num(move.unit_factor));
    env.write('stock.move', [move.id], qty > 0 ? { quantity: qty, picked: true } : { quantity: qty });
  }
  const lots = productionLots(env, mo);
  for (const move of env.db.all('stock.move').filter((m) => m.production_id === moId && m.state !== 'done' && m.state !== 'cancel')) {
    env.write('stock.move', [move.id], { quantity: producing });
    const line = movesLines(env, move.id)[0];
    if (line && lots[0]) env.set('stock.move.line', line.id, { lot_id: lots[0] });
  }
  recomputeProductionState(env, moId);
}

/** The finished product's move carries the produced quantity and lot. */
function syncFinishedMoves(env: Env, moId: number): void {
  const mo = env.browse('mrp.production', moId);
  const lots = productionLots(env, mo);
  for (const move of env.db.all('stock.move').filter((m) => m.production_id === moId && m.state !== 'done' && m.state !== 'cancel')) {
    env.write('stock.move', [move.id], { quantity: num(mo.qty_producing) });
    const line = movesLines(env, move.id)[0];
    if (line && lots[0]) env.set('stock.move.line', line.id, { lot_id: lots[0] });
  }
}

/** The bill of materials of a product (mrp.bom._bom_find): one for the variant first, else one for its template. */
function findBom(env: Env, productId: number): number | false {
  const tmpl = env.get('product.product', productId)?.product_tmpl_id;
  const boms = env.db.all('mrp.bom').filter((b) => b.active !== false);
  return boms.find((b) => b.product_id === productId)?.id ?? boms.find((b) => !b.product_id && b.product_tmpl_id === tmpl)?.id ?? false;
}

function createWorkorders(env: Env, moId: number): void {
  const mo = env.browse('mrp.production', moId);
  if (typeof mo.bom_id !== 'number') return;
  const ops = env.db
    .all('mrp.routing.workcenter')
    .filter((o) => o.bom_id === mo.bom_id)
    .sort((a, b) => num(a.sequence) - num(b.sequence) || a.id - b.id);
  ops.forEach((op, i) => {
    env.create('mrp.workorder', {
      name: op.name,
      production_id: moId,
      operation_id: op.id,
      workcenter_id: op.workcenter_id,
      duration_expected: round(num(op.time_cycle_manual) * num(mo.product_qty)),
      sequence: i + 1,
      state: env.version >= 18 ? 'ready' : i === 0 ? 'ready' : 'pending',
    });
  });
}

function createProductionMoves(env: Env, moId: number): void {
  const mo = env.browse('mrp.production', moId);
  const qty = num(mo.product_qty);
  if (typeof mo.bom_id === 'number') {
    const bom = env.browse('mrp.bom', mo.bom_id);
    const factor = qty / (num(bom.product_qty) || 1);
    for (const line of env.db.all('mrp.bom.line').filter((l) => l.bom_id === bom.id)) {
      const demand = round(num(line.product_qty) * factor);
      const moveId = createMove(env, {
        name: mo.name,
        product_id: line.product_id,
        product_uom_qty: demand,
        location_id: mo.location_src_id,
        location_dest_id: productionLocation(env),
        raw_material_production_id: moId,
        state: 'confirmed',
        unit_factor: qty ? demand / qty : 0,
      });
      reserveMove(env, moveId);
    }
  }
  createMove(env, {
    name: mo.name,
    product_id: mo.product_id,
    product_uom_qty: qty,
    location_id: productionLocation(env),
    location_dest_id: mo.location_dest_id,
    production_id: moId,
    state: 'confirmed',
    unit_factor: 1,
  });
}

/**
 * stock.move._action_assign, reduced: reserve what the source location holds,
 * lot by lot (oldest quant first), as unpicked move lines; the move's
 * quantity is what got reserved.
 */
function reserveMove(env: Env, moveId: number): void {
  const move = env.browse('stock.move', moveId);
  let rest = num(move.product_uom_qty);
  let reserved = 0;
  const quants = env.db
    .all('stock.quant')
    .filter((q) => q.product_id === move.product_id && q.location_id === move.location_id && num(q.quantity) > 0)
    .sort((a, b) => a.id - b.id);
  for (const q of quants) {
    if (rest <= 1e-9) break;
    const take = round(Math.min(rest, num(q.quantity)));
    env.create('stock.move.line', { move_id: moveId, quantity: take, lot_id: q.lot_id || false, picked: false });
    rest = round(rest - take);
    reserved = round(reserved + take);
  }
  if (reserved > 0) env.set('stock.move', moveId, { quantity: reserved, state: rest > 1e-9 ? 'partially_available' : 'assigned' });
}

function productionLocation(env: Env): number {
  const loc = env.db.all('stock.location').find((l) => l.usage === 'production');
  if (!loc) throw userError('No production location is defined.');
  return loc.id;
}

function backorderName(base: string, sequence: number): string {
  return `${base}-${String(sequence).padStart(3, '0')}`;
}

function wizard(resModel: string, name: string, context: Record<string, unknown>): Record<string, unknown> {
  return { name, type: 'ir.actions.act_window', res_model: resModel, view_mode: 'form', views: [[false, 'form']], target: 'new', context };
}

/** Split a partly produced order: the order keeps what was produced, a backorder gets the rest (renamed -001 / -002). */
function splitProduction(env: Env, moId: number): number {
  const mo = env.browse('mrp.production', moId);
  const producing = num(mo.qty_producing);
  const remaining = round(num(mo.product_qty) - producing);
  const group = typeof mo.production_group === 'number' ? mo.production_group : moId;
  const base = String(mo.name).replace(/-\d{3}$/, '');
  const siblings = env.db.all('mrp.production').filter((p) => p.production_group === group || p.id === group);
  if (!num(mo.backorder_sequence)) env.set('mrp.production', moId, { backorder_sequence: 1, name: backorderName(base, 1), production_group: group });
  const seq = Math.max(1, ...siblings.map((p) => num(p.backorder_sequence))) + 1;
  const boId = env.db.newId('mrp.production');
  env.db.put('mrp.production', {
    ...env.browse('mrp.production', moId),
    id: boId,
    name: backorderName(base, seq),
    product_qty: remaining,
    qty_producing: 0,
    state: 'confirmed',
    backorder_sequence: seq,
    production_group: group,
    lot_producing_id: false,
    lot_producing_ids: [],
    date_start: false,
    date_finished: false,
  });
  env.set('mrp.production', moId, { product_qty: producing });
  for (const move of env.db.all('stock.move').filter((m) => m.raw_material_production_id === moId || m.production_id === moId)) {
    if (move.state === 'done' || move.state === 'cancel') continue;
    const raw = move.raw_material_production_id === moId;
    const factor = num(move.unit_factor);
    env.set('stock.move', move.id, { product_uom_qty: round(factor * producing) });
    createMove(env, {
      name: backorderName(base, seq),
      product_id: move.product_id,
      product_uom_qty: round(factor * remaining),
      location_id: move.location_id,
      location_dest_id: move.location_dest_id,
      [raw ? 'raw_material_production_id' : 'production_id']: boId,
      state: 'confirmed',
      unit_factor: factor,
    });
  }
  for (const wo of env.db.all('mrp.workorder').filter((w) => w.production_id === moId)) {
    env.create('mrp.workorder', {
      name: wo.name,
      production_id: boId,
      operation_id: wo.operation_id,
      workcenter_id: wo.workcenter_id,
      duration_expected: wo.duration_expected,
      sequence: wo.sequence,
      state: 'ready',
    });
  }
  return boId;
}

function finishWorkorder(env: Env, woId: number): void {
  const wo = env.browse('mrp.workorder', woId);
  if (wo.state === 'done' || wo.state === 'cancel') return;
  closeTimeLines(env, (t) => t.workorder_id === woId);
  const mo = env.browse('mrp.production', wo.production_id as number);
  const now = env.now();
  env.set('mrp.workorder', woId, {
    state: 'done',
    qty_produced: num(wo.qty_produced) || num(wo.qty_producing) || num(mo.product_qty),
    date_finished: now,
    date_start: wo.date_start || now,
  });
}

function closeTimeLines(env: Env, which: (t: Rec) => boolean): void {
  const now = env.now();
  for (const t of env.db.all('mrp.workcenter.productivity')) {
    if (!t.date_end && which(t)) env.set('mrp.workcenter.productivity', t.id, { date_end: now });
  }
}

function markDone(env: Env, moId: number): unknown {
  let mo = env.browse('mrp.production', moId);
  if (mo.state === 'done') return true;
  if (mo.state === 'cancel') throw userError('You cannot produce a cancelled manufacturing order.');
  if (mo.state === 'draft') throw userError('You must confirm the manufacturing order before marking it as done.');
  const product = env.browse('product.product', mo.product_id as number);
  const ctx = env.context;
  if (num(mo.qty_producing) === 0) {
    const tracked = product.tracking !== 'none';
    if (tracked && productionLots(env, mo).length === 0) {
      if (product.tracking === 'serial' && num(mo.product_qty) !== 1 && env.version >= 18) {
        return { ...wizard('stock.assign.serial', 'Assign Serial Numbers', { default_production_id: moId }) };
      }
      if (product.tracking === 'serial' && env.version < 18) {
        // Odoo 17's _set_quantities: one serial of its own, 1 produced; with skip_backorder the order closes short.
        const serial = env.create('stock.lot', { name: String(env.db.nextSequence('stock.lot.serial')).padStart(7, '0'), product_id: product.id });
        env.write('mrp.production', [moId], { lot_producing_id: serial, qty_producing: 1 });
        applyQtyProducing(env, moId);
        return markDone(env, moId);
      }
      // action_generate_serial(): makes a lot and returns None, so button_mark_done returns None too.
      const lotId = env.create('stock.lot', { name: String(env.db.nextSequence('stock.lot.serial')).padStart(7, '0'), product_id: product.id });
      env.write('mrp.production', [moId], env.version >= 19 ? { lot_producing_ids: [[6, 0, [lotId]]] } : { lot_producing_id: lotId });
      return undefined;
    }
    env.write('mrp.production', [moId], { qty_producing: mo.product_qty });
    applyQtyProducing(env, moId);
    mo = env.browse('mrp.production', moId);
  }
  const producing = num(mo.qty_producing);
  // pre_button_mark_done: components consumed by hand count as picked.
  for (const m of env.db.all('stock.move').filter((x) => x.raw_material_production_id === moId && x.manual_consumption && !x.picked && x.state !== 'done')) {
    env.set('stock.move', m.id, { picked: true });
  }
  const raws = env.db.all('stock.move').filter((m) => m.raw_material_production_id === moId && m.state !== 'done' && m.state !== 'cancel');
  if (!ctx.skip_consumption && mo.consumption !== 'flexible') {
    const issues = raws.filter((m) => Math.abs((m.picked ? num(m.quantity) : 0) - round(num(m.unit_factor) * producing)) > 1e-6);
    if (issues.length > 0) {
      return wizard('mrp.consumption.warning', 'Consumption Warning', {
        ...stripInternal(ctx),
        default_mrp_production_ids: [moId],
        default_mrp_consumption_warning_line_ids: issues.map((m) => [
          0,
          0,
          {
            mrp_production_id: moId,
            product_id: m.product_id,
            consumption: mo.consumption,
            product_consumed_qty_uom: m.quantity,
            product_expected_qty_uom: round(num(m.unit_factor) * producing),
          },
        ]),
      });
    }
  }
  const picking = typeof mo.picking_type_id === 'number' ? env.get('stock.picking.type', mo.picking_type_id) : undefined;
  const createBackorder = String(picking?.create_backorder ?? 'ask');
  const short = producing < num(mo.product_qty) - 1e-9;
  const wanted = Array.isArray(ctx.mo_ids_to_backorder) && (ctx.mo_ids_to_backorder as number[]).includes(moId);
  if (short && !ctx.skip_backorder && !wanted) {
    if (createBackorder === 'ask') {
      return wizard('mrp.production.backorder', 'You produced less than initial demand', {
        ...stripInternal(ctx),
        default_mrp_production_ids: [moId],
        default_mrp_production_backorder_line_ids: [[0, 0, { mrp_production_id: moId, to_backorder: true }]],
      });
    }
  }
  let backorderId: number | undefined;
  if (short && (wanted || (createBackorder === 'always' && !ctx.skip_backorder))) backorderId = splitProduction(env, moId);
  for (const wo of env.db.all('mrp.workorder').filter((w) => w.production_id === moId)) finishWorkorder(env, wo.id);
  mo = env.browse('mrp.production', moId);
  syncFinishedMoves(env, moId);
  for (const move of env.db
    .all('stock.move')
    .filter((m) => (m.raw_material_production_id === moId || m.production_id === moId) && m.state !== 'done' && m.state !== 'cancel')) {
    if (num(move.quantity) > 0) moveDone(env, move.id);
    else env.set('stock.move', move.id, { state: 'done', product_uom_qty: 0 });
  }
  env.set('mrp.production', moId, { state: 'done', date_finished: env.now(), is_locked: true, priority: '0' });
  if (backorderId !== undefined && !ctx.skip_redirection) {
    return {
      res_model: 'mrp.production',
      type: 'ir.actions.act_window',
      context: { ...stripInternal(ctx), mo_ids_to_backorder: null },
      views: [[false, 'form']],
      view_mode: 'form',
      res_id: backorderId,
    };
  }
  return true;
}

/** write(self, values): the 17/18 signature of mrp.workorder's and mail.thread's write. */
const valuesWrite: MethodDef = {
  api: 'records',
  params: ['values'],
  required: 1,
  run: (env, ids, kw) => {
    env.write(String(env.context.__model), ids, (kw.values ?? {}) as Record<string, unknown>);
    return true;
  },
};

function stripInternal(ctx: Record<string, unknown>): Record<string, unknown> {
  const { __model: _m, ...rest } = ctx;
  return rest;
}

// ---- model definitions ------------------------------------------------------------
// `acl` rows are Odoo 19's ir.model.access.csv for the groups the agent's user may have
// (17 and 18 give these groups the same rights on these models).

export function defineModels(db: Database): void {
  const v = db.version;
  const defs: ModelDef[] = [];

  // The company's accounting lock dates exist with Odoo's accounting (account, which stock_account
  // installs); their names differ: 17 has period/fiscalyear/tax (+ the computed max_tax_lock_date),
  // 18 and 19 fiscalyear ("Global Lock Date"), tax, sale, purchase and hard (+ computed user_* dates).
  const accounting = db.installed.has('account') || db.installed.has('stock_account');
  const lockFields: Record<string, FieldDef> = !accounting
    ? {}
    : v <= 17
      ? {
          period_lock_date: date('Journals Entries Lock Date'),
          fiscalyear_lock_date: date('All Users Lock Date'),
          tax_lock_date: date('Tax Return Lock Date'),
          max_tax_lock_date: computed('date', 'Max Tax Lock Date', (_env, rec) => rec.tax_lock_date || false, { readonly: true }),
        }
      : {
          fiscalyear_lock_date: date('Global Lock Date'),
          tax_lock_date: date('Tax Return Lock Date'),
          sale_lock_date: date('Sales Lock Date'),
          purchase_lock_date: date('Purchase Lock date'),
          hard_lock_date: date('Hard Lock Date'),
          user_fiscalyear_lock_date: computed('date', 'User Fiscalyear Lock Date', (_env, rec) => rec.fiscalyear_lock_date || '1-01-01', { readonly: true }),
        };
  defs.push({
    name: 'res.company',
    description: 'Companies',
    module: 'base',
    access: { read: 'user', write: 'admin' },
    fields: { name: char('Company Name', { required: true }), active: bool('Active', { default: true }), ...lockFields },
  });

  defs.push({
    name: 'res.users',
    description: 'User',
    module: 'base',
    recName: 'name',
    access: { read: 'user', write: 'admin' },
    fields: {
      name: char('Name', { required: true }),
      login: char('Login', { required: true }),
      email: char('Email'),
      tz: char('Timezone'),
      lang: char('Language', { default: 'en_US' }),
      active: bool('Active', { default: true }),
      share: bool('Share User', { default: false }),
      [v >= 19 ? 'group_ids' : 'groups_id']: m2m('res.groups', 'Groups'),
      company_id: m2o('res.company', 'Company'),
      company_ids: m2m('res.company', 'Companies'),
    },
    methods: {
      context_get: {
        api: 'model',
        run: (env) => {
          const u = env.browse('res.users', env.uid);
          return { lang: u.lang || 'en_US', tz: u.tz || false, uid: env.uid };
        },
      },
      // 17: a model method about the calling user; 18+: a method of one user record.
      has_group:
        v >= 18
          ? {
              api: 'records',
              params: ['group_ext_id'],
              required: 1,
              run: (env, ids, kw) => {
                if (ids.length !== 1) throw valueError(`Expected singleton: res.users(${ids.join(', ')}${ids.length ? ',' : ''})`);
                return env.db.userGroups.get(ids[0]!)?.has(String(kw.group_ext_id)) ?? false;
              },
            }
          : { api: 'model', params: ['group_ext_id'], required: 1, run: (env, _ids, kw) => env.hasGroup(String(kw.group_ext_id)) },
    },
  });
  defs.push({
    name: 'res.groups',
    description: 'Access Groups',
    module: 'base',
    access: { read: 'user', write: 'admin' },
    fields: { name: char('Name', { required: true }) },
  });
  defs.push({
    name: 'res.partner',
    description: 'Contact',
    module: 'base',
    fields: { name: char('Name'), email: char('Email'), active: bool('Active', { default: true }) },
  });
  defs.push({
    name: 'ir.module.module',
    description: 'Module',
    module: 'base',
    access: { read: 'user', write: 'admin' },
    fields: {
      name: char('Technical Name', { required: true }),
      shortdesc: char('Module Name'),
      state: sel(
        [
          ['uninstallable', 'Uninstallable'],
          ['uninstalled', 'Not Installed'],
          ['installed', 'Installed'],
          ['to upgrade', 'To be upgraded'],
          ['to remove', 'To be removed'],
          ['to install', 'To be installed'],
        ],
        'Status',
        { default: 'uninstalled' },
      ),
    },
  });
  defs.push({
    name: 'ir.model',
    description: 'Models',
    module: 'base',
    recName: 'name',
    order: 'model',
    // Real 19: "You are not allowed to access 'Models' (ir.model) records" for a stock/MRP user.
    access: { read: 'admin', write: 'admin' },
    fields: {
      name: char('Model Description', { required: true }),
      model: char('Model', { required: true }),
      // The modules that define it (Odoo computes this from ir.model.data).
      modules: char('In Apps'),
      state: sel(
        [
          ['manual', 'Custom Object'],
          ['base', 'Base Object'],
        ],
        'Type',
        { default: 'base' },
      ),
      transient: bool('Transient Model', { default: false }),
    },
  });
  defs.push({
    name: 'ir.model.data',
    description: 'Model Data',
    module: 'base',
    access: { read: 'admin', write: 'admin' },
    displayName: (_env, r) => `${String(r.module)}.${String(r.name)}`,
    fields: {
      name: char('External Identifier', { required: true }),
      module: char('Module', { required: true }),
      model: char('Model Name', { required: true }),
      res_id: int('Record ID'),
      noupdate: bool('Non Updatable', { default: false }),
    },
    methods: {
      // Any user may call it: the lookup is plain SQL, then the user's own read rights decide.
      check_object_reference: {
        api: 'model',
        params: ['module', 'xml_id', 'raise_on_access_error'],
        required: 2,
        run: (env, _ids, kw) => {
          const xmlid = `${String(kw.module)}.${String(kw.xml_id)}`;
          const row = env.db.xmlidRecord(xmlid);
          if (!row || !row.res_id) throw valueError(`External ID not found in the system: ${xmlid}`);
          const model = String(row.model);
          const visible = env.db.model(model) && env.db.get(model, Number(row.res_id));
          if (visible) {
            try {
              env.checkAccess(env.model(model), 'read');
              return [model, Number(row.res_id)];
            } catch {
              /* no read access: fall through */
            }
          }
          if (kw.raise_on_access_error) throw accessError(`Not enough access rights on the external ID "${xmlid}"`);
          return [model, false];
        },
      },
    },
  });
  if (v >= 19) {
    // Odoo 19: no categories; a unit is defined from another (relative_uom_id, relative_factor),
    // `factor` is how many root units one of it is, `parent_path` starts with its chain's root.
    const parentOf = (env: Env, r: Rec): Rec | undefined => (typeof r.relative_uom_id === 'number' ? env.get('uom.uom', r.relative_uom_id) : undefined);
    const chain = (env: Env, r: Rec): Rec[] => {
      const out: Rec[] = [];
      for (let u: Rec | undefined = r; u && out.length < 50; u = parentOf(env, u)) out.unshift(u);
      return out;
    };
    defs.push({
      name: 'uom.uom',
      description: 'Product Unit of Measure',
      module: 'uom',
      fields: {
        name: char('Unit Name', { required: true }),
        relative_factor: float('Contains', { default: 1, required: true }),
        relative_uom_id: m2o('uom.uom', 'Reference Unit'),
        factor: computed('float', 'Absolute Quantity', (env, r) => chain(env, r).reduce((f, u) => f * num(u.relative_factor || 1), 1), { stored: true }),
        parent_path: computed(
          'char',
          'Parent Path',
          (env, r) =>
            chain(env, r)
              .map((u) => `${u.id}/`)
              .join(''),
          { stored: true },
        ),
        // All units share the 'Product Unit' decimal precision.
        rounding: computed('float', 'Rounding Precision', () => 0.01),
        active: bool('Active', { default: true }),
      },
    });
  } else {
    defs.push({
      name: 'uom.category',
      description: 'Product UoM Categories',
      module: 'uom',
      fields: { name: char('Unit of Measure Category', { required: true }) },
    });
    defs.push({
      name: 'uom.uom',
      description: 'Product Unit of Measure',
      module: 'uom',
      fields: {
        name: char('Unit of Measure', { required: true }),
        category_id: m2o('uom.category', 'Category', { required: true, default: (env: Env) => env.db.all('uom.category')[0]?.id ?? false }),
        // How many of this unit make one reference unit of its category (g: 1000 when kg is the reference).
        factor: float('Ratio', { default: 1, required: true }),
        factor_inv: computed('float', 'Bigger Ratio', (_env, r) => (num(r.factor) ? 1 / num(r.factor) : 0)),
        uom_type: sel(
          [
            ['bigger', 'Bigger than the reference Unit of Measure'],
            ['reference', 'Reference Unit of Measure for this category'],
            ['smaller', 'Smaller than the reference Unit of Measure'],
          ],
          'Type',
          { default: 'reference', required: true },
        ),
        rounding: float('Rounding Precision', { default: 0.01 }),
        active: bool('Active', { default: true }),
      },
    });
  }

  const productFields: Record<string, FieldDef> = {
    name: char('Name', { required: true }),
    default_code: char('Internal Reference'),
    barcode: char('Barcode'),
    tracking: sel(
      [
        ['serial', 'By Unique Serial Number'],
        ['lot', 'By Lots'],
        ['none', 'By Quantity'],
      ],
      'Tracking',
      { default: 'none', required: true },
    ),
    uom_id: m2o('uom.uom', 'Unit', { required: true, default: (env: Env) => env.db.all('uom.uom')[0]?.id ?? false }),
    active: bool('Active', { default: true }),
    qty_available: computed('float', 'Quantity On Hand', (env, r) => round(onHand(env, r.id))),
  };
  if (v >= 18) {
    productFields.type = sel(
      [
        ['consu', 'Goods'],
        ['service', 'Service'],
        ['combo', 'Combo'],
      ],
      'Product Type',
      { default: 'consu', required: true },
    );
    productFields.is_storable = bool('Track Inventory', { default: false });
  } else {
    productFields.detailed_type = sel(
      [
        ['consu', 'Consumable'],
        ['service', 'Service'],
        ['product', 'Storable Product'],
      ],
      'Product Type',
      { default: 'consu', required: true },
    );
    productFields.type = computed('char', 'Type', (_env, r) => (r.detailed_type === 'product' ? 'product' : r.detailed_type));
  }
  // A variant (product.product) inherits its template's fields (_inherits): both records keep
  // the shared values here, and a write on either reaches the other.
  const shared = ['name', 'tracking', 'uom_id', 'active', ...(v >= 18 ? ['type', 'is_storable'] : ['detailed_type'])];
  const pick = (vals: Record<string, unknown>) => Object.fromEntries(shared.filter((k) => k in vals).map((k) => [k, vals[k]]));
  const variantsOf = (env: Env, tmplId: number) => env.db.all('product.product').filter((p) => p.product_tmpl_id === tmplId);
  const templateFields: Record<string, FieldDef> = Object.fromEntries(
    Object.entries(productFields).filter(([k]) => shared.includes(k) || (v < 18 && k === 'type')),
  );
  Object.assign(templateFields, {
    // Set through the template, kept on its variant; read back from a single variant.
    default_code: computed('char', 'Internal Reference', (env, r) => singleVariant(env, r.id)?.default_code ?? false),
    barcode: computed('char', 'Barcode', (env, r) => singleVariant(env, r.id)?.barcode ?? false),
    product_variant_ids: o2m('product.product', 'product_tmpl_id', 'Products'),
    product_variant_id: computed('many2one', 'Product', (env, r) => variantsOf(env, r.id)[0]?.id ?? false, { relation: 'product.product' }),
    product_variant_count: computed('integer', '# Product Variants', (env, r) => variantsOf(env, r.id).length),
    qty_available: computed('float', 'Quantity On Hand', (env, r) => round(variantsOf(env, r.id).reduce((s, p) => s + onHand(env, p.id), 0))),
  });
  function singleVariant(env: Env, tmplId: number): Rec | undefined {
    const all = variantsOf(env, tmplId);
    return all.length === 1 ? all[0] : undefined;
  }
  const productDisplay = (code: unknown, name: unknown) => (code ? `[${String(code)}] ${String(name)}` : String(name));
  defs.push({
    name: 'product.template',
    description: 'Product',
    module: 'product',
    access: { read: 'user', write: 'admin' },
    displayName: (env, r) => productDisplay(singleVariant(env, r.id)?.default_code, r.name),
    fields: templateFields,
    afterWrite: (env, ids, vals, created) => {
      for (const tid of ids) {
        if (created) {
          // Odoo makes the template's variant, unless the variant is what is being created.
          if (env.context.create_product_product === false) continue;
          const extra: Record<string, unknown> = {};
          if (vals.default_code !== undefined) extra.default_code = vals.default_code;
          if (vals.barcode !== undefined) extra.barcode = vals.barcode;
          env.create('product.product', { product_tmpl_id: tid, ...extra });
          continue;
        }
        const t = env.browse('product.template', tid);
        const copy = pick(t);
        for (const p of variantsOf(env, tid)) env.set('product.product', p.id, copy);
        const one = singleVariant(env, tid);
        if (one && (vals.default_code !== undefined || vals.barcode !== undefined)) {
          env.set('product.product', one.id, {
            ...(vals.default_code !== undefined ? { default_code: vals.default_code } : {}),
            ...(vals.barcode !== undefined ? { barcode: vals.barcode } : {}),
          });
        }
      }
    },
  });
  defs.push({
    name: 'product.product',
    description: 'Product Variant',
    module: 'product',
    access: { read: 'user', write: 'admin' },
    displayName: (_env, r) => productDisplay(r.default_code, r.name),
    fields: { ...productFields, product_tmpl_id: m2o('product.template', 'Product Template', { required: true }) },
    prepareCreate: (env, vals) => {
      if (typeof vals.product_tmpl_id === 'number') {
        const t = env.browse('product.template', vals.product_tmpl_id);
        for (const [k, val] of Object.entries(pick(t))) if (!(k in vals)) vals[k] = val;
      } else if (!vals.product_tmpl_id) {
        const tid = env.withContext({ create_product_product: false }).create('product.template', pick(vals));
        Object.assign(vals, { ...pick(env.browse('product.template', tid)), ...vals, product_tmpl_id: tid });
      }
    },
    afterWrite: (env, ids, vals, created) => {
      const changed = pick(vals);
      if (created || Object.keys(changed).length === 0) return;
      for (const pid of ids) {
        const p = env.browse('product.product', pid);
        const copy = pick(p);
        env.set('product.template', p.product_tmpl_id as number, copy);
        for (const o of variantsOf(env, p.product_tmpl_id as number)) if (o.id !== pid) env.set('product.product', o.id, copy);
      }
    },
  });

  defs.push({
    name: 'stock.location',
    description: 'Inventory Locations',
    module: 'stock',
    acl: [
      ['base.group_user', 'r---'],
      ['stock.group_stock_manager', 'rwcu'],
    ],
    recName: 'complete_name',
    order: 'complete_name, id',
    fields: {
      name: char('Location Name', { required: true }),
      // Computed and stored by Odoo: a value given on create is not kept, one written later is
      // (until the name, the type or the parent changes).
      complete_name: char('Full Location Name', { readonly: true }),
      location_id: m2o('stock.location', 'Parent Location'),
      child_ids: o2m('stock.location', 'location_id', 'Contains'),
      usage: sel(
        [
          ['supplier', 'Vendor'],
          ['view', 'Virtual'],
          ['internal', 'Internal'],
          ['customer', 'Customer'],
          ['inventory', 'Inventory Loss'],
          ['production', 'Production'],
          ['transit', 'Transit'],
        ],
        'Location Type',
        { default: 'internal', required: true },
      ),
      barcode: char('Barcode'),
      active: bool('Active', { default: true }),
      ...(v < 19 ? { scrap_location: bool('Is a Scrap Location?', { default: false }) } : {}),
      // The warehouse whose view location is this one or one of its parents (stored compute, as complete_name).
      warehouse_id: m2o('stock.warehouse', 'Warehouse', { readonly: true }),
    },
    prepareCreate: (_env, vals) => {
      delete vals.complete_name;
      delete vals.warehouse_id;
    },
    afterWrite: (env, ids, vals, created) => {
      if ('location_id' in vals) {
        for (const lid of ids) {
          const seen = new Set<number>();
          for (
            let cur = env.get('stock.location', lid);
            cur;
            cur = typeof cur.location_id === 'number' ? env.get('stock.location', cur.location_id) : undefined
          ) {
            if (seen.has(cur.id)) throw userError('Recursion Detected.');
            seen.add(cur.id);
          }
        }
      }
      const names = created || 'name' in vals || 'usage' in vals || 'location_id' in vals;
      if (names) recomputeLocations(env, ids, created || 'location_id' in vals);
    },
  });

  defs.push({
    name: 'stock.warehouse',
    description: 'Warehouse',
    module: 'stock',
    acl: [
      ['base.group_user', 'r---'],
      ['stock.group_stock_manager', 'rwcu'],
    ],
    afterWrite: (env, _ids, vals) => {
      if ('view_location_id' in vals) {
        const roots = env.db
          .all('stock.location')
          .filter((l) => !l.location_id)
          .map((l) => l.id);
        recomputeLocations(env, roots, true);
      }
    },
    fields: {
      name: char('Warehouse', { required: true }),
      code: char('Short Name', { required: true }),
      view_location_id: m2o('stock.location', 'View Location'),
      lot_stock_id: m2o('stock.location', 'Location Stock'),
      in_type_id: m2o('stock.picking.type', 'In Type'),
      out_type_id: m2o('stock.picking.type', 'Out Type'),
      int_type_id: m2o('stock.picking.type', 'Internal Type'),
      manu_type_id: m2o('stock.picking.type', 'Manufacturing Operation Type'),
      active: bool('Active', { default: true }),
    },
  });
  // Packages: stock.quant.package up to 18, stock.package from 19.
  const packageModel = v >= 19 ? 'stock.package' : 'stock.quant.package';
  defs.push({ name: packageModel, description: 'Packages', module: 'stock', fields: { name: char('Package Reference', { required: true }) } });

  defs.push({
    name: 'stock.lot',
    description: 'Lot/Serial',
    module: 'stock',
    acl: [['stock.group_stock_user', 'rwcu']],
    fields: {
      name: char('Lot/Serial Number', { required: true }),
      product_id: m2o('product.product', 'Product', { required: true }),
      ref: char('Internal Reference'),
      product_qty: computed('float', 'On Hand Quantity', (env, r) => round(onHand(env, r.product_id as number, undefined, r.id))),
    },
    afterWrite: (env, ids) => {
      for (const lid of ids) {
        const lot = env.browse('stock.lot', lid);
        const dup = env.db.all('stock.lot').find((l) => l.id !== lid && l.name === lot.name && l.product_id === lot.product_id);
        if (dup) {
          const p = env.browse('product.product', lot.product_id as number);
          throw validationError(
            `The combination of lot/serial number and product must be unique within a company including when no company is defined.\nThe following combinations contain duplicates:\n - Product: ${env.displayName('product.product', p)}, Lot/Serial Number: ${String(lot.name)}`,
          );
        }
      }
    },
  });

  defs.push({
    name: 'stock.quant',
    description: 'Quants',
    module: 'stock',
    acl: [
      ['base.group_user', 'r---'],
      ['stock.group_stock_user', 'rwc-'],
    ],
    displayName: (env, r) => env.displayName('product.product', env.browse('product.product', r.product_id as number)),
    fields: {
      product_id: m2o('product.product', 'Product', { required: true }),
      location_id: m2o('stock.location', 'Location', { required: true }),
      lot_id: m2o('stock.lot', 'Lot/Serial Number'),
      package_id: m2o(packageModel, 'Package'),
      owner_id: m2o('res.partner', 'Owner'),
      quantity: float('Quantity', { readonly: true }),
      inventory_quantity: float('Counted Quantity'),
      inventory_quantity_set: bool('Inventory Quantity Set', { default: false }),
      inventory_diff_quantity: computed('float', 'Difference', (_env, r) =>
        r.inventory_quantity_set ? round(num(r.inventory_quantity) - num(r.quantity)) : 0,
      ),
      inventory_date: date('Scheduled Date'),
    },
    afterWrite: (env, ids, vals, created) => {
      if ('inventory_quantity' in vals) {
        for (const qid of ids) env.set('stock.quant', qid, { inventory_quantity_set: true });
      }
      if (created && env.context.inventory_mode && 'inventory_quantity' in vals) {
        // In inventory mode Odoo updates the existing quant of product/location/lot instead of adding one.
        const q = env.browse('stock.quant', ids[0]!);
        const other = env.db
          .all('stock.quant')
          .find((o) => o.id !== q.id && o.product_id === q.product_id && o.location_id === q.location_id && (o.lot_id || false) === (q.lot_id || false));
        if (other) {
          env.set('stock.quant', other.id, { inventory_quantity: q.inventory_quantity, inventory_quantity_set: true });
          env.db.remove('stock.quant', q.id);
        }
      }
    },
    methods: {
      // Odoo 19 takes a date for the adjustment moves (action_apply_inventory(date=None)).
      action_apply_inventory: recordMethod(
        (env, ids, kw) => {
          if (v < 18 && !env.hasGroup('stock.group_stock_manager')) throw userError('Only a stock manager can validate an inventory adjustment.');
          const invLoc = env.db.all('stock.location').find((l) => l.usage === 'inventory');
          for (const qid of ids) {
            const q = env.browse('stock.quant', qid);
            if (!q.inventory_quantity_set) continue;
            const diff = round(num(q.inventory_quantity) - num(q.quantity));
            if (diff !== 0 && invLoc) {
              const name =
                typeof env.context.inventory_name === 'string' && env.context.inventory_name ? env.context.inventory_name : 'Product Quantity Updated';
              const moveId = createMove(env, {
                name,
                reference: name,
                product_id: q.product_id,
                product_uom_qty: Math.abs(diff),
                location_id: diff > 0 ? invLoc.id : q.location_id,
                location_dest_id: diff > 0 ? q.location_id : invLoc.id,
                is_inventory: true,
                state: 'confirmed',
              });
              env.create('stock.move.line', { move_id: moveId, quantity: Math.abs(diff), lot_id: q.lot_id || false });
              moveDone(env, moveId);
              if (kw.date) env.write('stock.move', [moveId], { date: kw.date });
            }
            env.set('stock.quant', qid, { inventory_quantity: 0, inventory_quantity_set: false, inventory_date: env.now().slice(0, 10) });
          }
          return undefined;
        },
        v >= 19 ? ['date'] : [],
      ),
    },
  });

  defs.push({
    name: 'stock.picking.type',
    description: 'Picking Type',
    module: 'stock',
    acl: [
      ['base.group_user', 'r---'],
      ['stock.group_stock_manager', 'rwcu'],
    ],
    fields: {
      name: char('Operation Type', { required: true }),
      code: sel(
        [
          ['incoming', 'Receipt'],
          ['outgoing', 'Delivery'],
          ['internal', 'Internal Transfer'],
          ['mrp_operation', 'Manufacturing'],
        ],
        'Type of Operation',
        { required: true },
      ),
      sequence_code: char('Sequence Prefix', { required: true }),
      create_backorder: sel(
        [
          ['ask', 'Ask'],
          ['always', 'Always'],
          ['never', 'Never'],
        ],
        'Create Backorder',
        { default: 'ask', required: true },
      ),
      default_location_src_id: m2o('stock.location', 'Default Source Location'),
      default_location_dest_id: m2o('stock.location', 'Default Destination Location'),
      use_create_lots: bool('Create New Lots/Serial Numbers', { default: true }),
      use_existing_lots: bool('Use Existing Lots/Serial Numbers', { default: true }),
      warehouse_id: m2o('stock.warehouse', 'Warehouse'),
      use_create_components_lots: bool('Create New Lots/Serial Numbers for Components', { default: false }),
      active: bool('Active', { default: true }),
    },
  });

  const moveStates: Array<[string, string]> = [
    ['draft', 'New'],
    ['waiting', 'Waiting Another Move'],
    ['confirmed', 'Waiting Availability'],
    ['partially_available', 'Partially Available'],
    ['assigned', 'Available'],
    ['done', 'Done'],
    ['cancel', 'Cancelled'],
  ];
  defs.push({
    name: 'stock.move',
    description: 'Stock Move',
    module: 'stock',
    acl: [
      ['stock.group_stock_user', 'rwc-'],
      ['mrp.group_mrp_user', 'rwcu'],
      ['stock.group_stock_manager', 'rwcu'],
    ],
    displayName: (env, r) => String(env.value('stock.move', r, 'reference')),
    fields: {
      ...(v >= 19 ? { description_picking: text('Description Of Picking') } : { name: char('Description', { required: true }) }),
      // Stored: the document the move belongs to (transfer, order, scrap), else its description
      // (an inventory adjustment's name comes from context inventory_name).
      reference: char('Reference', {
        default: (env: Env, vals: Record<string, unknown>) => {
          for (const [f, m] of [
            ['raw_material_production_id', 'mrp.production'],
            ['production_id', 'mrp.production'],
            ['picking_id', 'stock.picking'],
            ['scrap_id', 'stock.scrap'],
          ] as const) {
            const t = typeof vals[f] === 'number' ? env.get(m, vals[f] as number) : undefined;
            if (t) return t.name;
          }
          return vals.name || false;
        },
      }),
      product_id: m2o('product.product', 'Product', { required: true }),
      product_uom_qty: float('Demand'),
      quantity: float('Quantity'),
      product_uom: m2o('uom.uom', 'Unit', {
        default: (env: Env, vals: Record<string, unknown>) =>
          (typeof vals.product_id === 'number' ? env.get('product.product', vals.product_id)?.uom_id : false) ?? false,
      }),
      picked: bool('Picked', { default: false }),
      manual_consumption: bool('Manual Consumption', { default: false }),
      state: sel(moveStates, 'Status', { default: 'draft' }),
      location_id: m2o('stock.location', 'Source Location', { required: true }),
      location_dest_id: m2o('stock.location', 'Destination Location', { required: true }),
      raw_material_production_id: m2o('mrp.production', 'Production Order for components'),
      production_id: m2o('mrp.production', 'Production Order for finished products'),
      workorder_id: m2o('mrp.workorder', 'Work Order To Consume'),
      picking_id: m2o('stock.picking', 'Transfer'),
      scrap_id: m2o('stock.scrap', 'Scrap operation'),
      move_line_ids: o2m('stock.move.line', 'move_id', 'Operations'),
      has_tracking: computed('selection', 'Product with Tracking', (env, r) => env.get('product.product', r.product_id as number)?.tracking ?? 'none', {
        selection: [
          ['serial', 'By Unique Serial Number'],
          ['lot', 'By Lots'],
          ['none', 'By Quantity'],
        ],
      }),
      lot_ids: computed(
        'many2many',
        'Serial Numbers',
        (env, r) => [
          ...new Set(
            movesLines(env, r.id)
              .map((l) => l.lot_id)
              .filter((x): x is number => typeof x === 'number'),
          ),
        ],
        { relation: 'stock.lot' },
      ),
      unit_factor: float('Unit Factor', { default: 1 }),
      scrapped: bool('Scrapped', { default: false }),
      is_inventory: bool('Inventory', { default: false }),
      date: datetime('Date Scheduled', { default: (env: Env) => env.now() }),
    },
    afterWrite: (env, ids, vals, created) => {
      if ('date' in vals && !created && env.version >= 19) {
        // A done move's date is its lines' date too (stock.move.write, 19 only).
        for (const mid of ids) {
          if (env.browse('stock.move', mid).state !== 'done') continue;
          for (const l of movesLines(env, mid)) env.set('stock.move.line', l.id, { date: vals.date });
        }
      }
      if ('picked' in vals && !created) {
        // stock.move._inverse_picked: every line of the move takes the move's value, on every write of it.
        for (const mid of ids) for (const l of movesLines(env, mid)) if (l.state !== 'done') env.set('stock.move.line', l.id, { picked: !!vals.picked });
      }
      if (!('quantity' in vals)) return;
      for (const mid of ids) {
        const move = env.browse('stock.move', mid);
        if (move.state === 'done' && !created) throw userError('You cannot change the quantity of a done move; unlock the order first.');
        const want = num(move.quantity);
        const lines = movesLines(env, mid);
        if (lines.length === 0) {
          if (want > 0) {
            const lid = env.db.newId('stock.move.line');
            env.db.put('stock.move.line', {
              id: lid,
              move_id: mid,
              product_id: move.product_id,
              quantity: want,
              location_id: move.location_id,
              location_dest_id: move.location_dest_id,
              lot_id: false,
              lot_name: false,
              picked: !!move.picked,
              state: move.state,
            });
          }
        } else {
          const others = lines.slice(0, -1).reduce((s, l) => s + num(l.quantity), 0);
          env.set('stock.move.line', lines[lines.length - 1]!.id, { quantity: round(Math.max(0, want - others)) });
          const total = round(others + Math.max(0, want - others));
          if (total !== want) env.set('stock.move', mid, { quantity: total });
        }
      }
    },
  });

  defs.push({
    name: 'stock.move.line',
    description: 'Product Moves (Stock Move Line)',
    module: 'stock',
    acl: [['base.group_user', 'rwcu']],
    displayName: (env, r) => {
      const move = env.get('stock.move', r.move_id as number);
      return move ? String(env.value('stock.move', move, 'reference')) : String(r.id);
    },
    fields: {
      move_id: m2o('stock.move', 'Stock Operation'),
      product_id: m2o('product.product', 'Product', { required: true }),
      quantity: float('Quantity'),
      product_uom_id: m2o('uom.uom', 'Unit'),
      lot_id: m2o('stock.lot', 'Lot/Serial Number'),
      lot_name: char('Lot/Serial Number Name'),
      location_id: m2o('stock.location', 'From', { required: true }),
      location_dest_id: m2o('stock.location', 'To', { required: true }),
      picked: bool('Picked', { default: false }),
      state: sel(moveStates, 'Status', { default: 'draft' }),
      date: datetime('Date', { default: (env: Env) => env.now() }),
      quantity_product_uom: computed('float', 'Quantity in Product UoM', (_env, r) => num(r.quantity)),
      is_inventory: computed('boolean', 'Inventory', (env, r) => !!(typeof r.move_id === 'number' && env.get('stock.move', r.move_id)?.is_inventory)),
      picking_id: computed(
        'many2one',
        'Transfer',
        (env, r) => (typeof r.move_id === 'number' ? (env.get('stock.move', r.move_id)?.picking_id ?? false) : false),
        { relation: 'stock.picking' },
      ),
      production_id: computed(
        'many2one',
        'Production Order',
        (env, r) => {
          const m = typeof r.move_id === 'number' ? env.get('stock.move', r.move_id) : undefined;
          return m ? m.raw_material_production_id || m.production_id || false : false;
        },
        { relation: 'mrp.production' },
      ),
    },
    prepareCreate: (env, vals) => {
      const move = typeof vals.move_id === 'number' ? env.get('stock.move', vals.move_id) : undefined;
      if (move) {
        vals.product_id ??= move.product_id;
        vals.product_uom_id ??= move.product_uom;
        vals.location_id ??= move.location_id;
        vals.location_dest_id ??= move.location_dest_id;
        vals.state ??= move.state;
      }
    },
    beforeUnlink: (env, ids) => {
      const moves = new Set<number>();
      for (const lid of ids) {
        const line = env.browse('stock.move.line', lid);
        if (line.state === 'done' || line.state === 'cancel') {
          throw userError('Deleting product moves after the transfer is done?\n\nTry changing the “done” quantity to 0 instead.');
        }
        if (typeof line.move_id === 'number') moves.add(line.move_id);
      }
      // The move's quantity is the sum of the lines that stay.
      for (const mid of moves) {
        const rest = movesLines(env, mid).filter((l) => !ids.includes(l.id));
        env.set('stock.move', mid, { quantity: round(rest.reduce((sum, l) => sum + num(l.quantity), 0)) });
      }
    },
    afterWrite: (env, ids) => {
      const moves = new Set<number>();
      for (const lid of ids) {
        const line = env.browse('stock.move.line', lid);
        if (typeof line.lot_id === 'number') {
          const lot = env.browse('stock.lot', line.lot_id);
          if (lot.product_id !== line.product_id) {
            throw validationError(`The Lot/Serial number (${String(lot.name)}) is linked to another product.`);
          }
        }
        if (typeof line.move_id === 'number') moves.add(line.move_id);
      }
      for (const mid of moves) {
        const lines = movesLines(env, mid);
        const total = round(lines.reduce((s, l) => s + num(l.quantity), 0));
        // A move is picked once any of its lines is (stock.move._compute_picked; 18 and 19 unpick it when none is).
        const vals: Record<string, unknown> = { quantity: total };
        if (lines.some((l) => l.picked)) vals.picked = true;
        else if (lines.length > 0 && env.version >= 18) vals.picked = false;
        env.set('stock.move', mid, vals);
      }
    },
  });

  defs.push({
    name: 'stock.picking',
    description: 'Transfer',
    module: 'stock',
    acl: [['stock.group_stock_user', 'rwcu']],
    fields: {
      name: char('Reference', { default: '/' }),
      picking_type_id: m2o('stock.picking.type', 'Operation Type', { required: true }),
      location_id: m2o('stock.location', 'Source Location'),
      location_dest_id: m2o('stock.location', 'Destination Location'),
      state: sel(
        [
          ['draft', 'Draft'],
          ['waiting', 'Waiting Another Operation'],
          ['confirmed', 'Waiting'],
          ['assigned', 'Ready'],
          ['done', 'Done'],
          ['cancel', 'Cancelled'],
        ],
        'Status',
        { default: 'draft' },
      ),
      move_ids: o2m('stock.move', 'picking_id', 'Stock Moves'),
      origin: char('Source Document'),
      date_done: datetime('Date of Transfer'),
      scheduled_date: datetime('Scheduled Date', { default: (env: Env) => env.now() }),
      backorder_id: m2o('stock.picking', 'Back Order of'),
    },
    // Odoo 19's stock_account: a transfer's dates may not lie in a locked accounting period.
    afterWrite: (env, ids, vals) => {
      if (env.version < 19 || (vals.scheduled_date === undefined && vals.date_done === undefined)) return;
      for (const pid of ids) {
        const p = env.browse('stock.picking', pid);
        const days = [p.scheduled_date, p.date_done].filter((d): d is string => typeof d === 'string').map((d) => d.slice(0, 10));
        if (days.some((d) => lockedOn(env, d)))
          throw validationError('You cannot modify the scheduled date of this operation because it falls within a locked fiscal period.');
      }
    },
    prepareCreate: (env, vals) => {
      const type = typeof vals.picking_type_id === 'number' ? env.get('stock.picking.type', vals.picking_type_id) : undefined;
      if (type && (!vals.name || vals.name === '/')) {
        vals.name = `WH/${String(type.sequence_code)}/${String(env.db.nextSequence(`picking.${type.id}`)).padStart(5, '0')}`;
      }
      if (type) {
        vals.location_id ??= type.default_location_src_id;
        vals.location_dest_id ??= type.default_location_dest_id;
      }
    },
    methods: {
      action_confirm: recordMethod((env, ids) => {
        for (const pid of ids) {
          const p = env.browse('stock.picking', pid);
          if (p.state !== 'draft') continue;
          for (const m of env.db.all('stock.move').filter((x) => x.picking_id === pid && x.state === 'draft'))
            env.set('stock.move', m.id, { state: 'confirmed' });
          env.set('stock.picking', pid, { state: 'confirmed' });
        }
        return true;
      }),
      action_assign: recordMethod((env, ids) => {
        for (const pid of ids) {
          const p = env.browse('stock.picking', pid);
          if (p.state === 'done' || p.state === 'cancel') continue;
          for (const m of env.db.all('stock.move').filter((x) => x.picking_id === pid && x.state !== 'done' && x.state !== 'cancel'))
            env.set('stock.move', m.id, { state: 'assigned' });
          env.set('stock.picking', pid, { state: 'assigned' });
        }
        return true;
      }),
      button_validate: recordMethod((env, ids) => {
        let todo = ids.map((pid) => env.browse('stock.picking', pid));
        // Odoo 19 skips transfers that are done already; 17 and 18 fail their sanity check.
        if (env.version >= 19) todo = todo.filter((p) => p.state !== 'done');
        for (const p of todo) {
          const moves = env.db.all('stock.move').filter((m) => m.picking_id === p.id);
          if (moves.length === 0) throw userError('You can’t validate an empty transfer. Please add some products to move before proceeding.');
          if (p.state === 'draft') {
            for (const m of moves) {
              if (m.state === 'draft') env.set('stock.move', m.id, { state: 'confirmed' });
              if (num(m.quantity) === 0 && num(m.product_uom_qty) !== 0) env.write('stock.move', [m.id], { quantity: m.product_uom_qty });
            }
            env.set('stock.picking', p.id, { state: 'confirmed' });
          }
          const open = env.db.all('stock.move').filter((m) => m.picking_id === p.id && m.state !== 'done' && m.state !== 'cancel');
          if (open.every((m) => num(m.quantity) === 0)) {
            throw userError(
              env.version >= 19
                ? "Transfer trouble alert! Validating a zero quantity transfer? You're not moving invisible goods around are you?\n"
                : 'You cannot validate a transfer if no quantities are reserved. To force the transfer, encode quantities.',
            );
          }
          const missingLots = open.filter(
            (m) => env.browse('product.product', m.product_id as number).tracking !== 'none' && movesLines(env, m.id).some((l) => !l.lot_id && !l.lot_name),
          );
          if (missingLots.length > 0) {
            const names = missingLots.map((m) => env.displayName('product.product', env.browse('product.product', m.product_id as number)));
            throw userError(`You need to supply a Lot/Serial number for products ${names.join(', ')}.`);
          }
          const partial = open.some((m) => num(m.quantity) < num(m.product_uom_qty) - 1e-9);
          const type = env.browse('stock.picking.type', p.picking_type_id as number);
          const noBackorder = Array.isArray(env.context.picking_ids_not_to_backorder) && (env.context.picking_ids_not_to_backorder as number[]).includes(p.id);
          if (partial && !env.context.skip_backorder && type.create_backorder === 'ask') {
            return wizard('stock.backorder.confirmation', 'Create Backorder?', {
              ...stripInternal(env.context),
              button_validate_picking_ids: ids,
              default_pick_ids: [[4, p.id]],
            });
          }
          if (partial && type.create_backorder !== 'never' && !noBackorder) {
            const boId = env.create('stock.picking', {
              picking_type_id: p.picking_type_id,
              location_id: p.location_id,
              location_dest_id: p.location_dest_id,
              origin: p.origin,
              backorder_id: p.id,
              state: 'assigned',
            });
            for (const m of open) {
              const rest = round(num(m.product_uom_qty) - num(m.quantity));
              if (rest > 0) {
                createMove(env, {
                  name: m.name,
                  product_id: m.product_id,
                  product_uom_qty: rest,
                  location_id: m.location_id,
                  location_dest_id: m.location_dest_id,
                  picking_id: boId,
                  state: 'assigned',
                });
              }
            }
          }
          for (const m of open) {
            if (num(m.quantity) > 0) moveDone(env, m.id);
            else env.set('stock.move', m.id, { state: 'cancel' });
          }
          env.set('stock.picking', p.id, { state: 'done', date_done: env.now() });
        }
        return true;
      }),
    },
  });

  defs.push({
    name: 'stock.scrap',
    description: 'Scrap',
    module: 'stock',
    acl: [
      ['stock.group_stock_user', 'rwc-'],
      ['stock.group_stock_manager', 'rwcu'],
    ],
    fields: {
      name: char('Reference', { default: 'New', required: true }),
      product_id: m2o('product.product', 'Product', { required: true }),
      product_uom_id: m2o('uom.uom', 'Unit', {
        default: (env: Env, vals: Record<string, unknown>) =>
          (typeof vals.product_id === 'number' ? env.get('product.product', vals.product_id)?.uom_id : false) ?? false,
      }),
      scrap_qty: float('Quantity', { required: true, default: 1 }),
      lot_id: m2o('stock.lot', 'Lot/Serial'),
      location_id: m2o('stock.location', 'Source Location', {
        required: true,
        default: (env: Env) => env.db.all('stock.location').find((l) => l.usage === 'internal')?.id ?? false,
      }),
      // 17/18: the location flagged as scrap location; 19: the first inventory-loss location.
      scrap_location_id: m2o('stock.location', 'Scrap Location', {
        required: true,
        default: (env: Env) =>
          env.db
            .all('stock.location')
            .filter((l) => (env.version >= 19 ? l.usage === 'inventory' : l.scrap_location === true))
            .sort((a, b) => a.id - b.id)[0]?.id ?? false,
      }),
      production_id: m2o('mrp.production', 'Manufacturing Order'),
      workorder_id: m2o('mrp.workorder', 'Work Order'),
      origin: char('Source Document'),
      state: sel(
        [
          ['draft', 'Draft'],
          ['done', 'Done'],
        ],
        'Status',
        { default: 'draft' },
      ),
      date_done: datetime('Date'),
      move_ids: o2m('stock.move', 'scrap_id', 'Scrap Move'),
    },
    methods: {
      action_validate: recordMethod((env, ids) => {
        const sid = singleton('stock.scrap', ids);
        const s = env.browse('stock.scrap', sid);
        if (num(s.scrap_qty) <= 0) throw userError('You can only enter positive quantities.');
        const product = env.browse('product.product', s.product_id as number);
        const storable = env.version >= 18 ? !!product.is_storable : product.detailed_type === 'product';
        if (storable && onHand(env, product.id, s.location_id as number, id(s.lot_id)) < num(s.scrap_qty) - 1e-9) {
          return wizard('stock.warn.insufficient.qty.scrap', `${env.displayName('product.product', product)}: Insufficient Quantity To Scrap`, {
            ...stripInternal(env.context),
            default_product_id: product.id,
            default_location_id: s.location_id,
            default_scrap_id: sid,
            default_quantity: s.scrap_qty,
          });
        }
        return doScrap(env, [sid]);
      }),
      do_scrap: recordMethod((env, ids) => doScrap(env, ids)),
      ...(v < 19 ? { write: valuesWrite } : {}),
    },
  });

  function scrapOrderLink(env: Env, moId: number, productId: number): Record<string, number> {
    const finished = env.db.all('stock.move').some((m) => m.production_id === moId && m.product_id === productId && !m.scrap_id);
    return finished ? { production_id: moId } : { raw_material_production_id: moId };
  }

  function doScrap(env: Env, ids: number[]): boolean {
    // Like Odoo: no check of the state, so validating a done scrap scraps again.
    for (const sid of ids) {
      const s = env.browse('stock.scrap', sid);
      const name = `SP/${String(env.db.nextSequence('stock.scrap')).padStart(5, '0')}`;
      env.set('stock.scrap', sid, { name });
      const moveId = createMove(env, {
        name,
        product_id: s.product_id,
        product_uom_qty: s.scrap_qty,
        location_id: s.location_id,
        location_dest_id: s.scrap_location_id,
        scrap_id: sid,
        scrapped: true,
        state: 'confirmed',
        // Like Odoo's mrp: a scrap on an order joins its finished moves (the finished product) or its raw moves (anything else).
        ...(typeof s.production_id === 'number' ? scrapOrderLink(env, s.production_id, s.product_id as number) : {}),
      });
      env.create('stock.move.line', { move_id: moveId, quantity: s.scrap_qty, lot_id: s.lot_id || false });
      moveDone(env, moveId);
      env.set('stock.scrap', sid, { state: 'done', date_done: env.now() });
    }
    return true;
  }

  // ---- manufacturing ------------------------------------------------------------
  defs.push({
    name: 'mrp.workcenter',
    description: 'Work Center',
    module: 'mrp',
    acl: [
      ['mrp.group_mrp_user', 'r---'],
      ['mrp.group_mrp_manager', 'rwcu'],
    ],
    fields: {
      name: char('Work Center', { required: true }),
      code: char('Code'),
      active: bool('Active', { default: true }),
      costs_hour: float('Cost per hour'),
      default_capacity: float('Capacity', { default: 1 }),
      time_ids: o2m('mrp.workcenter.productivity', 'workcenter_id', 'Time Logs'),
      working_state: computed('selection', 'Workcenter Status', (env, r) => workingState(env, r.id), {
        selection: [
          ['normal', 'Normal'],
          ['blocked', 'Blocked'],
          ['done', 'In Progress'],
        ],
      }),
    },
    methods: {
      unblock: recordMethod((env, ids) => {
        for (const wid of ids) {
          if (workingState(env, wid) !== 'blocked') throw userError('It has already been unblocked.');
          closeTimeLines(env, (t) => t.workcenter_id === wid && !['productive', 'performance'].includes(lossType(env, t)));
        }
        return true;
      }),
    },
  });

  const lossTypes: Array<[string, string]> = [
    ['availability', 'Availability'],
    ['performance', 'Performance'],
    ['quality', 'Quality'],
    ['productive', 'Productive'],
  ];
  defs.push({
    name: 'mrp.workcenter.productivity.loss',
    description: 'Workcenter Productivity Losses',
    module: 'mrp',
    acl: [
      ['mrp.group_mrp_user', 'r---'],
      ['mrp.group_mrp_manager', 'rwcu'],
    ],
    order: 'sequence, id',
    fields: {
      name: char('Blocking Reason', { required: true }),
      loss_type: sel(lossTypes, 'Effectiveness Category', { default: 'availability', required: true }),
      manual: bool('Is a Blocking Reason', { default: true }),
      sequence: int('Sequence', { default: 1 }),
    },
  });
  defs.push({
    name: 'mrp.workcenter.productivity',
    description: 'Workcenter Productivity Log',
    module: 'mrp',
    acl: [['mrp.group_mrp_user', 'rwcu']],
    order: 'id desc',
    displayName: (env, r) => String(env.get('mrp.workcenter', r.workcenter_id as number)?.name ?? r.id),
    fields: {
      workcenter_id: m2o('mrp.workcenter', 'Work Center', { required: true }),
      workorder_id: m2o('mrp.workorder', 'Work Order'),
      production_id: computed(
        'many2one',
        'Manufacturing Order',
        (env, r) => (typeof r.workorder_id === 'number' ? (env.get('mrp.workorder', r.workorder_id)?.production_id ?? false) : false),
        {
          relation: 'mrp.production',
        },
      ),
      user_id: m2o('res.users', 'User', { default: (env: Env) => env.uid }),
      loss_id: m2o('mrp.workcenter.productivity.loss', 'Loss Reason', { required: true }),
      loss_type: computed('selection', 'Effectiveness', (env, r) => lossType(env, r), { selection: lossTypes }),
      description: text('Description'),
      date_start: datetime('Start Date', { required: true, default: (env: Env) => env.now() }),
      date_end: datetime('End Date'),
      duration: computed('float', 'Duration', (env, r) => {
        if (!r.date_start) return 0;
        const end = r.date_end ? Date.parse(`${String(r.date_end).replace(' ', 'T')}Z`) : env.db.clock().getTime();
        return round((end - Date.parse(`${String(r.date_start).replace(' ', 'T')}Z`)) / 60000);
      }),
    },
    afterWrite: (env, ids) => {
      for (const tid of ids) {
        const t = env.browse('mrp.workcenter.productivity', tid);
        if (typeof t.workorder_id !== 'number' || t.date_end) continue;
        const twice = env.db
          .all('mrp.workcenter.productivity')
          .some((o) => o.id !== tid && !o.date_end && o.workorder_id === t.workorder_id && o.user_id === t.user_id);
        if (twice) {
          const wo = env.browse('mrp.workorder', t.workorder_id);
          throw validationError(`The Workorder (${String(wo.name)}) cannot be started twice!`);
        }
      }
    },
  });

  const woStates: Array<[string, string]> =
    v >= 18
      ? [
          ['blocked', 'Blocked'],
          ['ready', 'To Do'],
          ['progress', 'In Progress'],
          ['done', 'Finished'],
          ['cancel', 'Cancelled'],
        ]
      : [
          ['pending', 'Waiting for another WO'],
          ['waiting', 'Waiting for components'],
          ['ready', 'Ready'],
          ['progress', 'In Progress'],
          ['done', 'Finished'],
          ['cancel', 'Cancelled'],
        ];
  const woMethods: Record<string, MethodDef> = {
    button_start: recordMethod((env, ids) => {
      if (ids.some((w) => workingState(env, env.browse('mrp.workorder', w).workcenter_id as number) === 'blocked')) {
        throw userError('Please unblock the work center to start the work order.');
      }
      for (const wid of ids) {
        const wo = env.browse('mrp.workorder', wid);
        const openMine = env.db.all('mrp.workcenter.productivity').some((t) => t.workorder_id === wid && !t.date_end && t.user_id === env.uid);
        if (openMine) continue;
        if (wo.state === 'done' || wo.state === 'cancel') throw userError('You cannot start a work order that is already done or cancelled');
        const productive = env.db.all('mrp.workcenter.productivity.loss').find((l) => l.loss_type === 'productive');
        if (!productive) {
          throw userError(
            "You need to define at least one productivity loss in the category 'Productivity'. Create one from the Manufacturing app, menu: Configuration / Productivity Losses.",
          );
        }
        const mo = env.browse('mrp.production', wo.production_id as number);
        if (num(wo.qty_producing) === 0 && num(mo.qty_producing) === 0) {
          // wo.qty_producing = wo.qty_remaining, whose inverse sets the order's produced quantity
          // and runs _set_qty_producing(False): reserved component lines become used (picked).
          const remaining = round(num(mo.product_qty) - num(wo.qty_produced));
          env.set('mrp.workorder', wid, { qty_producing: remaining });
          env.set('mrp.production', mo.id, { qty_producing: remaining });
          applyQtyProducing(env, mo.id);
        }
        const now = env.now();
        env.create('mrp.workcenter.productivity', {
          workorder_id: wid,
          workcenter_id: wo.workcenter_id,
          description: `Time Tracking: ${String(env.browse('res.users', env.uid).name)}`,
          loss_id: productive.id,
          date_start: now,
          user_id: env.uid,
        });
        if (mo.state !== 'progress') env.set('mrp.production', mo.id, { date_start: now });
        if (wo.state === 'progress') continue;
        env.set('mrp.workorder', wid, { state: 'progress', date_start: now });
        recomputeProductionState(env, mo.id);
      }
      return env.version >= 19 ? undefined : true;
    }),
    button_pending: recordMethod((env, ids) => {
      closeTimeLines(env, (t) => ids.includes(t.workorder_id as number) && t.user_id === env.uid);
      return env.version >= 19 ? undefined : true;
    }),
    button_finish: recordMethod((env, ids) => {
      for (const wid of ids) finishWorkorder(env, wid);
      for (const mo of new Set(ids.map((w) => env.browse('mrp.workorder', w).production_id as number))) recomputeProductionState(env, mo);
      return true;
    }),
    action_cancel: recordMethod((env, ids) => {
      for (const wid of ids) {
        closeTimeLines(env, (t) => t.workorder_id === wid);
        env.set('mrp.workorder', wid, { state: 'cancel' });
      }
      return true;
    }),
  };
  if (v < 19) {
    // 17/18 name write()'s argument `values` here (mrp.workorder, and mail.thread for stock.scrap): passed by name as `vals` it is a TypeError.
    woMethods.write = valuesWrite;
    woMethods.button_done = recordMethod((env, ids) => {
      for (const wid of ids) {
        const wo = env.browse('mrp.workorder', wid);
        if (wo.state === 'done' || wo.state === 'cancel') throw userError('A Manufacturing Order is already done or cancelled.');
        finishWorkorder(env, wid);
        recomputeProductionState(env, wo.production_id as number);
      }
      return true;
    });
  }
  defs.push({
    name: 'mrp.workorder',
    description: 'Work Order',
    module: 'mrp',
    acl: [['mrp.group_mrp_user', 'rwcu']],
    order: 'sequence, id',
    displayName: (env, r) => `${String(env.get('mrp.production', r.production_id as number)?.name ?? '')} - ${String(r.name)}`,
    fields: {
      name: char('Work Order', { required: true }),
      production_id: m2o('mrp.production', 'Manufacturing Order', { required: true }),
      workcenter_id: m2o('mrp.workcenter', 'Work Center', { required: true }),
      operation_id: m2o('mrp.routing.workcenter', 'Operation'),
      product_id: computed('many2one', 'Product', (env, r) => env.get('mrp.production', r.production_id as number)?.product_id ?? false, {
        relation: 'product.product',
      }),
      state: sel(woStates, 'Status', { default: 'ready' }),
      sequence: int('Sequence', { default: 100 }),
      qty_production: computed('float', 'Original Production Quantity', (env, r) => num(env.get('mrp.production', r.production_id as number)?.product_qty)),
      qty_producing: float('Currently Produced Quantity'),
      qty_produced: float('Quantity'),
      qty_remaining: computed('float', 'Quantity To Be Produced', (env, r) =>
        round(Math.max(0, num(env.get('mrp.production', r.production_id as number)?.product_qty) - num(r.qty_produced))),
      ),
      duration_expected: float('Expected Duration'),
      duration: computed('float', 'Real Duration', (env, r) =>
        round(
          env.db
            .all('mrp.workcenter.productivity')
            .filter((t) => t.workorder_id === r.id)
            .reduce((s, t) => s + num(env.value('mrp.workcenter.productivity', t, 'duration')), 0),
        ),
      ),
      date_start: datetime('Start'),
      date_finished: datetime('End'),
      time_ids: o2m('mrp.workcenter.productivity', 'workorder_id', 'Time Logs'),
      production_state: computed('selection', 'Production State', (env, r) => env.get('mrp.production', r.production_id as number)?.state ?? false, {
        selection: [],
      }),
      working_state: computed('selection', 'Workcenter Status', (env, r) => workingState(env, r.workcenter_id as number), { selection: [] }),
    },
    methods: woMethods,
  });

  defs.push({
    name: 'mrp.bom',
    description: 'Bill of Material',
    module: 'mrp',
    displayName: (env, r) => {
      const t = env.get('product.template', r.product_tmpl_id as number);
      const name = t ? env.displayName('product.template', t) : String(r.id);
      return r.code ? `${String(r.code)}: ${name}` : name;
    },
    // Odoo requires the template (a bill for all its variants) and takes a variant optionally.
    // The simulator also accepts a variant alone and fills its template in (Odoo refuses that:
    // "Missing required value for the field 'Product' (product_tmpl_id)").
    prepareCreate: (env, vals) => {
      if (!vals.product_tmpl_id && typeof vals.product_id === 'number')
        vals.product_tmpl_id = env.get('product.product', vals.product_id)?.product_tmpl_id ?? false;
    },
    fields: {
      product_tmpl_id: m2o('product.template', 'Product', { required: true }),
      product_id: m2o('product.product', 'Product Variant'),
      active: bool('Active', { default: true }),
      product_qty: float('Quantity', { default: 1, required: true }),
      code: char('Reference'),
      consumption: sel(
        [
          ['flexible', 'Allowed'],
          ['warning', 'Allowed with warning'],
          ['strict', 'Blocked'],
        ],
        'Flexible Consumption',
        { default: 'warning', required: true },
      ),
      bom_line_ids: o2m('mrp.bom.line', 'bom_id', 'BoM Lines'),
      operation_ids: o2m('mrp.routing.workcenter', 'bom_id', 'Operations'),
    },
  });
  defs.push({
    name: 'mrp.bom.line',
    description: 'Bill of Material Line',
    module: 'mrp',
    displayName: (env, r) => String(env.get('product.product', r.product_id as number)?.name ?? r.id),
    fields: {
      bom_id: m2o('mrp.bom', 'Parent BoM', { required: true }),
      product_id: m2o('product.product', 'Component', { required: true }),
      product_qty: float('Quantity', { default: 1, required: true }),
    },
  });
  defs.push({
    name: 'mrp.routing.workcenter',
    description: 'Work Center Usage',
    module: 'mrp',
    acl: [
      ['mrp.group_mrp_user', 'r---'],
      ['mrp.group_mrp_manager', 'rwcu'],
    ],
    fields: {
      name: char('Operation', { required: true }),
      bom_id: m2o('mrp.bom', 'Bill of Material', { required: true }),
      workcenter_id: m2o('mrp.workcenter', 'Work Center', { required: true }),
      time_mode: sel(
        [
          ['manual', 'Fixed'],
          ['auto', 'Computed'],
        ],
        'Duration Computation',
        { default: 'manual' },
      ),
      time_cycle_manual: float('Manual Duration', { default: 60 }),
      // Computed from the manual duration (the simulator keeps no work order history for 'auto').
      time_cycle: computed('float', 'Cycles', (_env, r) => num(r.time_cycle_manual)),
      sequence: int('Sequence', { default: 100 }),
    },
  });

  const moStates: Array<[string, string]> = [
    ['draft', 'Draft'],
    ['confirmed', 'Confirmed'],
    ['progress', 'In Progress'],
    ['to_close', 'To Close'],
    ['done', 'Done'],
    ['cancel', 'Cancelled'],
  ];
  const moFields: Record<string, FieldDef> = {
    name: char('Reference', { default: 'New' }),
    product_id: m2o('product.product', 'Product', { required: true }),
    product_qty: float('Quantity To Produce', { default: 1, required: true }),
    product_uom_id: m2o('uom.uom', 'Unit', {
      default: (env: Env, vals: Record<string, unknown>) =>
        (typeof vals.product_id === 'number' ? env.get('product.product', vals.product_id)?.uom_id : false) ?? false,
    }),
    qty_producing: float('Quantity Producing'),
    qty_produced: computed('float', 'Quantity Produced', (env, r) =>
      round(
        env.db
          .all('stock.move')
          .filter((m) => m.production_id === r.id && m.state === 'done' && m.product_id === r.product_id)
          .reduce((s, m) => s + num(m.quantity), 0),
      ),
    ),
    state: sel(moStates, 'State', { default: 'draft' }),
    bom_id: m2o('mrp.bom', 'Bill of Material'),
    picking_type_id: m2o('stock.picking.type', 'Operation Type', {
      default: (env: Env) => env.db.all('stock.picking.type').find((t) => t.code === 'mrp_operation')?.id ?? false,
    }),
    location_src_id: m2o('stock.location', 'Components Location'),
    location_dest_id: m2o('stock.location', 'Finished Products Location'),
    move_raw_ids: o2m('stock.move', 'raw_material_production_id', 'Components'),
    move_finished_ids: o2m('stock.move', 'production_id', 'Finished Products'),
    workorder_ids: o2m('mrp.workorder', 'production_id', 'Work Orders'),
    date_start: datetime('Start'),
    date_finished: datetime('End'),
    date_deadline: datetime('Deadline'),
    company_id: m2o('res.company', 'Company', { default: (env: Env) => env.db.all('res.company').sort((a, b) => a.id - b.id)[0]?.id ?? false }),
    origin: char('Source'),
    consumption: sel(
      [
        ['flexible', 'Allowed'],
        ['warning', 'Allowed with warning'],
        ['strict', 'Blocked'],
      ],
      'Consumption',
      { default: 'warning' },
    ),
    priority: sel(
      [
        ['0', 'Normal'],
        ['1', 'Urgent'],
      ],
      'Priority',
      { default: '0' },
    ),
    is_locked: bool('Is Locked', { default: false }),
    backorder_sequence: int('Backorder Sequence'),
    production_group: int('Production Group'),
    reservation_state: computed('selection', 'MO Readiness', () => 'assigned', { selection: [] }),
  };
  if (v >= 19) moFields.lot_producing_ids = m2m('stock.lot', 'Lot/Serial Numbers');
  else moFields.lot_producing_id = m2o('stock.lot', 'Lot/Serial Number');
  defs.push({
    name: 'mrp.production',
    description: 'Production Order',
    module: 'mrp',
    acl: [
      ['mrp.group_mrp_user', 'rwcu'],
      ['stock.group_stock_user', 'r---'],
    ],
    order: 'priority desc, date_start, id',
    fields: moFields,
    prepareCreate: (env, vals) => {
      if (!vals.name || vals.name === 'New') vals.name = `WH/MO/${String(env.db.nextSequence('mrp.production')).padStart(5, '0')}`;
      const type = env.db.all('stock.picking.type').find((t) => t.code === 'mrp_operation');
      vals.location_src_id ??= type?.default_location_src_id ?? false;
      vals.location_dest_id ??= type?.default_location_dest_id ?? false;
      if (vals.bom_id === undefined && typeof vals.product_id === 'number') vals.bom_id = findBom(env, vals.product_id);
      if (typeof vals.bom_id === 'number' && vals.consumption === undefined) vals.consumption = env.get('mrp.bom', vals.bom_id)?.consumption ?? 'warning';
    },
    afterWrite: (env, ids, vals) => {
      for (const mid of ids) {
        if ('qty_producing' in vals || 'state' in vals) recomputeProductionState(env, mid);
      }
    },
    methods: {
      action_confirm: recordMethod((env, ids) => {
        for (const mid of ids) {
          const mo = env.browse('mrp.production', mid);
          if (mo.state !== 'draft') continue;
          createProductionMoves(env, mid);
          createWorkorders(env, mid);
          env.set('mrp.production', mid, { state: 'confirmed' });
        }
        return true;
      }),
      action_assign: recordMethod(() => true),
      set_qty_producing: recordMethod((env, ids) => {
        applyQtyProducing(env, singleton('mrp.production', ids));
        return undefined;
      }),
      button_mark_done: recordMethod((env, ids) => {
        let result: unknown = true;
        for (const mid of ids) {
          const r = markDone(env, mid);
          if (r !== true) return r;
          result = r;
        }
        return result;
      }),
      action_cancel: recordMethod((env, ids) => {
        for (const mid of ids) {
          const mo = env.browse('mrp.production', mid);
          if (mo.state === 'done') throw userError('You cannot cancel a manufacturing order that is already done.');
        }
        for (const mid of ids) {
          for (const m of env.db.all('stock.move').filter((x) => (x.raw_material_production_id === mid || x.production_id === mid) && x.state !== 'done'))
            env.set('stock.move', m.id, { state: 'cancel' });
          for (const w of env.db.all('mrp.workorder').filter((x) => x.production_id === mid && x.state !== 'done')) {
            closeTimeLines(env, (t) => t.workorder_id === w.id);
            env.set('mrp.workorder', w.id, { state: 'cancel' });
          }
          env.set('mrp.production', mid, { state: 'cancel' });
        }
        return true;
      }),
    },
  });

  // ---- maintenance ----------------------------------------------------------------
  defs.push({
    name: 'maintenance.stage',
    description: 'Maintenance Stage',
    module: 'maintenance',
    order: 'sequence, id',
    fields: { name: char('Name', { required: true }), sequence: int('Sequence', { default: 20 }), done: bool('Request Done', { default: false }) },
  });
  defs.push({
    name: 'maintenance.equipment',
    description: 'Maintenance Equipment',
    module: 'maintenance',
    acl: [
      ['base.group_user', 'r---'],
      ['maintenance.group_equipment_manager', 'rwcu'],
    ],
    displayName: (_env, r) => (r.serial_no ? `${String(r.name)}/${String(r.serial_no)}` : String(r.name)),
    fields: {
      name: char('Equipment Name', { required: true }),
      serial_no: char('Serial Number'),
      location: char('Location'),
      workcenter_id: m2o('mrp.workcenter', 'Work Center'),
      technician_user_id: m2o('res.users', 'Technician'),
      active: bool('Active', { default: true }),
      maintenance_open_count: computed(
        'integer',
        'Current Maintenance',
        (env, r) =>
          env.db.all('maintenance.request').filter((q) => q.equipment_id === r.id && !env.get('maintenance.stage', q.stage_id as number)?.done).length,
      ),
    },
  });
  defs.push({
    name: 'maintenance.request',
    description: 'Maintenance Request',
    module: 'maintenance',
    acl: [['base.group_user', 'rwcu']],
    order: 'id desc',
    fields: {
      name: char('Subjects', { required: true }),
      description: { type: 'html', string: 'Description' },
      equipment_id: m2o('maintenance.equipment', 'Equipment'),
      maintenance_type: sel(
        [
          ['corrective', 'Corrective'],
          ['preventive', 'Preventive'],
        ],
        'Maintenance Type',
        { default: 'corrective' },
      ),
      priority: sel(
        [
          ['0', 'Very Low'],
          ['1', 'Low'],
          ['2', 'Normal'],
          ['3', 'High'],
        ],
        'Priority',
        { default: '0' },
      ),
      request_date: date('Request Date', { default: (env: Env) => env.now().slice(0, 10) }),
      schedule_date: datetime('Scheduled Date'),
      close_date: date('Close Date'),
      stage_id: m2o('maintenance.stage', 'Stage', { default: (env: Env) => env.search('maintenance.stage', [], { limit: 1 })[0] ?? false }),
      user_id: m2o('res.users', 'Technician'),
      owner_user_id: m2o('res.users', 'Created by User', { default: (env: Env) => env.uid }),
      production_id: m2o('mrp.production', 'Manufacturing Order'),
      workorder_id: m2o('mrp.workorder', 'Work Order'),
      workcenter_id: m2o('mrp.workcenter', 'Work Center'),
      done: computed('boolean', 'Done', (env, r) => !!env.get('maintenance.stage', r.stage_id as number)?.done),
    },
    afterWrite: (env, ids, vals, created) => {
      if (env.version >= 18 && created) {
        // Odoo 18+ posts to the chatter on create: the author needs an email address.
        const u = env.get('res.users', env.uid);
        if (u && !u.email) throw userError("Unable to post message, please configure the sender's email address.");
      }
      if ('stage_id' in vals) {
        for (const rid of ids) {
          const r = env.browse('maintenance.request', rid);
          const done = !!env.get('maintenance.stage', r.stage_id as number)?.done;
          env.set('maintenance.request', rid, { close_date: done ? env.now().slice(0, 10) : false });
        }
      }
    },
  });

  // ---- quality (switchable modules) ------------------------------------------------
  // Enterprise: quality + quality_control (+ quality_mrp, installed with mrp), as in their 17/18/19
  // sources. 17/18: a check's team and test type are plain required fields (create copies the test
  // type and note from the control point, nothing fills the team); 19: both follow the control
  // point, else the first team and the pass/fail test type.
  const firstTeam = (env: Env): number => {
    const t = env.search('quality.alert.team', [], { limit: 1 })[0];
    if (t === undefined) {
      throw userError(
        env.version >= 19
          ? 'No quality teams found for this company! Head over to the configuration menu to create your first quality team.'
          : 'No quality team found for this company.\nPlease go to configuration and create one first.',
      );
    }
    return t;
  };
  const passFailType = (env: Env): number | false => env.search('quality.point.test_type', [['technical_name', '=', 'passfail']], { limit: 1 })[0] ?? false;
  const testTypeName = (env: Env, typeId: unknown) =>
    typeof typeId === 'number' ? (env.get('quality.point.test_type', typeId)?.technical_name ?? false) : false;
  const measureOn = sel(
    [
      ['operation', 'Operation'],
      ['product', 'Product'],
      ['move_line', 'Quantity'],
    ],
    'Control per',
    { default: 'product', required: true },
  );
  defs.push({
    name: 'quality.alert.team',
    description: 'Quality Alert Team',
    module: 'quality_control',
    order: 'sequence, id',
    fields: { name: char('Name', { required: true }), sequence: int('Sequence'), color: int('Color', { default: 1 }) },
  });
  defs.push({
    name: 'quality.point.test_type',
    description: 'Quality Control Test Type',
    module: 'quality_control',
    fields: { name: char('Name', { required: true }), technical_name: char('Technical name', { required: true }), active: bool('active', { default: true }) },
  });
  defs.push({
    name: 'quality.point',
    description: 'Quality Control Point',
    module: 'quality_control',
    order: 'sequence, id',
    fields: {
      name: char('Reference', { required: true, default: 'New' }),
      sequence: int('Sequence'),
      title: char('Title'),
      team_id: m2o('quality.alert.team', 'Team', { required: true, default: (env: Env) => firstTeam(env) }),
      product_ids: m2m('product.product', 'Products'),
      // Required in Odoo's definition, but not checked on create (a many2many has no NOT NULL column).
      picking_type_ids: m2m('stock.picking.type', 'Operation Types', { required: true }),
      user_id: m2o('res.users', 'Responsible'),
      active: bool('Active', { default: true }),
      check_ids: o2m('quality.check', 'point_id', 'Checks'),
      test_type_id: m2o('quality.point.test_type', 'Test Type', { required: true, default: (env: Env) => passFailType(env) }),
      test_type: computed('char', 'Test Type', (env, r) => testTypeName(env, r.test_type_id)),
      note: { type: 'html', string: 'Note' },
      measure_on: measureOn,
      measure_frequency_type: sel(
        [
          ['all', 'All'],
          ['random', 'Randomly'],
          ['periodical', 'Periodically'],
          ['on_demand', 'On-demand'],
        ],
        'Control Frequency',
        { default: 'all', required: true },
      ),
      norm: float('Norm'),
      tolerance_min: float('Min Tolerance'),
      tolerance_max: float('Max Tolerance'),
      norm_unit: char('Norm Unit', { default: 'mm' }),
    },
    prepareCreate: (env, vals) => {
      if (!vals.name || vals.name === 'New') vals.name = `QCP${String(env.db.nextSequence('quality.point')).padStart(5, '0')}`;
    },
  });
  const point = (env: Env, vals: Record<string, unknown>) => (typeof vals.point_id === 'number' ? env.get('quality.point', vals.point_id) : undefined);
  const checkFields: Record<string, FieldDef> = {
    name: char('Reference'),
    point_id: m2o('quality.point', 'Control Point'),
    title: char('Title'),
    quality_state: sel(
      [
        ['none', 'To do'],
        ['pass', 'Passed'],
        ['fail', 'Failed'],
      ],
      'Status',
      { default: 'none' },
    ),
    control_date: datetime('Control Date'),
    product_id: m2o('product.product', 'Product'),
    picking_id: m2o('stock.picking', 'Picking'),
    production_id: m2o('mrp.production', 'Production Order'),
    user_id: m2o('res.users', 'Responsible'),
    team_id: m2o(
      'quality.alert.team',
      'Team',
      v >= 19 ? { required: true, default: (env: Env, vals: Record<string, unknown>) => point(env, vals)?.team_id ?? firstTeam(env) } : { required: true },
    ),
    note: { type: 'html', string: 'Note' },
    test_type_id: m2o(
      'quality.point.test_type',
      'Test Type',
      v >= 19
        ? { required: true, default: (env: Env, vals: Record<string, unknown>) => point(env, vals)?.test_type_id ?? passFailType(env) }
        : { required: true },
    ),
    test_type: computed('char', 'Test Type', (env, r) => testTypeName(env, r.test_type_id)),
    measure: float('Measure'),
    measure_on: measureOn,
    additional_note: text('Additional Note'),
    measure_success: computed(
      'selection',
      'Measure Success',
      (env, r) => {
        const pt = typeof r.point_id === 'number' ? env.get('quality.point', r.point_id) : undefined;
        if (!pt || testTypeName(env, pt.test_type_id) === 'passfail') return 'none';
        return num(r.measure) < num(pt.tolerance_min) || num(r.measure) > num(pt.tolerance_max) ? 'fail' : 'pass';
      },
      {
        selection: [
          ['none', 'No measure'],
          ['pass', 'Pass'],
          ['fail', 'Fail'],
        ],
      },
    ),
  };
  // 19 records several lots on a check; 17/18 one.
  if (v >= 19) checkFields.lot_ids = m2m('stock.lot', 'Lot/Serial');
  else checkFields.lot_id = m2o('stock.lot', 'Lot/Serial');
  const decide = (state: 'pass' | 'fail') =>
    recordMethod((env, ids) => {
      for (const qid of ids) env.set('quality.check', qid, { quality_state: state, user_id: env.uid, control_date: env.now() });
      return undefined; // do_pass / do_fail return None
    });
  defs.push({
    name: 'quality.check',
    description: 'Quality Check',
    module: 'quality_control',
    order: v >= 19 ? 'point_id, id' : 'id',
    fields: checkFields,
    prepareCreate: (env, vals) => {
      if (!vals.name || vals.name === 'New') vals.name = `QC${String(env.db.nextSequence('quality.check')).padStart(5, '0')}`;
      const pt = point(env, vals);
      if (!pt) return;
      if (!vals.test_type_id) vals.test_type_id = pt.test_type_id;
      if (!vals.note) vals.note = pt.note;
      if (vals.title === undefined) vals.title = pt.title;
      if (v >= 19 && vals.team_id === undefined) vals.team_id = pt.team_id;
    },
    afterWrite: (env, ids, vals, created) => {
      // write(): a result set by hand records who and when, as do_pass / do_fail do.
      if (created || !('quality_state' in vals) || vals.control_date) return;
      if (vals.quality_state === 'pass' || vals.quality_state === 'fail') {
        for (const qid of ids) env.set('quality.check', qid, { user_id: env.uid, control_date: env.now() });
      }
    },
    methods: { do_pass: decide('pass'), do_fail: decide('fail') },
  });

  // Community: OCA quality_control_oca (17.0 sources): tests with questions, inspections with lines.
  defs.push({
    name: 'qc.test.category',
    description: 'Test category',
    module: 'quality_control_oca',
    fields: { name: char('Name', { required: true }), active: bool('Active', { default: true }) },
  });
  defs.push({
    name: 'qc.test',
    description: 'Quality control test',
    module: 'quality_control_oca',
    fields: {
      active: bool('Active', { default: true }),
      name: char('Name', { required: true }),
      test_lines: o2m('qc.test.question', 'test', 'Questions'),
      // object_selection_values() is empty in the base module: no reference can be set.
      object_id: { type: 'reference', string: 'Reference object', selection: [] },
      fill_correct_values: bool('Pre-fill with correct values'),
      type: sel(
        [
          ['generic', 'Generic'],
          ['related', 'Related'],
        ],
        'Type',
        { required: true, default: 'generic' },
      ),
      category: m2o('qc.test.category', 'Category'),
    },
  });
  const questionTypes: Array<[string, string]> = [
    ['qualitative', 'Qualitative'],
    ['quantitative', 'Quantitative'],
  ];
  defs.push({
    name: 'qc.test.question',
    description: 'Quality control question',
    module: 'quality_control_oca',
    order: 'sequence, id',
    fields: {
      sequence: int('Sequence', { required: true, default: 10 }),
      test: m2o('qc.test', 'Test'),
      name: char('Name', { required: true }),
      type: sel(questionTypes, 'Type', { required: true }),
      ql_values: o2m('qc.test.question.value', 'test_line', 'Qualitative values'),
      notes: text('Notes'),
      min_value: float('Min'),
      max_value: float('Max'),
      uom_id: m2o('uom.uom', 'Uom'),
    },
  });
  defs.push({
    name: 'qc.test.question.value',
    description: 'Possible values for qualitative questions.',
    module: 'quality_control_oca',
    fields: { test_line: m2o('qc.test.question', 'Test question'), name: char('Name', { required: true }), ok: bool('Correct answer?') },
  });
  const inspectionSuccess = (env: Env, inspectionId: number): boolean =>
    env.db
      .all('qc.inspection.line')
      .filter((l) => l.inspection_id === inspectionId)
      .every((l) => lineSuccess(env, l));
  function lineSuccess(env: Env, l: Rec): boolean {
    if (l.question_type === 'qualitative') return typeof l.qualitative_value === 'number' && !!env.get('qc.test.question.value', l.qualitative_value)?.ok;
    return num(l.max_value) >= num(l.quantitative_value) && num(l.quantitative_value) >= num(l.min_value);
  }
  const setState = (state: string) =>
    recordMethod((env, ids) => {
      env.write('qc.inspection', ids, { state });
      return undefined;
    });
  defs.push({
    name: 'qc.inspection',
    description: 'Quality control inspection',
    module: 'quality_control_oca',
    fields: {
      name: char('Inspection number', { required: true, default: '/' }),
      date: datetime('Date', { required: true, default: (env: Env) => env.now() }),
      // object_selection_values(): products in the base module (the stock and mrp add-ons add more).
      object_id: { type: 'reference', string: 'Reference', selection: [['product.product', 'Product']] },
      product_id: computed(
        'many2one',
        'Product',
        (_env, r) => {
          const [m, rid] = typeof r.object_id === 'string' ? r.object_id.split(',') : [];
          return m === 'product.product' ? Number(rid) : false;
        },
        { relation: 'product.product', stored: true },
      ),
      qty: float('Quantity', { default: 1 }),
      test: m2o('qc.test', 'Test'),
      inspection_lines: o2m('qc.inspection.line', 'inspection_id', 'Inspection lines'),
      internal_notes: text('Internal notes'),
      external_notes: text('External notes'),
      state: sel(
        [
          ['draft', 'Draft'],
          ['ready', 'Ready'],
          ['waiting', 'Waiting supervisor approval'],
          ['success', 'Quality success'],
          ['failed', 'Quality failed'],
          ['canceled', 'Canceled'],
        ],
        'State',
        { default: 'draft' },
      ),
      success: computed('boolean', 'Success', (env, r) => inspectionSuccess(env, r.id), { stored: true }),
      auto_generated: bool('Auto-generated'),
      user: m2o('res.users', 'Responsible', { default: (env: Env) => env.uid }),
    },
    prepareCreate: (env, vals) => {
      if ((vals.name ?? '/') === '/') vals.name = `QC-${String(env.db.nextSequence('qc.inspection')).padStart(6, '0')}`;
    },
    beforeUnlink: (env, ids) => {
      for (const i of ids) {
        const r = env.browse('qc.inspection', i);
        if (r.auto_generated) throw userError('You cannot remove an auto-generated inspection.');
        if (r.state !== 'draft') throw userError('You cannot remove an inspection that is not in draft state.');
      }
    },
    // Each of these returns None in the module.
    methods: {
      action_draft: setState('draft'),
      action_todo: recordMethod((env, ids) => {
        for (const i of ids) if (!env.browse('qc.inspection', i).test) throw userError('You must first set the test to perform.');
        env.write('qc.inspection', ids, { state: 'ready' });
        return undefined;
      }),
      action_confirm: recordMethod((env, ids) => {
        for (const i of ids) {
          for (const line of env.db.all('qc.inspection.line').filter((l) => l.inspection_id === i)) {
            if (line.question_type === 'qualitative' && !line.qualitative_value) throw userError('You should provide an answer for all qualitative questions.');
            if (line.question_type !== 'qualitative' && !line.uom_id) throw userError('You should provide a unit of measure for quantitative questions.');
          }
          env.write('qc.inspection', [i], { state: inspectionSuccess(env, i) ? 'success' : 'waiting' });
        }
        return undefined;
      }),
      action_approve: recordMethod((env, ids) => {
        for (const i of ids) env.write('qc.inspection', [i], { state: inspectionSuccess(env, i) ? 'success' : 'failed' });
        return undefined;
      }),
      action_cancel: setState('canceled'),
    },
  });
  defs.push({
    name: 'qc.inspection.line',
    description: 'Quality control inspection line',
    module: 'quality_control_oca',
    fields: {
      inspection_id: m2o('qc.inspection', 'Inspection'),
      name: char('Question'),
      test_line: m2o('qc.test.question', 'Test question'),
      quantitative_value: float('Quantitative value'),
      qualitative_value: m2o('qc.test.question.value', 'Qualitative value'),
      notes: text('Notes'),
      min_value: float('Min'),
      max_value: float('Max'),
      test_uom_id: m2o('uom.uom', 'Test UoM'),
      uom_id: m2o('uom.uom', 'UoM'),
      question_type: sel(questionTypes, 'Question type'),
      success: computed('boolean', 'Success?', (env, r) => lineSuccess(env, r), { stored: true }),
    },
  });

  // Companies: the models whose records belong to a company. `current`: Odoo fills in the
  // company of the call (allowed_company_ids, else the user's); `shared`: none unless given
  // (a product or location shared by every company).
  const companyOf: Record<string, 'current' | 'shared'> = {
    'product.template': 'shared',
    'product.product': 'shared',
    'stock.location': 'shared',
    'maintenance.equipment': 'shared',
    'stock.lot': 'current',
    'stock.warehouse': 'current',
    'stock.picking.type': 'current',
    'mrp.workcenter': 'current',
    'mrp.production': 'current',
  };
  for (const d of defs) {
    const kind = companyOf[d.name];
    if (kind) d.fields.company_id = m2o('res.company', 'Company', kind === 'current' ? { default: (env: Env) => env.currentCompany() } : {});
  }
  for (const d of defs) db.define(d);
}

function lossType(env: Env, t: Rec): string {
  return String(env.get('mrp.workcenter.productivity.loss', t.loss_id as number)?.loss_type ?? 'availability');
}

function workingState(env: Env, workcenterId: number): string {
  const open = env.db.all('mrp.workcenter.productivity').filter((t) => t.workcenter_id === workcenterId && !t.date_end);
  if (open.some((t) => !['productive', 'performance'].includes(lossType(env, t)))) return 'blocked';
  if (open.length > 0) return 'done';
  return 'normal';
}

/** Modules the simulator knows, with their display names (ir.module.module). */
export const KNOWN_MODULES: Array<[string, string]> = [
  ['base', 'Base'],
  ['uom', 'Units of measure'],
  ['product', 'Products & Pricelists'],
  ['stock', 'Inventory'],
  ['mrp', 'Manufacturing'],
  ['maintenance', 'Maintenance'],
  ['quality_control', 'Quality'],
  ['quality_control_oca', 'Quality Control (OCA)'],
  ['account', 'Invoicing'],
  ['stock_account', 'WMS Accounting'],
];
