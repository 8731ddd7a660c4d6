import type { ReleaseStore } from '../buffer/release-store';
import type { OdooClient } from '../odoo/types';
import type { ReleaseConfig } from './config';
import { discoverFields, m2o, numOrNull, ReleaseReader, scopeDomain, type FieldMap, type ReleaseModel } from './odoo-reader';
import { isoFromOdoo, odooFromIso, workcentersOf, type ReleasedComponent, type ReleasedOrder, type ReleasedWorkorder } from './orders';

type Row = Record<string, unknown>;

/** What one read of Odoo changed. */
export interface ReleaseChange {
  kind: 'full' | 'incremental';
  /** Orders new to the release or different from before. */
  changed: ReleasedOrder[];
  /** Orders that left: `state` (done, cancelled, or no longer matching), `gone` (not found by a full read: deleted or out of scope). */
  removed: Array<{ order: ReleasedOrder; reason: string }>;
  /** Work centers whose queue may differ. */
  workcenters: Set<string>;
  /** Open work orders at a work center the plant does not know (of changed orders). */
  unknownWorkcenters: Array<{ order: string; workorder: string; workcenter: string }>;
  /** When the read began (the time of the Odoo data). */
  asOf: number;
  /** Requests the read took. */
  requests: number;
}

const MODELS: readonly ReleaseModel[] = ['mrp.production', 'mrp.workorder', 'stock.move'];

/**
 * Follows the plant's open manufacturing orders in Odoo. A full read at start
 * and on the schedule; in between, only what changed: records whose
 * write_date is at or after the last one seen (minus an overlap, because
 * write_date is when a transaction began, to the second), de-duplicated by
 * content so a record read twice is one change. Keeps the list in memory and
 * in SQLite; the publisher and the line writes work from its changes.
 */
export class ReleaseFollower {
  private readonly orders = new Map<number, ReleasedOrder>();
  private readonly asOfById = new Map<number, number>();
  private cursors: Partial<Record<ReleaseModel, string>> = {};
  private fields: FieldMap | undefined;
  private reader: ReleaseReader | undefined;
  private workcenterNames = new Map<number, { name: string; code: string | null }>();
  private lastAsOf: number | null = null;
  private lastFull: number | null = null;

  constructor(
    private readonly config: ReleaseConfig,
    private readonly store: ReleaseStore,
    private readonly now: () => number = Date.now,
  ) {
    for (const s of store.orders()) {
      this.orders.set(s.order.id, s.order);
      this.asOfById.set(s.order.id, s.asOf);
    }
    const meta = store.meta();
    for (const m of MODELS) if (meta[`cursor:${m}`]) this.cursors[m] = meta[`cursor:${m}`];
    this.lastAsOf = meta.asOf ? Number(meta.asOf) : null;
    this.lastFull = meta.fullAt ? Number(meta.fullAt) : null;
    if (meta.workcenters) this.workcenterNames = new Map(JSON.parse(meta.workcenters) as Array<[number, { name: string; code: string | null }]>);
  }

  /** The released orders, as last read. */
  list(): ReleasedOrder[] {
    return [...this.orders.values()];
  }

  get(id: number): ReleasedOrder | undefined {
    return this.orders.get(id);
  }

  byName(name: string): ReleasedOrder | undefined {
    for (const o of this.orders.values()) if (o.name === name) return o;
    return undefined;
  }

  /** When the order's current version was read. */
  asOfOf(id: number): number | null {
    return this.asOfById.get(id) ?? null;
  }

  /** When Odoo was last read successfully (ms), or null when never. */
  get asOf(): number | null {
    return this.lastAsOf;
  }

  get fullAt(): number | null {
    return this.lastFull;
  }

  /** Work centers the plant has, by Odoo name (every name Odoo has when the config lists none). */
  plantWorkcenters(): string[] {
    const all = [...this.workcenterNames.values()];
    if (this.config.workcenters.length === 0) return all.map((w) => w.name);
    return all.filter((w) => this.isPlant(w.name, w.code)).map((w) => w.name);
  }

  /** The Odoo name of a configured work center (name or code), when Odoo has it. */
  odooName(configured: string): string | undefined {
    for (const w of this.workcenterNames.values()) if (w.name === configured || w.code === configured) return w.name;
    return undefined;
  }

