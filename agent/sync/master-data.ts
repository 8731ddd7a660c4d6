import type { MasterDataStore } from '../buffer/master-data-store';
import type { Logger } from '../log';
import type { OdooClient } from '../odoo/types';
import type { MasterDataLookup, Unit } from '../rules/types';
import { closedUntil } from './closed-period';

type Product = NonNullable<ReturnType<MasterDataLookup['product']>>;
type Production = NonNullable<ReturnType<MasterDataLookup['production']>>;
type Lot = NonNullable<ReturnType<MasterDataLookup['lot']>>;
interface Workcenter {
  id: number;
  name: string;
  code?: string;
}

type Many2one = [number, string] | false;

/** A company's accounting lock dates as Odoo has them (field name -> day; the names differ per version), and the last day they close for the agent. */
export interface CompanyLocks {
  id: number;
  name: string;
  locks: Record<string, string>;
  closedUntil: string | null;
}

/** Lots fetched at most (the newest); older lots are still accepted by Odoo, only not checked offline. */
const MAX_LOTS = 50_000;

/**
 * Products, lots, work centers and open manufacturing orders, pulled from Odoo
 * and kept in the outbox database, so rules can check a scanned lot or an
 * order reference while the WAN is down, also after a restart.
 */
export class MasterDataCache implements MasterDataLookup {
  private products = new Map<string, Product>();
  private productions = new Map<string, Production>();
  private lots = new Map<string, Lot[]>();
  private workcenters = new Map<string, Workcenter>();
  private units = new Map<string, Unit>();
  private unitIds = new Map<number, Unit>();
  private companies: CompanyLocks[] = [];
  private refreshed: number | null = null;

  constructor(
    private readonly store: MasterDataStore,
    private readonly log?: Logger,
  ) {
    this.load();
  }

  /** When the cache was last filled from Odoo (ms), or null when never. */
  get refreshedAt(): number | null {
    return this.refreshed;
  }

  /** True once the cache holds what Odoo had at some point. */
  get filled(): boolean {
    return this.refreshed !== null;
  }

  product(code: string): Product | undefined {
    return this.products.get(code.trim());
  }

  production(name: string): Production | undefined {
    return this.productions.get(name.trim());
  }

  lot(name: string, productId?: number): Lot | undefined {
    const list = this.lots.get(name.trim());
    if (!list) return undefined;
    return productId === undefined ? list[0] : list.find((l) => l.productId === productId);
  }

  unit(name: string): Unit | undefined {
    return this.units.get(name.trim());
  }

  unitById(id: number): Unit | undefined {
    return this.unitIds.get(id);
  }

  workcenter(nameOrCode: string): Workcenter | undefined {
    return this.workcenters.get(nameOrCode.trim());
  }

  /** The companies the agent's user works in, with their accounting lock dates (none without Odoo's accounting). */
  lockDates(): CompanyLocks[] {
    return this.companies;
  }

  /** The last day Odoo's accounting has locked for the agent's events (the latest over its companies), or null. */
  closedUntil(): string | null {
    let last: string | null = null;
    for (const c of this.companies) if (c.closedUntil !== null && (last === null || c.closedUntil > last)) last = c.closedUntil;
    return last;
  }

  /** Open orders, for publishing order releases to the plant. */
  openProductions(): Production[] {
    return [...this.productions.values()];
  }

  counts(): Record<string, number> {
    return {
      products: new Set([...this.products.values()].map((p) => p.id)).size,
      lots: this.lots.size,
      productions: this.productions.size,
      workcenters: new Set([...this.workcenters.values()].map((w) => w.id)).size,
      units: this.unitIds.size,
    };
  }

  /** Pull everything from Odoo and replace the cache in one transaction. */
  async refresh(odoo: OdooClient): Promise<Record<string, number>> {
    const read = <T>(model: string, domain: unknown[], fields: string[], extra: Record<string, unknown> = {}) =>
      odoo.call<T[]>(model, 'search_read', { kwargs: { domain, fields, ...extra } });
    const [products, lots, productions, workcenters, units, companies] = await Promise.all([
      read<{ id: number; name: string; default_code: string | false; barcode: string | false; tracking?: string; uom_id?: Many2one }>(
        'product.product',
        [],
        ['id', 'name', 'default_code', 'barcode', 'tracking', 'uom_id'],
      ),
      read<{ id: number; name: string; product_id: Many2one }>('stock.lot', [], ['id', 'name', 'product_id'], { limit: MAX_LOTS, order: 'id desc' }),
      read<{ id: number; name: string; state: string; product_id: Many2one; product_uom_id?: Many2one }>(
        'mrp.production',
        [['state', 'in', ['confirmed', 'progress', 'to_close']]],
        ['id', 'name', 'state', 'product_id', 'product_uom_id'],
      ),
      read<{ id: number; name: string; code: string | false }>('mrp.workcenter', [], ['id', 'name', 'code']),
      readUnits(odoo),
      this.readLocks(odoo),
    ]);
    const rows: Array<[string, string, unknown]> = [];
    for (const p of products) {
      const value: Product = {
        id: p.id,
        name: p.name,
        ...(p.default_code ? { defaultCode: p.default_code } : {}),
        ...(p.barcode ? { barcode: p.barcode } : {}),
        ...(p.tracking ? { tracking: p.tracking as Product['tracking'] } : {}),
        ...(p.uom_id ? { uomId: p.uom_id[0] } : {}),
      };
      rows.push(['product', String(p.id), value]);
    }
    for (const l of lots) if (l.product_id) rows.push(['lot', String(l.id), { id: l.id, name: l.name, productId: l.product_id[0] } satisfies Lot]);
    for (const m of productions)
      if (m.product_id)
        rows.push([
          'production',
          String(m.id),
          {
            id: m.id,
            name: m.name,
            state: m.state,
            productId: m.product_id[0],
            ...(m.product_uom_id ? { uomId: m.product_uom_id[0] } : {}),
          } satisfies Production,
        ]);
    for (const w of workcenters) rows.push(['workcenter', String(w.id), { id: w.id, name: w.name, ...(w.code ? { code: w.code } : {}) } satisfies Workcenter]);
    for (const u of units) rows.push(['uom', String(u.id), u]);
    for (const c of companies) rows.push(['company', String(c.id), c]);
    this.store.replace(
      rows.map(([kind, key, value]) => ({ kind, key, value })),
      ['product', 'lot', 'production', 'workcenter', 'uom', 'company'],
      Date.now(),
    );
    this.load();
    const counts = this.counts();
    this.log?.info(counts, 'master data refreshed from Odoo');
    return counts;
  }

