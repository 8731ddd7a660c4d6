import type { OdooClient } from '../odoo/types';
import type { ReleaseConfig } from './config';
import { isoFromOdoo, type ReleasedComponent, type ReleasedProduct, type ReleasedWorkorder } from './orders';

/**
 * The Odoo side of the release: which fields this Odoo has, which records
 * concern the plant (domains), and paged search_read. Knows nothing of MQTT
 * or SQLite.
 */

type Row = Record<string, unknown>;
type Domain = unknown[];
export type ReleaseModel = 'mrp.production' | 'mrp.workorder' | 'stock.move';

/** Fields wanted per model; an entry with alternatives takes the first this Odoo has (names changed between versions). */
const WANTED: Record<ReleaseModel, Array<string | string[]>> = {
  'mrp.production': [
    'name',
    'state',
    'priority',
    'product_id',
    'product_qty',
    'product_uom_id',
    'qty_producing',
    ['date_start', 'date_planned_start'],
    ['date_finished', 'date_planned_finished'],
    'date_deadline',
    'origin',
    'write_date',
  ],
  'mrp.workorder': [
    'name',
    'production_id',
    'workcenter_id',
    'state',
    ['date_start', 'date_planned_start'],
    ['date_finished', 'date_planned_finished'],
    'duration_expected',
    'qty_produced',
    'write_date',
  ],
  'stock.move': ['raw_material_production_id', 'product_id', 'product_uom_qty', 'product_uom', 'state', 'write_date'],
};

/** Fields this Odoo has, per model, by the name the release uses (the first of the alternatives). */
export type FieldMap = Record<ReleaseModel, Map<string, string>>;

export async function discoverFields(odoo: OdooClient): Promise<FieldMap> {
  const out = {} as FieldMap;
  for (const model of Object.keys(WANTED) as ReleaseModel[]) {
    const have = await odoo.call<Record<string, unknown>>(model, 'fields_get', { kwargs: { attributes: ['type'] } });
    const map = new Map<string, string>();
    for (const want of WANTED[model]) {
      const names = Array.isArray(want) ? want : [want];
      const found = names.find((n) => n in have);
      if (found) map.set(names[0]!, found);
    }
    out[model] = map;
  }
  return out;
}

/** The plant's orders, as a domain on mrp.production seen from `via` (`''` on the order itself, `production_id.` from a work order). */
export function scopeDomain(config: ReleaseConfig, workcenterIds: readonly number[] | undefined, via = ''): Domain {
  const d: Domain = [];
  if (config.company) d.push([`${via}company_id.name`, '=', config.company]);
  if (config.warehouse) d.push([`${via}picking_type_id.warehouse_id.code`, '=', config.warehouse]);
  if (config.pickingType) d.push([`${via}picking_type_id.name`, '=', config.pickingType]);
  // Without company, warehouse or operation type the plant is its work centers.
  if (d.length === 0 && workcenterIds) d.push([`${via}workorder_ids.workcenter_id`, 'in', [...workcenterIds]]);
  return d;
}

export class ReleaseReader {
  /** Requests made (the benchmark and the page count them). */
  requests = 0;
  private readonly products = new Map<number, ReleasedProduct>();

  constructor(
    private readonly odoo: OdooClient,
    private readonly fields: FieldMap,
    private readonly pageSize: number,
  ) {}

  /** Every record matching `domain`, in pages of `pageSize` by ascending id (keyset: a page never skips or repeats a record). */
  async readAll(model: ReleaseModel, domain: Domain): Promise<Row[]> {
    const out: Row[] = [];
    let after = 0;
    for (;;) {
      const page = await this.search(model, [...domain, ['id', '>', after]], 'id');
      out.push(...page);
      if (page.length < this.pageSize) return out;
      after = page[page.length - 1]!.id as number;
    }
  }

