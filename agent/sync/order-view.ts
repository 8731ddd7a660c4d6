import type { CachedOrderSide, OdooOrderSide, PlantOrderSide } from '../buffer/order-sync-store';

/**
 * The per-order sync view, pure: for each manufacturing order the plant's
 * events name, Odoo's side as last read next to what the plant reported, and
 * a verdict.
 *
 *   parked   needs a person: an event of the order waits in the exception queue
 *   pending  events of the order still to send (pending, in flight, retrying)
 *   differs  everything was delivered but Odoo holds something else (listed)
 *   in-sync  everything was delivered and Odoo holds what the plant reported
 *   unknown  Odoo's side was never read, or was read before the order's last delivery
 */

export type OrderVerdict = 'in-sync' | 'pending' | 'parked' | 'differs' | 'unknown';
export const ORDER_VERDICTS: readonly OrderVerdict[] = ['in-sync', 'pending', 'parked', 'differs', 'unknown'];

export interface OrderDifference {
  /** `produced`, `state`, `scrapped`, `consumed <product>`, or `order` (not found in Odoo). */
  what: string;
  plant: number | string;
  odoo: number | string;
}

export interface OrderSyncRow {
  order: string;
  verdict: OrderVerdict;
  /** The verdict in words: "in sync", "3 events still to send", "needs a person: 1 parked", "differs: produced 40 here, 38 in Odoo". */
  text: string;
  plant: {
    done: number;
    pending: number;
    parked: number;
    skipped: number;
    produced: number | null;
    completed: boolean;
    consumed: Record<string, number>;
    scrapped: number;
    lastDoneAt: number | null;
  };
  /** Odoo's side as last read, or null when never read. */
  odoo: (Omit<OdooOrderSide, 'components'> & { consumed: Record<string, number>; readAt: number }) | null;
  differences: OrderDifference[];
}

export interface OrderSyncView {
  /** When the view was made (ms). */
  at: number;
  /** The oldest read of Odoo's side among the orders shown (ms), or null. */
  odooReadAt: number | null;
  counts: Record<OrderVerdict, number>;
  orders: OrderSyncRow[];
}

const CLOSED = new Set(['done', 'cancel']);

/**
 * Make the view. Orders Odoo holds as done or cancelled drop out once they
 * are in sync (`all` keeps them).
 */
export function buildOrderView(
  plant: ReadonlyMap<string, PlantOrderSide>,
  odoo: ReadonlyMap<string, CachedOrderSide>,
  now: number,
  all = false,
): OrderSyncView {
  const byRef = new Map<string, CachedOrderSide>();
  for (const c of odoo.values()) {
    byRef.set(c.value.name, c);
    if (c.value.id) byRef.set(String(c.value.id), c);
  }
  const counts = Object.fromEntries(ORDER_VERDICTS.map((v) => [v, 0])) as Record<OrderVerdict, number>;
  const orders: OrderSyncRow[] = [];
  let oldest: number | null = null;
  for (const p of [...plant.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const row = orderRow(p, byRef.get(p.name));
    if (!all && row.verdict === 'in-sync' && row.odoo && CLOSED.has(row.odoo.state)) continue;
    counts[row.verdict]++;
    if (row.odoo) oldest = oldest === null ? row.odoo.readAt : Math.min(oldest, row.odoo.readAt);
    orders.push(row);
  }
  return { at: now, odooReadAt: oldest, counts, orders };
}

export function orderRow(p: PlantOrderSide, cached: CachedOrderSide | undefined): OrderSyncRow {
  const e = p.events;
  const pending = (e.pending ?? 0) + (e.inflight ?? 0) + (e.retrying ?? 0);
  const parked = e.parked ?? 0;
  const row: OrderSyncRow = {
    order: p.name,
    verdict: 'unknown',
    text: '',
    plant: {
      done: e.done ?? 0,
      pending,
      parked,
      skipped: e.skipped ?? 0,
      produced: p.produced?.total ?? null,
      completed: p.completed,
      consumed: p.consumed,
      scrapped: p.scrapped,
      lastDoneAt: p.lastDoneAt,
    },
    odoo: cached ? odooPart(cached) : null,
    differences: [],
  };
  if (parked > 0) return verdict(row, 'parked', `needs a person: ${parked} parked`);
  if (pending > 0) return verdict(row, 'pending', `${pending} ${pending === 1 ? 'event' : 'events'} still to send`);
  if (!cached) return verdict(row, 'unknown', "Odoo's side not read yet");
  if (p.lastDoneAt !== null && cached.readAt < p.lastDoneAt) return verdict(row, 'unknown', "Odoo's side was read before the last delivery");
  row.differences = compare(p, cached.value);
  if (row.differences.length === 0) return verdict(row, 'in-sync', 'in sync');
  return verdict(row, 'differs', `differs: ${row.differences.map(describe).join('; ')}`);
}

function verdict(row: OrderSyncRow, v: OrderVerdict, text: string): OrderSyncRow {
  row.verdict = v;
  row.text = text;
  return row;
}

export function describe(d: OrderDifference): string {
  return d.what === 'order' ? `not found in Odoo` : `${d.what} ${d.plant} here, ${d.odoo} in Odoo`;
}

function odooPart(c: CachedOrderSide): NonNullable<OrderSyncRow['odoo']> {
  const { components, ...rest } = c.value;
  return { ...rest, consumed: Object.fromEntries(components.map((x) => [x.product, x.consumed])), readAt: c.readAt };
}

function same(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-6;
}

/** What Odoo holds that is not what the plant reported (only what the plant reported is compared). */
export function compare(p: PlantOrderSide, o: OdooOrderSide): OrderDifference[] {
  if (o.state === 'missing') return [{ what: 'order', plant: p.name, odoo: 'none' }];
  const out: OrderDifference[] = [];
  if (p.produced) {
    const odoo = o.state === 'done' ? o.qtyProduced : o.qtyProducing;
    if (!same(odoo, p.produced.total)) out.push({ what: 'produced', plant: p.produced.total, odoo });
  }
  if (p.completed && o.state !== 'done') out.push({ what: 'state', plant: 'done', odoo: o.state });
  for (const [product, qty] of Object.entries(p.consumed)) {
    const c = o.components.find((x) => x.codes.includes(product) || x.product === product);
    const odoo = c?.consumed ?? 0;
    if (!same(odoo, qty)) out.push({ what: `consumed ${product}`, plant: qty, odoo });
  }
  if (p.scrapped > 0 && !same(p.scrapped, o.scrapped)) out.push({ what: 'scrapped', plant: p.scrapped, odoo: o.scrapped });
  return out;
}
