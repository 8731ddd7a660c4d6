import type { MasterDataStore } from '../buffer/master-data-store';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import { OdooError, type OdooClient } from '../odoo/types';
import { OPEN_PRODUCTION_STATES } from '../rules/master-data';
import type { MasterDataLookup, Unit } from '../rules/types';
import { closedUntil } from './closed-period';
import type { EdgeMasterData, MasterDataKind, WorkorderRecord } from './edge-check';

type Product = NonNullable<ReturnType<MasterDataLookup['product']>>;
type Production = NonNullable<ReturnType<MasterDataLookup['production']>>;
type Lot = NonNullable<ReturnType<MasterDataLookup['lot']>>;
interface Named {
  id: number;
  name: string;
  /** Work center code, location barcode, equipment serial number: a second name it is found by. */
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

/** Records per search_read call of a pull: a plant may have tens of thousands of products. */
export const MASTER_DATA_PAGE = 2_000;

/** Orders the cache keeps: not done nor cancelled (drafts too, so an event for one is known to be early). */
const KEPT_PRODUCTION_STATES = ['draft', ...OPEN_PRODUCTION_STATES];

export interface MasterDataOptions {
  /** Records per search_read call (default 2000). */
  pageSize?: number;
}

/**
 * Products, lots, work centers, loss reasons, locations, units, equipment and
 * the manufacturing orders not yet done (with their work orders), pulled from
 * Odoo and kept in the outbox database, so rules and the edge check can judge
 * a scanned lot, an order reference or a work center name while the WAN is
 * down, also after a restart. With a company (`odoo.company`), every pull is
 * of that company's records (and those shared by all companies).
 */
export class MasterDataCache implements EdgeMasterData {
  private products = new Map<string, Product>();
  private productions = new Map<string, Production>();
  private productionIds = new Map<number, Production>();
  private workorderLists = new Map<number, WorkorderRecord[]>();
  private lots = new Map<string, Lot[]>();
  private named: Record<'workcenter' | 'loss' | 'location' | 'uom' | 'equipment', Map<string, Named>> = emptyNamed();
  private units = new Map<string, Unit>();
  private unitIds = new Map<number, Unit>();
  private companies: CompanyLocks[] = [];
  private kinds = new Set<string>();
  private refreshed: number | null = null;
  private readonly pageSize: number;