  /** Read Odoo: everything (`full`) or what changed. Throws the client's OdooError when Odoo fails; nothing changes then. */
  async read(odoo: OdooClient, kind: 'full' | 'incremental'): Promise<ReleaseChange> {
    if (!this.fields) this.fields = await discoverFields(odoo);
    const reader = (this.reader ??= new ReleaseReader(odoo, this.fields, this.config.pageSize));
    reader.requests = 0;
    const asOf = this.now();
    const full = kind === 'full' || Object.keys(this.cursors).length < MODELS.length;
    const next = full ? await this.readFull(reader) : await this.readIncremental(reader);
    const change = this.apply(next.orders, full, asOf);
    change.requests = reader.requests;
    // The cursor: the latest write_date seen, or when the read began by Odoo's clock if that is later
    // (what committed before then is read; the overlap covers transactions under way then).
    const cursors = { ...this.cursors };
    const began = odooFromIso(new Date(asOf + (odoo.serverClock?.()?.offsetMs ?? 0)).toISOString());
    for (const m of MODELS) {
      for (const c of [next.maxWrite[m], began]) if (c && (!cursors[m] || c > cursors[m])) cursors[m] = c;
    }
    const meta: Record<string, string> = { asOf: String(asOf) };
    for (const m of MODELS) meta[`cursor:${m}`] = cursors[m]!;
    if (full) {
      meta.fullAt = String(asOf);
      meta.workcenters = JSON.stringify([...this.workcenterNames]);
    }
    this.store.save(
      change.changed.map((order) => ({ order, asOf })),
      change.removed.map((r) => r.order.id),
      meta,
    );
    // Only once stored does memory follow.
    for (const o of change.changed) {
      this.orders.set(o.id, o);
      this.asOfById.set(o.id, asOf);
    }
    for (const r of change.removed) {
      this.orders.delete(r.order.id);
      this.asOfById.delete(r.order.id);
    }
    this.cursors = cursors;
    this.lastAsOf = asOf;
    if (full) this.lastFull = asOf;
    return change;
  }

  private async readFull(reader: ReleaseReader): Promise<{ orders: Map<number, ReleasedOrder | null>; maxWrite: Partial<Record<ReleaseModel, string>> }> {
    this.workcenterNames = await reader.workcenters();
    const ids = this.plantWorkcenterIds();
    const states = ['state', 'in', this.config.states];
    const prods = await reader.readAll('mrp.production', [...scopeDomain(this.config, ids), states]);
    const wos = await reader.readAll('mrp.workorder', [...scopeDomain(this.config, ids, 'production_id.'), ['production_id.state', 'in', this.config.states]]);
    const moves = await reader.readAll('stock.move', [
      ...scopeDomain(this.config, ids, 'raw_material_production_id.'),
      ['raw_material_production_id.state', 'in', this.config.states],
    ]);
    reader.forget();
    const orders = new Map<number, ReleasedOrder | null>();
    for (const o of this.current().keys()) orders.set(o, null);
    const built = await this.build(reader, prods, wos, moves, new Map());
    for (const [id, o] of built) orders.set(id, o);
    return { orders, maxWrite: { 'mrp.production': latestWrite(prods), 'mrp.workorder': latestWrite(wos), 'stock.move': latestWrite(moves) } };
  }

  private async readIncremental(
    reader: ReleaseReader,
  ): Promise<{ orders: Map<number, ReleasedOrder | null>; maxWrite: Partial<Record<ReleaseModel, string>> }> {
    const ids = this.plantWorkcenterIds();
    const since = (m: ReleaseModel) => odooFromIso(new Date(Date.parse(isoFromOdoo(this.cursors[m])!) - this.config.overlapSeconds * 1000).toISOString());
    const prods = await reader.readChanged('mrp.production', scopeDomain(this.config, ids), since('mrp.production'));
    let wos = await reader.readChanged('mrp.workorder', scopeDomain(this.config, ids, 'production_id.'), since('mrp.workorder'));
    let moves = await reader.readChanged(
      'stock.move',
      [['raw_material_production_id', '!=', false], ...scopeDomain(this.config, ids, 'raw_material_production_id.')],
      since('stock.move'),
    );
    const seen = { 'mrp.production': latestWrite(prods), 'mrp.workorder': latestWrite(wos), 'stock.move': latestWrite(moves) };
    // An order new to the release brings its work orders and components, also those written long ago.
    const open = new Set<string>(this.config.states);
    const fresh = prods
      .filter((p) => open.has(String(reader.get('mrp.production', p, 'state'))) && !this.orders.has(p.id as number))
      .map((p) => p.id as number);
    for (let i = 0; i < fresh.length; i += this.config.pageSize) {
      const chunk = fresh.slice(i, i + this.config.pageSize);
      wos = [...wos, ...(await reader.readAll('mrp.workorder', [['production_id', 'in', chunk]]))];
      moves = [...moves, ...(await reader.readAll('stock.move', [['raw_material_production_id', 'in', chunk]]))];
    }
    const orders = await this.build(reader, prods, wos, moves, this.current());
    return { orders, maxWrite: seen };
  }

  private current(): Map<number, ReleasedOrder> {
    return this.orders;
  }

