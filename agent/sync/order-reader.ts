import type { OdooOrderSide } from '../buffer/order-sync-store';
import type { OdooClient } from '../odoo/types';
import { m2oId, m2oName } from './operations/odoo-calls';

/**
 * Odoo's side of manufacturing orders, read by name in batches: the order
 * (state, quantities), its component consumption (picked move lines of its
 * raw moves, per product) and its done scrap. Five search_read calls per
 * batch of up to `batch` orders, whatever their number of moves.
 *
 * Small on purpose: the release follower may later hand it the orders it
 * already holds.
 */

export interface OrderReaderOptions {
  /** Orders per batch of reads (default 200). */
  batch?: number;
  /** Called before every request (the shared rate limit). */
  beforeRequest?: () => Promise<void>;
}

export interface OrderRead {
  orders: OdooOrderSide[];
  /** Names Odoo has no order for (deleted, or never known): kept as state `missing`. */
  missing: string[];
  requests: number;
}

type Row = Record<string, unknown>;

export async function readOdooOrders(odoo: OdooClient, names: readonly string[], opts: OrderReaderOptions = {}): Promise<OrderRead> {
  const batch = opts.batch ?? 200;
  const out: OrderRead = { orders: [], missing: [], requests: 0 };
  const read = async (model: string, domain: unknown[], fields: string[]): Promise<Row[]> => {
    await opts.beforeRequest?.();
    out.requests++;
    return (await odoo.call<Row[]>(model, 'search_read', { kwargs: { domain, fields }, context: { active_test: false } })) ?? [];
  };
  for (let i = 0; i < names.length; i += batch) {
    const chunk = names.slice(i, i + batch);
    const ids = chunk.filter((n) => /^\d+$/.test(n)).map(Number);
    const byName = chunk.filter((n) => !/^\d+$/.test(n));
    const domain = ids.length && byName.length ? ['|', ['name', 'in', byName], ['id', 'in', ids]] : ids.length ? [['id', 'in', ids]] : [['name', 'in', byName]];
    const mos = await read('mrp.production', domain, ['id', 'name', 'state', 'product_id', 'product_qty', 'qty_producing', 'qty_produced']);
    const found = new Set<string>();
    for (const m of mos) found.add(String(m.name)).add(String(m.id));
    for (const n of chunk.filter((x) => !found.has(x))) {
      out.missing.push(n);
      out.orders.push({ id: 0, name: n, state: 'missing', product: null, productQty: 0, qtyProducing: 0, qtyProduced: 0, components: [], scrapped: 0 });
    }
    if (mos.length === 0) continue;
    const moIds = mos.map((m) => m.id as number);

    const moves = await read(
      'stock.move',
      [
        ['raw_material_production_id', 'in', moIds],
        ['state', '!=', 'cancel'],
        // A scrap of a component on the order is a raw move too (Odoo's mrp links it): it counts as scrap, not consumption.
        ['scrap_id', '=', false],
      ],
      ['id', 'raw_material_production_id', 'product_id'],
    );
    const lines = moves.length
      ? await read(
          'stock.move.line',
          [
            ['move_id', 'in', moves.map((m) => m.id)],
            ['picked', '=', true],
          ],
          ['move_id', 'quantity'],
        )
      : [];
    const productIds = [...new Set(moves.map((m) => m2oId(m.product_id)).filter((x): x is number => x !== undefined))];
    const products = productIds.length ? await read('product.product', [['id', 'in', productIds]], ['id', 'name', 'default_code', 'barcode']) : [];
    const scraps = await read(
      'stock.scrap',
      [
        ['production_id', 'in', moIds],
        ['state', '=', 'done'],
      ],
      ['production_id', 'scrap_qty'],
    );

    const productOf = new Map(products.map((p) => [p.id as number, p]));
    const picked = new Map<number, number>();
    for (const l of lines) {
      const moveId = m2oId(l.move_id);
      if (moveId !== undefined) picked.set(moveId, (picked.get(moveId) ?? 0) + Number(l.quantity ?? 0));
    }
    for (const mo of mos) {
      const components = new Map<number, { product: string; codes: string[]; consumed: number }>();
      for (const mv of moves) {
        if (m2oId(mv.raw_material_production_id) !== mo.id) continue;
        const pid = m2oId(mv.product_id)!;
        const p = productOf.get(pid);
        const c = components.get(pid) ?? {
          product: String(p?.name ?? m2oName(mv.product_id) ?? pid),
          codes: [p?.default_code, p?.barcode, p?.name].filter((x): x is string => typeof x === 'string' && x !== ''),
          consumed: 0,
        };
        c.consumed = round(c.consumed + (picked.get(mv.id as number) ?? 0));
        components.set(pid, c);
      }
      out.orders.push({
        id: mo.id as number,
        name: String(mo.name),
        state: String(mo.state),
        product: m2oName(mo.product_id) ?? null,
        productQty: Number(mo.product_qty ?? 0),
        qtyProducing: Number(mo.qty_producing ?? 0),
        qtyProduced: Number(mo.qty_produced ?? 0),
        components: [...components.values()],
        scrapped: round(scraps.filter((s) => m2oId(s.production_id) === mo.id).reduce((n, s) => n + Number(s.scrap_qty ?? 0), 0)),
      });
    }
  }
  return out;
}

function round(n: number): number {
  return Number(n.toPrecision(12));
}