  constructor(
    private readonly store: MasterDataStore,
    private readonly log?: Logger,
    opts: MasterDataOptions = {},
  ) {
    this.pageSize = opts.pageSize ?? MASTER_DATA_PAGE;
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

  has(kind: MasterDataKind): boolean {
    return this.kinds.has(kind);
  }

  product(code: string): Product | undefined {
    return this.products.get(code.trim());
  }

  production(name: string): Production | undefined {
    return this.productions.get(name.trim());
  }

  productionById(id: number): Production | undefined {
    return this.productionIds.get(id);
  }

  workorders(productionId: number): WorkorderRecord[] {
    return this.workorderLists.get(productionId) ?? [];
  }

  lot(name: string, productId?: number): Lot | undefined {
    const list = this.lots.get(name.trim());
    if (!list) return undefined;
    return productId === undefined ? list[0] : list.find((l) => l.productId === productId);
  }

  workcenter(nameOrCode: string): Named | undefined {
    return this.named.workcenter.get(nameOrCode.trim());
  }

  loss(name: string): Named | undefined {
    return this.named.loss.get(name.trim());
  }

  location(nameOrBarcode: string): Named | undefined {
    return this.named.location.get(nameOrBarcode.trim());
  }

  uom(name: string): Named | undefined {
    return this.named.uom.get(name.trim());
  }

  equipment(nameOrSerial: string): Named | undefined {
    return this.named.equipment.get(nameOrSerial.trim());
  }

  /** A unit of measure Odoo can convert (by its name), for quantities converted at the edge. */
  unit(name: string): Unit | undefined {
    return this.units.get(name.trim());
  }

  unitById(id: number): Unit | undefined {
    return this.unitIds.get(id);
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

  /** Open orders, for publishing order releases to the plant (drafts are not released). */
  openProductions(): Production[] {
    return [...this.productions.values()].filter((m) => OPEN_PRODUCTION_STATES.has(m.state));
  }

  counts(): Record<string, number> {
    const distinct = (m: Map<string, Named>) => new Set([...m.values()].map((x) => x.id)).size;
    return {
      products: new Set([...this.products.values()].map((p) => p.id)).size,
      lots: this.lots.size,
      productions: this.productions.size,
      workorders: [...this.workorderLists.values()].reduce((n, l) => n + l.length, 0),
      workcenters: distinct(this.named.workcenter),
      losses: distinct(this.named.loss),
      locations: distinct(this.named.location),
      uoms: distinct(this.named.uom),
      equipment: distinct(this.named.equipment),
    };
  }

  /**
   * Pull everything from Odoo (paged by id) and replace the cache in one
   * transaction. A kind Odoo has no model or no right for (maintenance not
   * installed) is left out and not checked; a transient failure fails the
   * whole refresh and the cache stays as it was.
   */
  async refresh(odoo: OdooClient): Promise<Record<string, number>> {
    const info = odoo.info ?? (await odoo.connect());
    const company = info.companyId;
    const ofCompany: unknown[] = company === undefined ? [] : [['company_id', 'in', [company, false]]];
    const pulled = new Set<MasterDataKind>();
    const rows: Array<{ kind: string; key: string; value: unknown }> = [];
    const pull = async <T extends { id: number }>(
      kind: MasterDataKind,
      model: string,
      domain: unknown[],
      fields: string[],
      keep: (r: T) => unknown,
      opts: { max?: number; newestFirst?: boolean } = {},
    ): Promise<void> => {
      let records: T[];
      try {
        records = await pageAll<T>(odoo, model, domain, fields, this.pageSize, opts);
      } catch (err) {
        // Missing model or rights: that kind is not checked. Anything else: the refresh fails.
        if (!(err instanceof OdooError) || err.action !== 'park') throw err;
        this.log?.warn(
          { model, err: errorMessage(err) },
          `master data: ${model} cannot be read (${errorMessage(err)}); ${kind} references are not checked at the edge`,
        );
        return;
      }
      for (const r of records) {
        const value = keep(r);
        if (value !== undefined) rows.push({ kind, key: String(r.id), value });
      }
      pulled.add(kind);
    };
    const openOrders: unknown[] = [['state', 'in', KEPT_PRODUCTION_STATES], ...(company === undefined ? [] : [['company_id', '=', company]])];
    // One kind after another: the pages of one big model should not crowd Odoo's workers.
    await pull<{ id: number; name: string; default_code: string | false; barcode: string | false; tracking?: string; uom_id?: Many2one }>(
      'product',
      'product.product',
      ofCompany,
      ['id', 'name', 'default_code', 'barcode', 'tracking', 'uom_id'],
      (p) =>
        ({
          id: p.id,
          name: p.name,
          ...(p.default_code ? { defaultCode: p.default_code } : {}),
          ...(p.barcode ? { barcode: p.barcode } : {}),
          ...(p.tracking ? { tracking: p.tracking as Product['tracking'] } : {}),
          ...(p.uom_id ? { uomId: p.uom_id[0] } : {}),
        }) satisfies Product,
    );
    await pull<{ id: number; name: string; product_id: Many2one }>(
      'lot',
      'stock.lot',
      ofCompany,
      ['id', 'name', 'product_id'],
      (l) => (l.product_id ? ({ id: l.id, name: l.name, productId: l.product_id[0] } satisfies Lot) : undefined),
      { max: MAX_LOTS, newestFirst: true },
    );
    await pull<{ id: number; name: string; state: string; product_id: Many2one; product_uom_id?: Many2one }>(
      'production',
      'mrp.production',
      openOrders,
      ['id', 'name', 'state', 'product_id', 'product_uom_id'],
      (m) =>
        m.product_id
          ? ({
              id: m.id,
              name: m.name,
              state: m.state,
              productId: m.product_id[0],
              ...(m.product_uom_id ? { uomId: m.product_uom_id[0] } : {}),
            } satisfies Production)
          : undefined,
    );
    await pull<{ id: number; name: string; state: string; production_id: Many2one; workcenter_id: Many2one }>(
      'workorder',
      'mrp.workorder',
      [['production_id.state', 'in', KEPT_PRODUCTION_STATES], ...(company === undefined ? [] : [['production_id.company_id', '=', company]])],
      ['id', 'name', 'state', 'production_id', 'workcenter_id'],
      (w) =>
        w.production_id
          ? ({
              id: w.id,
              name: w.name,
              state: w.state,
              productionId: w.production_id[0],
              ...(w.workcenter_id ? { workcenterId: w.workcenter_id[0] } : {}),
            } satisfies WorkorderRecord)
          : undefined,
    );
    await pull<{ id: number; name: string; code: string | false }>('workcenter', 'mrp.workcenter', ofCompany, ['id', 'name', 'code'], (w) =>
      named(w.id, w.name, w.code),
    );
    await pull<{ id: number; name: string }>('loss', 'mrp.workcenter.productivity.loss', [], ['id', 'name'], (l) => named(l.id, l.name));
    await pull<{ id: number; complete_name: string | false; barcode: string | false }>(
      'location',
      'stock.location',
      ofCompany,
      ['id', 'complete_name', 'barcode'],
      (l) => (l.complete_name ? named(l.id, l.complete_name, l.barcode) : undefined),
    );
    // Units: 17/18 group them by category_id; 19 chains them (relative_uom_id), parent_path starts with the chain's root.
    const chains = info.major >= 19;
    await pull<UnitRow>('uom', 'uom.uom', [], ['id', 'name', 'factor', 'rounding', chains ? 'parent_path' : 'category_id'], (u) => unitOf(u, chains));
    await pull<{ id: number; name: string; serial_no: string | false }>('equipment', 'maintenance.equipment', ofCompany, ['id', 'name', 'serial_no'], (e) =>
      named(e.id, e.name, e.serial_no),
    );
    const companies = await this.readLocks(odoo);
    for (const c of companies) rows.push({ kind: 'company', key: String(c.id), value: c });
    this.store.replace(rows, [...pulled, 'company'], Date.now());
    this.load();
    const counts = this.counts();
    this.log?.info({ ...counts, ...(company !== undefined ? { company } : {}) }, 'master data refreshed from Odoo');
    return counts;
  }

  /** Read the table again (another connection wrote it: the CLI, a test). */
  reload(): void {
    this.load();
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
    const productionIds = new Map<number, Production>();
    const workorders = new Map<number, WorkorderRecord[]>();
    const lots = new Map<string, Lot[]>();
    const namedMaps = emptyNamed();
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
          productionIds.set(m.id, m);
          break;
        }
        case 'workorder': {
          const w = v as unknown as WorkorderRecord;
          const list = workorders.get(w.productionId);
          if (list) list.push(w);
          else workorders.set(w.productionId, [w]);
          break;
        }
        case 'lot': {
          const l = v as unknown as Lot;
          const list = lots.get(l.name);
          if (list) list.push(l);
          else lots.set(l.name, [l]);
          break;
        }
        case 'workcenter':
        case 'loss':
        case 'location':
        case 'uom':
        case 'equipment': {
          const n = v as unknown as Named;
          const map = namedMaps[row.kind];
          map.set(n.name, n);
          if (n.code && !map.has(n.code)) map.set(n.code, n);
          if (row.kind === 'uom' && 'group' in v) {
            units.set(n.name, v as unknown as Unit);
            unitIds.set(n.id, v as unknown as Unit);
          }
          break;
        }
        case 'company':
          companies.push(v as unknown as CompanyLocks);
          break;
      }
    }
    this.products = products;
    this.productions = productions;
    this.productionIds = productionIds;
    this.workorderLists = workorders;
    this.lots = lots;
    this.named = namedMaps;
    this.units = units;
    this.unitIds = unitIds;
    this.companies = companies;
    this.kinds = new Set(this.store.kinds());
    this.refreshed = this.store.refreshedAt();
  }
}