  /**
   * Orders after applying these rows over `base`: an order row in a released
   * state replaces its header, one in another state removes the order (null);
   * work order and component rows replace theirs in orders the release has.
   */
  private async build(
    reader: ReleaseReader,
    prods: Row[],
    wos: Row[],
    moves: Row[],
    base: Map<number, ReleasedOrder>,
  ): Promise<Map<number, ReleasedOrder | null>> {
    const open = new Set<string>(this.config.states);
    const out = new Map<number, ReleasedOrder | null>();
    const productIds: number[] = [];
    for (const p of prods) {
      const g = (f: string) => reader.get('mrp.production', p, f);
      const id = p.id as number;
      if (!open.has(String(g('state')))) {
        if (base.has(id)) out.set(id, null);
        continue;
      }
      const product = m2o(g('product_id'));
      if (product) productIds.push(product.id);
      const was = base.get(id);
      out.set(id, {
        id,
        name: String(g('name') ?? ''),
        state: String(g('state')),
        priority: typeof g('priority') === 'string' ? (g('priority') as string) : '0',
        product: { id: product?.id ?? 0, name: product?.name ?? '', code: null, tracking: 'none' },
        quantity: numOrNull(g('product_qty')) ?? 0,
        uom: m2o(g('product_uom_id'))?.name ?? null,
        quantityProducing: numOrNull(g('qty_producing')),
        scheduledStart: isoFromOdoo(g('date_start')),
        scheduledEnd: isoFromOdoo(g('date_finished')),
        deadline: isoFromOdoo(g('date_deadline')),
        origin: typeof g('origin') === 'string' && g('origin') ? (g('origin') as string) : null,
        writeDate: isoFromOdoo(p.write_date) ?? '',
        workorders: [...(was?.workorders ?? [])],
        components: [...(was?.components ?? [])],
      });
    }
    const target = (id: number): ReleasedOrder | undefined => {
      if (out.has(id)) return out.get(id) ?? undefined;
      const o = base.get(id);
      if (!o) return undefined;
      const copy = { ...o, workorders: [...o.workorders], components: [...o.components] };
      out.set(id, copy);
      return copy;
    };
    for (const row of wos) {
      const { productionId, ...w } = reader.workorder(row);
      const o = target(productionId);
      if (!o) continue;
      const name = w.workcenterId !== null ? this.workcenterNames.get(w.workcenterId)?.name : undefined;
      replaceById(o.workorders, { ...w, workcenter: name ?? w.workcenter } satisfies ReleasedWorkorder);
    }
    for (const row of moves) {
      const { productionId, productId, ...c } = reader.component(row);
      const o = target(productionId);
      if (!o) continue;
      productIds.push(productId);
      if (c.state === 'cancel') removeById(o.components, c.id);
      else replaceById(o.components, { ...c, product: { id: productId, name: '', code: null, tracking: 'none' } } satisfies ReleasedComponent);
    }
    for (const o of out.values()) if (o) for (const c of o.components) productIds.push(c.product.id);
    for (const o of out.values()) if (o) productIds.push(o.product.id);
    const products = await reader.productsOf(productIds.filter((id) => id > 0));
    for (const o of out.values()) {
      if (!o) continue;
      o.product = products.get(o.product.id) ?? o.product;
      o.components = o.components.map((c) => ({ ...c, product: products.get(c.product.id) ?? c.product }));
      o.workorders.sort((a, b) => a.id - b.id);
      o.components.sort((a, b) => a.id - b.id);
    }
    return out;
  }

  /** Compare with what the release has: what is new or different, what left. */
  private apply(next: Map<number, ReleasedOrder | null>, full: boolean, asOf: number): ReleaseChange {
    const change: ReleaseChange = {
      kind: full ? 'full' : 'incremental',
      changed: [],
      removed: [],
      workcenters: new Set(),
      unknownWorkcenters: [],
      asOf,
      requests: 0,
    };
    for (const [id, o] of next) {
      const was = this.orders.get(id);
      if (o === null) {
        if (was) {
          change.removed.push({ order: was, reason: full ? 'gone' : 'state' });
          for (const wc of workcentersOf(was)) change.workcenters.add(wc);
        }
        continue;
      }
      if (was && JSON.stringify(was) === JSON.stringify(o)) continue;
      change.changed.push(o);
      for (const wc of workcentersOf(was)) change.workcenters.add(wc);
      for (const wc of workcentersOf(o)) change.workcenters.add(wc);
      for (const w of o.workorders) {
        if (w.state === 'done' || w.state === 'cancel' || w.workcenter === null) continue;
        const code = w.workcenterId !== null ? (this.workcenterNames.get(w.workcenterId)?.code ?? null) : null;
        if (!this.isPlant(w.workcenter, code)) change.unknownWorkcenters.push({ order: o.name, workorder: w.name, workcenter: w.workcenter });
      }
    }
    return change;
  }

  private isPlant(name: string, code: string | null): boolean {
    if (this.config.workcenters.length === 0) return true;
    return this.config.workcenters.includes(name) || (code !== null && this.config.workcenters.includes(code));
  }

  private plantWorkcenterIds(): number[] | undefined {
    if (this.config.workcenters.length === 0) return undefined;
    return [...this.workcenterNames].filter(([, w]) => this.isPlant(w.name, w.code)).map(([id]) => id);
  }
}

function latestWrite(rows: readonly Row[]): string | undefined {
  let max: string | undefined;
  for (const r of rows) if (typeof r.write_date === 'string' && (!max || r.write_date > max)) max = r.write_date;
  return max;
}

function replaceById<T extends { id: number }>(list: T[], item: T): void {
  const i = list.findIndex((x) => x.id === item.id);
  if (i >= 0) list[i] = item;
  else list.push(item);
}

function removeById<T extends { id: number }>(list: T[], id: number): void {
  const i = list.findIndex((x) => x.id === id);
  if (i >= 0) list.splice(i, 1);
}
