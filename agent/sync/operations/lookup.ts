import type { OdooClient } from '../../odoo/types';
import { m2oId, searchRead } from './odoo-calls';
import { OperationError } from './types';

/**
 * Names the plant uses (an order name, a product code, a work center, a lot)
 * resolved to Odoo record ids, with a small cache per Odoo connection.
 * Found references are kept for `ttlMs`; a reference that is not found is
 * never cached, so fixing the master data in Odoo and retrying the parked
 * event works at once. An unknown or ambiguous reference is an OperationError
 * (park) whose message names the reference and where it was looked for.
 */

/** How long a found reference is trusted before it is looked up again. */
export const DEFAULT_LOOKUP_TTL_MS = 5 * 60_000;

export interface ProductInfo {
  id: number;
  name: string;
  /** `none`, `lot` or `serial`. */
  tracking: string;
  uomId: number | undefined;
}

export interface WorkorderInfo {
  id: number;
  name: string;
  state: string;
  workcenterId: number | undefined;
}

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

export class OdooLookups {
  private readonly cache = new Map<string, Entry<unknown>>();

  constructor(
    private readonly odoo: OdooClient,
    private readonly ttlMs: number = DEFAULT_LOOKUP_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Forget everything (after master data changed in Odoo, or in tests). */
  clear(): void {
    this.cache.clear();
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key) as Entry<T> | undefined;
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = load();
    this.cache.set(key, { at: this.now(), value });
    // A failed or empty lookup is not remembered.
    value.catch(() => {
      if (this.cache.get(key)?.value === value) this.cache.delete(key);
    });
    return value;
  }

  /** Exactly one match among `domain`, or an OperationError naming `what`. */
  private async one<T extends { id: number }>(model: string, domain: unknown[], fields: string[], what: string, where: string): Promise<T> {
    const rows = await searchRead<T>({ odoo: this.odoo }, model, domain, fields, { limit: 2 });
    if (rows.length === 0) throw new OperationError('UNKNOWN_REFERENCE', `unknown ${what} in Odoo (looked for ${where})`);
    if (rows.length > 1) throw new OperationError('AMBIGUOUS_REFERENCE', `${what} is ambiguous in Odoo: more than one match (${where})`);
    return rows[0]!;
  }

  /**
   * A manufacturing order by id (a number) or by name. A name found once is
   * kept: Odoo renames an order on a partial finish (`WH/MO/00001-001`) but
   * keeps its id.
   */
  async production(ref: string | number): Promise<number> {
    if (typeof ref === 'number') {
      const rows = await searchRead<{ id: number }>({ odoo: this.odoo }, 'mrp.production', [['id', '=', ref]], ['id'], { limit: 1 });
      if (rows.length === 0) throw new OperationError('UNKNOWN_REFERENCE', `unknown manufacturing order id ${ref} in Odoo`);
      return ref;
    }
    return this.cached(`mo:${ref}`, async () => {
      const r = await this.one<{ id: number }>('mrp.production', [['name', '=', ref]], ['id'], `manufacturing order "${ref}"`, 'mrp.production by name');
      return r.id;
    });
  }

  /** A product by internal reference (default_code) or barcode. */
  product(ref: string): Promise<ProductInfo> {
    return this.cached(`product:${ref}`, async () => {
      const r = await this.one<{ id: number; display_name: string; tracking: string; uom_id: unknown }>(
        'product.product',
        ['|', ['default_code', '=', ref], ['barcode', '=', ref]],
        ['id', 'display_name', 'tracking', 'uom_id'],
        `product "${ref}"`,
        'product.product by internal reference and barcode',
      );
      return { id: r.id, name: r.display_name, tracking: r.tracking || 'none', uomId: m2oId(r.uom_id) };
    });
  }

  /** A work center by name or code. */
  workcenter(ref: string): Promise<number> {
    return this.cached(`wc:${ref}`, async () => {
      const r = await this.one<{ id: number }>(
        'mrp.workcenter',
        ['|', ['name', '=', ref], ['code', '=', ref]],
        ['id'],
        `work center "${ref}"`,
        'mrp.workcenter by name and code',
      );
      return r.id;
    });
  }

  /** A piece of equipment by name or serial number. */
  equipment(ref: string): Promise<number> {
    return this.cached(`eq:${ref}`, async () => {
      const r = await this.one<{ id: number }>(
        'maintenance.equipment',
        ['|', ['name', '=', ref], ['serial_no', '=', ref]],
        ['id'],
        `equipment "${ref}"`,
        'maintenance.equipment by name and serial number',
      );
      return r.id;
    });
  }

  /** A downtime (productivity loss) reason by name. */
  loss(name: string): Promise<number> {
    return this.cached(`loss:${name}`, async () => {
      const r = await this.one<{ id: number }>(
        'mrp.workcenter.productivity.loss',
        [['name', '=', name]],
        ['id'],
        `downtime reason "${name}"`,
        'mrp.workcenter.productivity.loss by name',
      );
      return r.id;
    });
  }

  /** A stock location by full name (`WH/Stock`) or barcode. */
  location(ref: string): Promise<number> {
    return this.cached(`loc:${ref}`, async () => {
      const r = await this.one<{ id: number }>(
        'stock.location',
        ['|', ['complete_name', '=', ref], ['barcode', '=', ref]],
        ['id'],
        `location "${ref}"`,
        'stock.location by full name and barcode',
      );
      return r.id;
    });
  }

  /** A unit of measure by name (`kg`, `Units`). */
  uom(name: string): Promise<number> {
    return this.cached(`uom:${name}`, async () => {
      const r = await this.one<{ id: number }>('uom.uom', [['name', '=', name]], ['id'], `unit of measure "${name}"`, 'uom.uom by name');
      return r.id;
    });
  }

