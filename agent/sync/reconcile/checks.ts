import type { OutboxRecord } from '../../buffer/outbox';
import type { CanonicalEvent, EventOf } from '../../model/event';
import { externalId, m2oId, m2oName, odooDatetime, sameQuantity } from '../operations/odoo-calls';

/**
 * Per event type: which Odoo records a done event wrote (from the ids stored
 * with it), which fields to read back, and whether they hold what the event
 * says. Pure: the reads happen in reconcile.ts.
 */

export type Row = Record<string, unknown>;

export interface FieldDifference {
  field: string;
  event: unknown;
  odoo: unknown;
}

export type Finding =
  | { status: 'ok' }
  | { status: 'missing'; model: string; recordId: number | null; what: string }
  | { status: 'differs'; model: string; recordId: number; differences: FieldDifference[] }
  | { status: 'unverifiable'; what: string };

/** What a check may look at besides the event: the records read back, and facts of the whole run. */
export interface CheckContext {
  major: number;
  read(model: string, id: number): Row | undefined;
  /** For production totals: the seq of the latest done production.reported of each order. */
  latestTotal: ReadonlyMap<string, number>;
}

export interface TypeCheck {
  /** The records to read back, from the ids stored with the event; undefined when none were stored. */
  targets(rec: OutboxRecord): Array<{ model: string; id: number }> | undefined;
  /** Where none were stored: the external id the event's record carries, and its model (keyed creates only). */
  externalId?(event: CanonicalEvent, module: string): { model: string; xmlid: string } | undefined;
  verify(rec: OutboxRecord, ctx: CheckContext): Finding;
}

/** Fields read back per model (the union every check of that model needs). */
export function fieldsOf(model: string, major: number): string[] {
  switch (model) {
    case 'mrp.production':
      return ['id', 'name', 'state', 'qty_producing', 'qty_produced', major >= 19 ? 'lot_producing_ids' : 'lot_producing_id'];
    case 'stock.move.line':
      return ['id', 'quantity', 'lot_id', 'lot_name', 'move_id', 'picked'];
    case 'stock.move':
      return ['id', 'quantity', 'state'];
    case 'stock.scrap':
      return ['id', 'scrap_qty', 'lot_id', 'production_id', 'state'];
    case 'mrp.workcenter.productivity':
      return ['id', 'workcenter_id', 'loss_id', 'date_start', 'date_end'];
    case 'maintenance.request':
      return ['id', 'name', 'maintenance_type'];
    case 'mrp.workorder':
      return ['id', 'state'];
    case 'stock.picking':
      return ['id', 'state'];
    case 'quality.check':
      return ['id', 'quality_state'];
    case 'qc.inspection':
      return ['id', 'state'];
    default:
      return ['id'];
  }
}

function idsOf(rec: OutboxRecord, ...models: string[]): Array<{ model: string; id: number }> | undefined {
  const ids = rec.odooIds;
  if (!ids || Object.keys(ids).length === 0) return undefined;
  const out: Array<{ model: string; id: number }> = [];
  for (const m of models) {
    const v = ids[m];
    for (const id of Array.isArray(v) ? v : v === undefined ? [] : [v]) out.push({ model: m, id });
  }
  return out;
}

/** The first stored record of `model` and its row, or a missing finding. */
function first(rec: OutboxRecord, ctx: CheckContext, model: string, what: string): { id: number; row: Row } | Finding {
  const v = rec.odooIds?.[model];
  if (Array.isArray(v) && v.length === 0) return { status: 'missing', model, recordId: null, what: `${what} (no record carries its external id)` };
  const id = Array.isArray(v) ? v[0] : v;
  if (id === undefined) return { status: 'unverifiable', what: `no ${model} id stored with the event` };
  const row = ctx.read(model, id);
  if (!row) return { status: 'missing', model, recordId: id, what };
  return { id, row };
}

function isFinding(x: { id: number; row: Row } | Finding): x is Finding {
  return 'status' in x;
}

function result(model: string, id: number, diffs: FieldDifference[]): Finding {
  return diffs.length ? { status: 'differs', model, recordId: id, differences: diffs } : { status: 'ok' };
}

function qty(diffs: FieldDifference[], field: string, event: number, odoo: unknown): void {
  if (!sameQuantity(event, Number(odoo ?? 0))) diffs.push({ field, event, odoo });
}

function text(diffs: FieldDifference[], field: string, event: string | undefined, odoo: unknown, caseless = false): void {
  if (event === undefined) return;
  const o = typeof odoo === 'string' ? odoo : odoo === false || odoo === null || odoo === undefined ? '' : String(odoo);
  if (caseless ? o.toLowerCase() !== event.toLowerCase() : o !== event) diffs.push({ field, event, odoo: o || null });
}

