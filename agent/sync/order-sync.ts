import type { OrderSyncStore } from '../buffer/order-sync-store';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { OdooClient } from '../odoo/types';
import { readOdooOrders } from './order-reader';
import { buildOrderView, type OrderSyncView } from './order-view';

const CLOSED = new Set(['done', 'cancel', 'missing']);

export interface OrderSyncOptions {
  store: OrderSyncStore;
  /** The Odoo link, when delivery is configured; `connected` says whether it answers now. */
  odoo?: () => { client: OdooClient; connected(): boolean } | undefined;
  /** Waits for the shared rate limit before each request. */
  beforeRequest?: () => Promise<void>;
  log?: Logger;
  now?: () => number;
}

/**
 * The per-order sync view of a running agent: refresh() reads Odoo's side of
 * the orders the outbox names (while Odoo answers), keeps it in the outbox
 * file, and makes the view; view() gives the last one. Orders Odoo already
 * holds as done or cancelled, with nothing delivered since, are not read again.
 */
export class OrderSync {
  private last: OrderSyncView | undefined;
  private running: Promise<OrderSyncView> | undefined;
  /** Requests made by the last refresh. */
  lastRequests = 0;

  constructor(private readonly opts: OrderSyncOptions) {}

  /** The last view; one older than 30 s is made again from the outbox and the cache (the page and /metrics ask often, the outbox is read at most twice a minute). */
  view(): OrderSyncView {
    const now = (this.opts.now ?? Date.now)();
    if (!this.last || now - this.last.at > 30_000) this.last = this.offline();
    return this.last;
  }

  /** The view from the outbox and the cache alone (Odoo not asked); `all` keeps orders closed in Odoo and in sync. */
  offline(all = false): OrderSyncView {
    const s = this.opts.store;
    return buildOrderView(s.plantSide(), s.odooSide(), (this.opts.now ?? Date.now)(), all);
  }

  /** Read Odoo's side where it may have changed (one refresh at a time), then make the view. */
  refresh(): Promise<OrderSyncView> {
    this.running ??= this.doRefresh().finally(() => (this.running = undefined));
    return this.running;
  }

  private async doRefresh(): Promise<OrderSyncView> {
    const now = this.opts.now ?? Date.now;
    const store = this.opts.store;
    const plant = store.plantSide();
    const link = this.opts.odoo?.();
    this.lastRequests = 0;
    if (link?.connected()) {
      const cached = store.odooSide();
      const names = [...plant.values()]
        .filter((p) => {
          const c = cached.get(p.name);
          const unfinished = (p.events.pending ?? 0) + (p.events.inflight ?? 0) + (p.events.retrying ?? 0) + (p.events.parked ?? 0);
          return !c || !CLOSED.has(c.value.state) || unfinished > 0 || (p.lastDoneAt ?? 0) > c.readAt;
        })
        .map((p) => p.name);
      try {
        const at = now();
        const read = await readOdooOrders(link.client, names, { beforeRequest: this.opts.beforeRequest });
        this.lastRequests = read.requests;
        store.saveOdooSide(read.orders, at);
      } catch (err) {
        this.opts.log?.warn({ err }, `orders: Odoo's side not read (${errorMessage(err)}); the view shows it as last read`);
      }
    }
    this.last = buildOrderView(store.plantSide(), store.odooSide(), now());
    return this.last;
  }
}