  /** A lot or serial number of a product; undefined when Odoo has none by that name. */
  async lot(productId: number, name: string): Promise<number | undefined> {
    const key = `lot:${productId}:${name}`;
    const hit = this.cache.get(key) as Entry<number> | undefined;
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const rows = await searchRead<{ id: number }>(
      { odoo: this.odoo },
      'stock.lot',
      [
        ['product_id', '=', productId],
        ['name', '=', name],
      ],
      ['id'],
      {
        limit: 1,
      },
    );
    const id = rows[0]?.id;
    if (id !== undefined) this.cache.set(key, { at: this.now(), value: Promise.resolve(id) });
    return id;
  }

  /** A scrap reason tag by name (Odoo 17+); undefined when there is none. */
  async scrapReason(name: string): Promise<number | undefined> {
    const rows = await this.cached(`scrapreason:${name}`, async () => {
      const r = await searchRead<{ id: number }>({ odoo: this.odoo }, 'stock.scrap.reason.tag', [['name', '=', name]], ['id'], { limit: 1 });
      if (r.length === 0) throw new OperationError('UNKNOWN_REFERENCE', 'no tag');
      return r[0]!.id;
    }).catch(() => undefined);
    return rows;
  }

  /**
   * The internal-transfer operation type for moves out of a location: the
   * one of the location's warehouse (or of the configured warehouse), else any. Odoo archives it while
   * "Storage Locations" is off; an archived one is used when there is no other.
   */
  internalPickingType(locationId: number): Promise<number> {
    return this.cached(`pickingtype:internal:${locationId}`, async () => {
      const loc = await searchRead<{ warehouse_id: unknown }>({ odoo: this.odoo }, 'stock.location', [['id', '=', locationId]], ['warehouse_id'], { limit: 1 });
      // A location of no warehouse: the plant's warehouse (odoo.warehouse), when configured.
      const wh = m2oId(loc[0]?.warehouse_id) ?? this.odoo.info?.warehouseId;
      if (wh !== undefined) {
        const w = await searchRead<{ int_type_id: unknown }>({ odoo: this.odoo }, 'stock.warehouse', [['id', '=', wh]], ['int_type_id'], { limit: 1 });
        const t = m2oId(w[0]?.int_type_id);
        if (t !== undefined) return t;
      }
      const types = await searchRead<{ id: number; active: boolean; warehouse_id: unknown }>(
        { odoo: this.odoo },
        'stock.picking.type',
        [['code', '=', 'internal']],
        ['id', 'active', 'warehouse_id'],
        { order: 'sequence, id', context: { active_test: false } },
      );
      const rank = (t: { active: boolean; warehouse_id: unknown }) => (m2oId(t.warehouse_id) === wh ? 0 : 2) + (t.active ? 0 : 1);
      const best = [...types].sort((a, b) => rank(a) - rank(b))[0];
      if (!best) throw new OperationError('UNKNOWN_REFERENCE', 'no internal transfer operation type in Odoo (stock.picking.type with code internal)');
      return best.id;
    });
  }

  /** Which of `names` are installed modules in Odoo; asked once per connection. */
  installedModules(names: readonly string[]): Promise<Set<string>> {
    const key = `modules:${[...names].sort().join(',')}`;
    return this.cached(key, async () => {
      const rows = await searchRead<{ name: string }>(
        { odoo: this.odoo },
        'ir.module.module',
        [
          ['name', 'in', [...names]],
          ['state', '=', 'installed'],
        ],
        ['name'],
      );
      return new Set(rows.map((r) => r.name));
    });
  }

  /**
   * The work order of a manufacturing order: by id, by operation name, by work
   * center, or the order's only work order. Never cached (its state matters).
   */
  async workorder(productionId: number, productionName: string, ref: string | number | undefined, workcenter: string | undefined): Promise<WorkorderInfo> {
    const fields = ['id', 'name', 'state', 'workcenter_id'];
    const domain: unknown[] = [['production_id', '=', productionId]];
    const said: string[] = [];
    if (typeof ref === 'number') {
      domain.push(['id', '=', ref]);
      said.push(`id ${ref}`);
    } else if (ref !== undefined) {
      domain.push(['name', '=', ref]);
      said.push(`"${ref}"`);
    }
    if (workcenter !== undefined) {
      domain.push(['workcenter_id', '=', await this.workcenter(workcenter)]);
      said.push(`at work center "${workcenter}"`);
    }
    const what = `work order ${said.length > 0 ? said.join(' ') + ' ' : ''}of ${productionName}`;
    // Strict on purpose: picking "the open one" among several would make a
    // replayed finish close the next work order.
    const rows = await searchRead<{ id: number; name: string; state: string; workcenter_id: unknown }>({ odoo: this.odoo }, 'mrp.workorder', domain, fields, {
      limit: 50,
    });
    if (rows.length === 0) throw new OperationError('UNKNOWN_REFERENCE', `unknown ${what} in Odoo`);
    if (rows.length > 1) {
      throw new OperationError('AMBIGUOUS_REFERENCE', `${what} is ambiguous: ${rows.length} work orders match; name the operation or give its id`);
    }
    const r = rows[0]!;
    return { id: r.id, name: r.name, state: r.state, workcenterId: m2oId(r.workcenter_id) };
  }
}

const perClient = new WeakMap<OdooClient, OdooLookups>();

/** The lookups of one Odoo connection (created on first use). */
export function lookupsFor(odoo: OdooClient, ttlMs: number = DEFAULT_LOOKUP_TTL_MS): OdooLookups {
  let l = perClient.get(odoo);
  if (!l) {
    l = new OdooLookups(odoo, ttlMs);
    perClient.set(odoo, l);
  }
  return l;
}