/** A many2one field's id against the one stored with the event. */
function ref(diffs: FieldDifference[], field: string, stored: number | number[] | undefined, odoo: unknown): void {
  const want = Array.isArray(stored) ? stored[0] : stored;
  if (want !== undefined && m2oId(odoo) !== want) diffs.push({ field, event: want, odoo: m2oId(odoo) ?? null });
}

const production = (what: string, verify: (rec: OutboxRecord, mo: { id: number; row: Row }, ctx: CheckContext) => FieldDifference[]): TypeCheck => ({
  targets: (rec) => idsOf(rec, 'mrp.production', 'mrp.workorder'),
  verify(rec, ctx) {
    const mo = first(rec, ctx, 'mrp.production', `the manufacturing order ${what} is gone`);
    if (isFinding(mo)) return mo;
    return result('mrp.production', mo.id, verify(rec, mo, ctx));
  },
});

const workorder = (done: boolean): TypeCheck => ({
  targets: (rec) => idsOf(rec, 'mrp.workorder', 'mrp.production'),
  verify(rec, ctx) {
    const wo = first(rec, ctx, 'mrp.workorder', 'the work order is gone');
    if (isFinding(wo)) return wo;
    const state = String(wo.row.state);
    const diffs: FieldDifference[] = [];
    if (done ? state !== 'done' : state === 'cancel') diffs.push({ field: 'state', event: done ? 'done' : 'started', odoo: state });
    return result('mrp.workorder', wo.id, diffs);
  },
});

const keyed = (model: string, kind: string, key: (e: CanonicalEvent) => string) => (event: CanonicalEvent, module: string) => ({
  model,
  xmlid: externalId(module, kind, key(event)),
});

const downtime = (field: 'date_start' | 'date_end'): TypeCheck => ({
  targets: (rec) => idsOf(rec, 'mrp.workcenter.productivity'),
  externalId: keyed('mrp.workcenter.productivity', 'downtime', (e) => (e as EventOf<'downtime.started'>).payload.downtimeId),
  verify(rec, ctx) {
    const r = first(rec, ctx, 'mrp.workcenter.productivity', 'the downtime record is gone');
    if (isFinding(r)) return r;
    const p = (rec.event as EventOf<'downtime.started'> | EventOf<'downtime.ended'>).payload;
    const diffs: FieldDifference[] = [];
    text(diffs, field, odooDatetime(rec.event.occurredAt), r.row[field]);
    const wc = ctx.read('mrp.workcenter', m2oId(r.row.workcenter_id) ?? 0);
    if (wc && wc.name !== p.workcenter && wc.code !== p.workcenter) diffs.push({ field: 'workcenter_id', event: p.workcenter, odoo: wc.name });
    const loss = ctx.read('mrp.workcenter.productivity.loss', m2oId(r.row.loss_id) ?? 0);
    if (field === 'date_start' && loss) text(diffs, 'loss_id', (p as { reason?: string }).reason, loss.name, true);
    return result('mrp.workcenter.productivity', r.id, diffs);
  },
});