  /**
   * The lock dates of the companies the agent's user sees: res.company's
   * fields named `*_lock_date` (fields_get: 17 has period_lock_date,
   * fiscalyear_lock_date and tax_lock_date; 18 and 19 have fiscalyear, tax,
   * sale, purchase and hard lock dates), none without Odoo's accounting. When
   * they cannot be read, the last known ones stay (and the failure is logged).
   */
  private async readLocks(odoo: OdooClient): Promise<CompanyLocks[]> {
    try {
      const defs = await odoo.call<Record<string, { type: string }>>('res.company', 'fields_get', { kwargs: { attributes: ['type'] } });
      const fields = Object.keys(defs).filter((f) => f.endsWith('_lock_date') && defs[f]!.type === 'date' && !f.startsWith('user_') && !f.startsWith('max_'));
      if (fields.length === 0) return [];
      const major = odoo.info?.major ?? 19;
      const rows = await odoo.call<Array<Record<string, unknown>>>('res.company', 'search_read', { kwargs: { domain: [], fields: ['id', 'name', ...fields] } });
      return rows.map((r) => {
        const locks: Record<string, string> = {};
        for (const f of fields) if (typeof r[f] === 'string') locks[f] = r[f];
        return { id: r.id as number, name: String(r.name), locks, closedUntil: closedUntil(locks, major) };
      });
    } catch (err) {
      this.log?.warn({ err }, "the companies' accounting lock dates could not be read; the last known ones stay");
      return this.companies;
    }
  }

  /** Rebuild the lookup maps from the table. */
  private load(): void {
    const products = new Map<string, Product>();
    const productions = new Map<string, Production>();
    const lots = new Map<string, Lot[]>();
    const workcenters = new Map<string, Workcenter>();
    const units = new Map<string, Unit>();
    const unitIds = new Map<number, Unit>();
    const companies: CompanyLocks[] = [];
    for (const row of this.store.rows()) {
      const v = row.value as Record<string, unknown>;
      switch (row.kind) {
        case 'product': {
          const p = v as unknown as Product;
          if (p.defaultCode) products.set(p.defaultCode, p);
          if (p.barcode) products.set(p.barcode, p);
          break;
        }
        case 'production': {
          const m = v as unknown as Production;
          productions.set(m.name, m);
          break;
        }
        case 'lot': {
          const l = v as unknown as Lot;
          lots.set(l.name, [...(lots.get(l.name) ?? []), l]);
          break;
        }
        case 'workcenter': {
          const w = v as unknown as Workcenter;
          workcenters.set(w.name, w);
          if (w.code) workcenters.set(w.code, w);
          break;
        }
        case 'uom': {
          const u = v as unknown as Unit;
          units.set(u.name, u);
          unitIds.set(u.id, u);
          break;
        }
        case 'company':
          companies.push(v as unknown as CompanyLocks);
          break;
      }
    }
    this.products = products;
    this.productions = productions;
    this.lots = lots;
    this.workcenters = workcenters;
    this.units = units;
    this.unitIds = unitIds;
    this.companies = companies;
    this.refreshed = this.store.refreshedAt();
  }
}

/**
 * Odoo's units of measure, the same shape for every version. Odoo 17/18:
 * `category_id` groups the units, `factor` is how many of a unit make one
 * reference unit. Odoo 19 has no categories: each unit points to the unit it
 * is defined from (`relative_uom_id`, `relative_factor`), `factor` is how many
 * reference units one of it is, and `parent_path` starts with the root of its
 * chain; units with the same root convert into each other.
 */
async function readUnits(odoo: OdooClient): Promise<Unit[]> {
  const chains = odoo.info
    ? odoo.info.major >= 19
    : 'relative_uom_id' in (await odoo.call<Record<string, unknown>>('uom.uom', 'fields_get', { kwargs: { attributes: ['type'] } }));
  const fields = chains ? ['id', 'name', 'factor', 'rounding', 'parent_path'] : ['id', 'name', 'factor', 'rounding', 'category_id'];
  const rows = await odoo.call<Array<{ id: number; name: string; factor: number; rounding?: number; parent_path?: string | false; category_id?: Many2one }>>(
    'uom.uom',
    'search_read',
    { kwargs: { domain: [], fields } },
  );
  const out: Unit[] = [];
  for (const r of rows) {
    if (!(r.factor > 0)) continue;
    const group = chains ? (r.parent_path ? `chain:${r.parent_path.split('/')[0]}` : undefined) : r.category_id ? `category:${r.category_id[0]}` : undefined;
    if (group === undefined) continue;
    out.push({ id: r.id, name: r.name, group, perReference: chains ? r.factor : 1 / r.factor, ...(r.rounding ? { rounding: r.rounding } : {}) });
  }
  return out;
}