function emptyNamed(): Record<'workcenter' | 'loss' | 'location' | 'uom' | 'equipment', Map<string, Named>> {
  return { workcenter: new Map(), loss: new Map(), location: new Map(), uom: new Map(), equipment: new Map() };
}

function named(id: number, name: string, code?: string | false): Named {
  return { id, name, ...(code ? { code } : {}) };
}

type UnitRow = { id: number; name: string; factor: number; rounding?: number; parent_path?: string | false; category_id?: Many2one };

/**
 * Odoo's unit of measure, the same shape for every version. Odoo 17/18:
 * `category_id` groups the units, `factor` is how many of a unit make one
 * reference unit. Odoo 19 has no categories: each unit points to the unit it
 * is defined from (`relative_uom_id`, `relative_factor`), `factor` is how many
 * reference units one of it is, and `parent_path` starts with the root of its
 * chain; units with the same root convert into each other. A unit that cannot
 * convert is still known by name.
 */
function unitOf(r: UnitRow, chains: boolean): Unit | Named {
  const group = chains ? (r.parent_path ? `chain:${r.parent_path.split('/')[0]}` : undefined) : r.category_id ? `category:${r.category_id[0]}` : undefined;
  if (group === undefined || !(r.factor > 0)) return named(r.id, r.name);
  return { id: r.id, name: r.name, group, perReference: chains ? r.factor : 1 / r.factor, ...(r.rounding ? { rounding: r.rounding } : {}) };
}

/**
 * Every record of `domain`, page by page by id (`id > last`, or `id < last`
 * newest first), so that a page is one cheap indexed query whatever the size
 * of the model, and records created meanwhile do not shift the pages.
 */
export async function pageAll<T extends { id: number }>(
  odoo: OdooClient,
  model: string,
  domain: unknown[],
  fields: string[],
  pageSize: number,
  opts: { max?: number; newestFirst?: boolean } = {},
): Promise<T[]> {
  const out: T[] = [];
  const max = opts.max ?? Infinity;
  let cursor: number | undefined;
  for (;;) {
    const limit = Math.min(pageSize, max - out.length);
    if (limit <= 0) break;
    const page = await odoo.call<T[]>(model, 'search_read', {
      kwargs: {
        domain: cursor === undefined ? domain : [...domain, ['id', opts.newestFirst ? '<' : '>', cursor]],
        fields,
        limit,
        order: opts.newestFirst ? 'id desc' : 'id',
      },
    });
    out.push(...page);
    if (page.length < limit) break;
    cursor = page[page.length - 1]!.id;
  }
  return out;
}