export const CHECKS: Record<string, TypeCheck> = {
  'production.reported': production('reported on', (rec, mo, ctx) => {
    const p = (rec.event as EventOf<'production.reported'>).payload;
    const diffs: FieldDifference[] = [];
    if (mo.row.state === 'cancel') diffs.push({ field: 'state', event: 'open or done', odoo: 'cancel' });
    // Only the latest total of an order is what Odoo should hold now; an earlier one was superseded.
    if (ctx.latestTotal.get(String(p.production)) === rec.seq) {
      const field = mo.row.state === 'done' ? 'qty_produced' : 'qty_producing';
      qty(diffs, field, p.totalQuantity, mo.row[field]);
      const lot = rec.odooIds?.['stock.lot'];
      if (lot !== undefined && p.lot !== undefined) {
        const held = ctx.major >= 19 ? ((mo.row.lot_producing_ids as number[] | undefined) ?? []) : [m2oId(mo.row.lot_producing_id)];
        if (!held.includes(Array.isArray(lot) ? lot[0]! : lot)) diffs.push({ field: 'lot_producing', event: p.lot, odoo: held.filter(Boolean) });
      }
    }
    return diffs;
  }),
  'production.completed': production('completed', (_rec, mo) => (mo.row.state === 'done' ? [] : [{ field: 'state', event: 'done', odoo: mo.row.state }])),
  'material.consumed': {
    targets: (rec) => idsOf(rec, 'stock.move.line'),
    externalId: keyed('stock.move.line', 'consumed', (e) => e.id),
    verify(rec, ctx) {
      const line = first(rec, ctx, 'stock.move.line', 'the consumption line is gone');
      if (isFinding(line)) return line;
      const p = (rec.event as EventOf<'material.consumed'>).payload;
      const diffs: FieldDifference[] = [];
      qty(diffs, 'quantity', p.quantity, line.row.quantity);
      const lot = p.serial ?? p.lot;
      if (lot !== undefined && (line.row.lot_id || line.row.lot_name)) text(diffs, 'lot', lot, m2oName(line.row.lot_id) ?? line.row.lot_name);
      ref(diffs, 'move_id', rec.odooIds?.['stock.move'], line.row.move_id);
      if (line.row.picked === false) diffs.push({ field: 'picked', event: true, odoo: false });
      return result('stock.move.line', line.id, diffs);
    },
  },
  'scrap.reported': {
    targets: (rec) => idsOf(rec, 'stock.scrap'),
    externalId: keyed('stock.scrap', 'scrap', (e) => e.id),
    verify(rec, ctx) {
      const s = first(rec, ctx, 'stock.scrap', 'the scrap is gone');
      if (isFinding(s)) return s;
      const p = (rec.event as EventOf<'scrap.reported'>).payload;
      const diffs: FieldDifference[] = [];
      qty(diffs, 'scrap_qty', p.quantity, s.row.scrap_qty);
      if (p.lot !== undefined) text(diffs, 'lot_id', p.lot, m2oName(s.row.lot_id));
      ref(diffs, 'production_id', rec.odooIds?.['mrp.production'], s.row.production_id);
      if (s.row.state !== 'done') diffs.push({ field: 'state', event: 'done', odoo: s.row.state });
      return result('stock.scrap', s.id, diffs);
    },
  },
  'downtime.started': downtime('date_start'),
  'downtime.ended': downtime('date_end'),
  'maintenance.requested': {
    targets: (rec) => idsOf(rec, 'maintenance.request'),
    externalId: keyed('maintenance.request', 'maintenance', (e) => e.id),
    verify(rec, ctx) {
      const r = first(rec, ctx, 'maintenance.request', 'the maintenance request is gone');
      if (isFinding(r)) return r;
      const p = (rec.event as EventOf<'maintenance.requested'>).payload;
      const diffs: FieldDifference[] = [];
      text(diffs, 'name', p.name, r.row.name);
      text(diffs, 'maintenance_type', p.maintenanceType, r.row.maintenance_type);
      return result('maintenance.request', r.id, diffs);
    },
  },
  'workorder.started': workorder(false),
  'workorder.finished': workorder(true),
  'inventory.moved': {
    targets: (rec) => idsOf(rec, 'stock.picking', 'stock.move', 'stock.quant'),
    externalId: (e, module) =>
      (e as EventOf<'inventory.moved'>).payload.kind === 'transfer' ? keyed('stock.picking', 'transfer', (x) => x.id)(e, module) : undefined,
    verify(rec, ctx) {
      const p = (rec.event as EventOf<'inventory.moved'>).payload;
      if (p.kind === 'count') {
        const model = rec.odooIds?.['stock.quant'] !== undefined ? 'stock.quant' : 'stock.move';
        const r = first(rec, ctx, model, 'the counted stock record is gone');
        return isFinding(r) ? r : { status: 'ok' };
      }
      const pk = first(rec, ctx, 'stock.picking', 'the transfer is gone');
      if (isFinding(pk)) return pk;
      const diffs: FieldDifference[] = [];
      if (pk.row.state !== 'done') diffs.push({ field: 'state', event: 'done', odoo: pk.row.state });
      const moveId = rec.odooIds?.['stock.move'];
      const move = typeof moveId === 'number' ? ctx.read('stock.move', moveId) : undefined;
      if (move) qty(diffs, 'quantity', p.quantity, move.quantity);
      return result('stock.picking', pk.id, diffs);
    },
  },
  'quality.recorded': {
    targets: (rec) => idsOf(rec, 'quality.check', 'qc.inspection'),
    verify(rec, ctx) {
      const model = rec.odooIds?.['quality.check'] !== undefined ? 'quality.check' : 'qc.inspection';
      const r = first(rec, ctx, model, 'the quality record is gone');
      if (isFinding(r)) return r;
      const p = (rec.event as EventOf<'quality.recorded'>).payload;
      const diffs: FieldDifference[] = [];
      if (model === 'quality.check' && r.row.quality_state !== p.result) diffs.push({ field: 'quality_state', event: p.result, odoo: r.row.quality_state });
      return result(model, r.id, diffs);
    },
  },
};

/** A generic mapping's events: the record exists in its model (its fields are templates of the event, not compared). */
export function mappedCheck(model: string): TypeCheck {
  return {
    targets: (rec) => idsOf(rec, model),
    verify(rec, ctx) {
      const r = first(rec, ctx, model, `the ${model} record is gone`);
      return isFinding(r) ? r : { status: 'ok' };
    },
  };
}