  /**
   * What changed since `since` (Odoo datetime text): records with
   * `write_date >= since`, paged by (write_date, id).
   */
  async readChanged(model: ReleaseModel, domain: Domain, since: string): Promise<Row[]> {
    const out: Row[] = [];
    let at = since;
    let after = 0;
    for (;;) {
      const keyset = after === 0 ? [['write_date', '>=', at]] : ['|', ['write_date', '>', at], '&', ['write_date', '=', at], ['id', '>', after]];
      const page = await this.search(model, [...domain, ...keyset], 'write_date, id');
      out.push(...page);
      if (page.length < this.pageSize) return out;
      const last = page[page.length - 1]!;
      at = String(last.write_date);
      after = last.id as number;
    }
  }

  /** Work centers by id: name and code (all of them; a plant has tens). */
  async workcenters(): Promise<Map<number, { name: string; code: string | null }>> {
    this.requests++;
    const rows = await this.odoo.call<Row[]>('mrp.workcenter', 'search_read', {
      kwargs: { domain: [], fields: ['name', 'code'] },
      context: { active_test: false },
    });
    return new Map(rows.map((r) => [r.id as number, { name: String(r.name), code: typeof r.code === 'string' && r.code ? r.code : null }]));
  }

  /** Products by id with code and tracking; read once, then from memory (until forget()). */
  async productsOf(ids: Iterable<number>): Promise<Map<number, ReleasedProduct>> {
    const missing = [...new Set(ids)].filter((id) => !this.products.has(id));
    for (let i = 0; i < missing.length; i += this.pageSize) {
      this.requests++;
      const rows = await this.odoo.call<Row[]>('product.product', 'read', {
        ids: missing.slice(i, i + this.pageSize),
        kwargs: { fields: ['display_name', 'default_code', 'tracking'] },
      });
      for (const r of rows) {
        const tracking = r.tracking === 'lot' || r.tracking === 'serial' ? r.tracking : 'none';
        this.products.set(r.id as number, {
          id: r.id as number,
          name: String(r.display_name),
          code: typeof r.default_code === 'string' && r.default_code ? r.default_code : null,
          tracking,
        });
      }
    }
    return this.products;
  }

  /** Forget cached products (a full read reads them again). */
  forget(): void {
    this.products.clear();
  }

  private async search(model: ReleaseModel, domain: Domain, order: string): Promise<Row[]> {
    this.requests++;
    return this.odoo.call<Row[]>(model, 'search_read', {
      kwargs: { domain, fields: ['id', ...this.fields[model].values()], order, limit: this.pageSize },
      context: { active_test: false },
    });
  }

  /** A field of a row by the release's name for it (undefined when this Odoo has no such field). */
  get(model: ReleaseModel, row: Row, field: string): unknown {
    const actual = this.fields[model].get(field);
    return actual === undefined ? undefined : row[actual];
  }

  workorder(row: Row): ReleasedWorkorder & { productionId: number } {
    const g = (f: string) => this.get('mrp.workorder', row, f);
    const wc = m2o(g('workcenter_id'));
    return {
      productionId: m2o(g('production_id'))?.id ?? 0,
      id: row.id as number,
      name: String(g('name') ?? ''),
      workcenter: wc?.name ?? null,
      workcenterId: wc?.id ?? null,
      state: String(g('state') ?? ''),
      scheduledStart: isoFromOdoo(g('date_start')),
      scheduledEnd: isoFromOdoo(g('date_finished')),
      durationExpected: numOrNull(g('duration_expected')),
      quantityProduced: numOrNull(g('qty_produced')),
      writeDate: isoFromOdoo(row.write_date) ?? '',
    };
  }

  component(row: Row): Omit<ReleasedComponent, 'product'> & { productionId: number; productId: number } {
    const g = (f: string) => this.get('stock.move', row, f);
    return {
      productionId: m2o(g('raw_material_production_id'))?.id ?? 0,
      productId: m2o(g('product_id'))?.id ?? 0,
      id: row.id as number,
      quantity: numOrNull(g('product_uom_qty')) ?? 0,
      uom: m2o(g('product_uom'))?.name ?? null,
      state: String(g('state') ?? ''),
      writeDate: isoFromOdoo(row.write_date) ?? '',
    };
  }
}

export function m2o(v: unknown): { id: number; name: string } | undefined {
  return Array.isArray(v) && typeof v[0] === 'number' ? { id: v[0], name: String(v[1]) } : undefined;
}

export function numOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
