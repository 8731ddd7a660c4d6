/**
 * Test data made through the administrator client, the same calls on the
 * simulator and on a real Odoo. Every name carries the run id, so runs never
 * meet each other's records.
 */
import type { OdooClient } from '../../agent/odoo/types';
import type { Target } from './harness';

type Row = Record<string, unknown>;

export async function create(odoo: OdooClient, model: string, vals: Row, context?: Row): Promise<number> {
  const r = await odoo.call<number | number[]>(model, 'create', { kwargs: { vals_list: [vals] }, context });
  const id = Array.isArray(r) ? r[0] : r;
  if (typeof id !== 'number') throw new Error(`create ${model} returned ${JSON.stringify(r)}`);
  return id;
}

export async function read(odoo: OdooClient, model: string, domain: unknown[], fields: string[], extra: Row = {}): Promise<Row[]> {
  return (await odoo.call<Row[]>(model, 'search_read', { kwargs: { domain, fields, ...extra } })) ?? [];
}

export async function readId(odoo: OdooClient, model: string, id: number, fields: string[]): Promise<Row> {
  const rows = await read(odoo, model, [['id', '=', id]], fields);
  if (!rows[0]) throw new Error(`${model} ${id} not found`);
  return rows[0];
}

export const m2o = (v: unknown): number | undefined => (Array.isArray(v) ? (v[0] as number) : typeof v === 'number' ? v : undefined);

export interface ProductFixture {
  id: number;
  code: string;
  tmplId: number;
}

let counter = 0;

/**
 * Where the simulator's models are smaller than Odoo's (no product template,
 * no location hierarchy), the simulated branch uses the fields it has.
 */
export class Fixtures {
  constructor(readonly t: Target) {}

  get admin(): OdooClient {
    return this.t.admin;
  }

  name(what: string): string {
    return `EDGE-${what}-${this.t.run}-${++counter}`;
  }

  /** A storable product with an internal reference. */
  async product(what: string, tracking: 'none' | 'lot' | 'serial' = 'none'): Promise<ProductFixture> {
    const code = this.name(what);
    const vals: Row = { name: `Test ${code}`, default_code: code, tracking };
    if (this.t.server.major >= 18) Object.assign(vals, { type: 'consu', is_storable: true });
    else vals.detailed_type = 'product';
    const id = await create(this.admin, 'product.product', vals);
    if (this.t.simulated) return { id, code, tmplId: 0 };
    const p = await readId(this.admin, 'product.product', id, ['product_tmpl_id']);
    return { id, code, tmplId: m2o(p.product_tmpl_id)! };
  }

  async lot(productId: number, name = this.name('LOT')): Promise<{ id: number; name: string }> {
    return { id: await create(this.admin, 'stock.lot', { name, product_id: productId }), name };
  }

  async locationId(completeName: string): Promise<number> {
    const rows = await read(this.admin, 'stock.location', [['complete_name', '=', completeName]], ['id']);
    if (!rows[0]) throw new Error(`no location ${completeName}`);
    return rows[0].id as number;
  }

  /** A new internal location under WH/Stock; returns its full name. */
  async sublocation(): Promise<{ id: number; completeName: string }> {
    const parent = await this.locationId('WH/Stock');
    const name = this.name('BIN');
    const vals = this.t.simulated ? { name, complete_name: `WH/Stock/${name}`, usage: 'internal' } : { name, location_id: parent, usage: 'internal' };
    const id = await create(this.admin, 'stock.location', vals);
    const r = await readId(this.admin, 'stock.location', id, ['complete_name']);
    return { id, completeName: r.complete_name as string };
  }

  /** Put `qty` of a product (lot) on hand at a location, by an inventory adjustment. */
  async stock(productId: number, qty: number, location = 'WH/Stock', lotId?: number): Promise<void> {
    const locationId = await this.locationId(location);
    const vals: Row = { product_id: productId, location_id: locationId, inventory_quantity: qty };
    if (lotId !== undefined) vals.lot_id = lotId;
    const id = await create(this.admin, 'stock.quant', vals, { inventory_mode: true });
    await this.admin.call('stock.quant', 'action_apply_inventory', { ids: [id], context: { inventory_mode: true } });
  }

  async workcenter(): Promise<{ id: number; name: string; code: string }> {
    const name = this.name('WC');
    const code = `C${this.t.run}${counter}`.slice(-16);
    return { id: await create(this.admin, 'mrp.workcenter', { name, code }), name, code };
  }

  /** A loss reason Odoo has for manual downtime (its name). */
  async lossName(): Promise<string> {
    const rows = await read(
      this.admin,
      'mrp.workcenter.productivity.loss',
      [
        ['manual', '=', true],
        ['loss_type', '=', 'availability'],
      ],
      ['name'],
      {
        limit: 1,
        order: 'id',
      },
    );
    if (!rows[0]) throw new Error('Odoo has no manual availability loss reason');
    return rows[0].name as string;
  }

  async equipment(): Promise<{ id: number; name: string }> {
    const name = this.name('EQ');
    return { id: await create(this.admin, 'maintenance.equipment', { name }), name };
  }

  /**
   * A confirmed manufacturing order from a new bill of materials:
   * components (product, qty per unit) and operations (name, work center).
   */
  async order(opts: {
    finished: ProductFixture;
    qty: number;
    components: Array<{ product: ProductFixture; qty: number }>;
    operations?: Array<{ name: string; workcenterId: number }>;
    confirm?: boolean;
  }): Promise<{ id: number; name: string }> {
    const bom: Row = {
      ...(this.t.simulated ? { product_id: opts.finished.id } : { product_tmpl_id: opts.finished.tmplId }),
      product_qty: 1,
      bom_line_ids: opts.components.map((c) => [0, 0, { product_id: c.product.id, product_qty: c.qty }]),
    };
    if (opts.operations?.length) {
      bom.operation_ids = opts.operations.map((o) => [
        0,
        0,
        { name: o.name, workcenter_id: o.workcenterId, ...(this.t.simulated ? { time_cycle: 10 } : { time_cycle_manual: 10 }) },
      ]);
    }
    const bomId = await create(this.admin, 'mrp.bom', bom);
    const id = await create(this.admin, 'mrp.production', { product_id: opts.finished.id, product_qty: opts.qty, bom_id: bomId });
    if (opts.confirm !== false) await this.admin.call('mrp.production', 'action_confirm', { ids: [id] });
    const r = await readId(this.admin, 'mrp.production', id, ['name']);
    return { id, name: r.name as string };
  }
}
