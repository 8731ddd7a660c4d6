/**
 * What the release keeps of an order, and the messages made from it. Pure:
 * no I/O. The JSON shapes are the documented schema (docs/order-release.md);
 * change them only with a new schema version.
 */

export const ORDER_SCHEMA = 'edge-agent.order/1';
export const QUEUE_SCHEMA = 'edge-agent.queue/1';
export const RELEASE_STATUS_SCHEMA = 'edge-agent.release/1';

export interface ReleasedProduct {
  id: number;
  name: string;
  /** Internal reference (default_code), when the product has one. */
  code: string | null;
  tracking: 'none' | 'lot' | 'serial';
}

export interface ReleasedWorkorder {
  id: number;
  name: string;
  /** The work center as named in Odoo, or null when Odoo gave none. */
  workcenter: string | null;
  workcenterId: number | null;
  state: string;
  scheduledStart: string | null;
  scheduledEnd: string | null;
  /** Minutes. */
  durationExpected: number | null;
  quantityProduced: number | null;
  writeDate: string;
}

export interface ReleasedComponent {
  /** The stock move's id. */
  id: number;
  product: ReleasedProduct;
  quantity: number;
  uom: string | null;
  state: string;
  writeDate: string;
}

export interface ReleasedOrder {
  id: number;
  name: string;
  state: string;
  /** Odoo's priority: '0' normal, '1' urgent (higher is sooner). */
  priority: string;
  product: ReleasedProduct;
  quantity: number;
  uom: string | null;
  quantityProducing: number | null;
  scheduledStart: string | null;
  scheduledEnd: string | null;
  deadline: string | null;
  origin: string | null;
  writeDate: string;
  workorders: ReleasedWorkorder[];
  components: ReleasedComponent[];
}

/** The order's version: its id and the latest write_date of the order, its work orders and components (ISO, UTC). */
export function versionOf(o: ReleasedOrder): { id: number; writeDate: string } {
  let latest = o.writeDate;
  for (const w of o.workorders) if (w.writeDate > latest) latest = w.writeDate;
  for (const c of o.components) if (c.writeDate > latest) latest = c.writeDate;
  return { id: o.id, writeDate: latest };
}

/** Work orders still to do (not done, not cancelled). */
export function openWorkorders(o: ReleasedOrder): ReleasedWorkorder[] {
  return o.workorders.filter((w) => w.state !== 'done' && w.state !== 'cancel');
}

export interface QueueEntry {
  order: ReleasedOrder;
  workorder: ReleasedWorkorder;
}

/**
 * A work center's queue: its open work orders, the ones in progress first,
 * then by priority (urgent first), scheduled start, order id.
 */
export function queueOf(orders: Iterable<ReleasedOrder>, workcenter: string): QueueEntry[] {
  const out: QueueEntry[] = [];
  for (const order of orders) for (const workorder of openWorkorders(order)) if (workorder.workcenter === workcenter) out.push({ order, workorder });
  const key = (e: QueueEntry) =>
    [
      e.workorder.state === 'progress' ? 0 : 1,
      -Number(e.order.priority || 0),
      e.workorder.scheduledStart ?? e.order.scheduledStart ?? '~',
      e.order.id,
      e.workorder.id,
    ] as const;
  return out.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    return 0;
  });
}

/** The work centers an order has open work orders at. */
export function workcentersOf(o: ReleasedOrder | undefined): Set<string> {
  const out = new Set<string>();
  if (o) for (const w of openWorkorders(o)) if (w.workcenter !== null) out.add(w.workcenter);
  return out;
}

/** The retained message of one order. */
export function orderMessage(o: ReleasedOrder, plant: string, asOf: number): Record<string, unknown> {
  return {
    schema: ORDER_SCHEMA,
    plant,
    asOf: new Date(asOf).toISOString(),
    version: versionOf(o),
    order: {
      id: o.id,
      name: o.name,
      state: o.state,
      priority: o.priority,
      product: o.product,
      quantity: o.quantity,
      uom: o.uom,
      quantityProducing: o.quantityProducing,
      scheduledStart: o.scheduledStart,
      scheduledEnd: o.scheduledEnd,
      deadline: o.deadline,
      origin: o.origin,
      workorders: o.workorders.map(({ writeDate: _w, workcenterId: _id, ...w }) => w),
      components: o.components.map(({ writeDate: _w, ...c }) => c),
    },
  };
}

/** The retained message of a work center's queue. */
export function queueMessage(workcenter: string, queue: readonly QueueEntry[], plant: string, asOf: number): Record<string, unknown> {
  return {
    schema: QUEUE_SCHEMA,
    plant,
    workcenter,
    asOf: new Date(asOf).toISOString(),
    orders: queue.map(({ order, workorder }) => ({
      id: order.id,
      name: order.name,
      version: versionOf(order),
      state: order.state,
      priority: order.priority,
      product: order.product,
      quantity: order.quantity,
      uom: order.uom,
      workorder: {
        id: workorder.id,
        name: workorder.name,
        state: workorder.state,
        scheduledStart: workorder.scheduledStart,
        scheduledEnd: workorder.scheduledEnd,
      },
    })),
  };
}

/** Is this payload one of the release's own messages (any version of its schemas)? */
export function isReleaseMessage(payload: Buffer): boolean {
  if (payload.length === 0) return true;
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    return !!v && typeof v === 'object' && typeof (v as { schema?: unknown }).schema === 'string' && (v as { schema: string }).schema.startsWith('edge-agent.');
  } catch {
    return false;
  }
}

/** A name as one part of a topic: MQTT wildcards and NUL become `_` (a `/` stays: it adds levels). */
export function topicPart(name: string): string {
  return name.replace(/[+#\u0000]/g, '_');
}

export interface ReleaseTopics {
  queue(workcenter: string): string;
  order(name: string): string;
  status: string;
  /** Filters that match every queue and order topic (to find retained messages left from before). */
  filters: string[];
  ack: string | undefined;
}

/** The topics from the configured templates. */
export function releaseTopics(
  t: { prefix: string; queueTopic: string; orderTopic: string; statusTopic: string; ackTopic?: string },
  plant: string,
): ReleaseTopics {
  const prefix = t.prefix.split('{plant}').join(plant);
  const fill = (tpl: string, vars: Record<string, string>) =>
    tpl.replace(/\{(prefix|plant|workcenter|order)\}/g, (_, k: string) => (k === 'prefix' ? prefix : k === 'plant' ? plant : (vars[k] ?? '')));
  const filter = (tpl: string) => {
    const f = fill(tpl, { workcenter: '\u0001', order: '\u0002' });
    // A trailing order name may span levels (WH/MO/00042); anywhere else a name is one level.
    return f.endsWith('\u0002') ? f.slice(0, -1) + '#' : f.replace(/[^/]*\u0002[^/]*/g, '+').replace(/[^/]*\u0001[^/]*/g, '+');
  };
  return {
    queue: (workcenter) => fill(t.queueTopic, { workcenter: topicPart(workcenter) }),
    order: (name) => fill(t.orderTopic, { order: topicPart(name) }),
    status: fill(t.statusTopic, {}),
    filters: [filter(t.queueTopic), filter(t.orderTopic)],
    ack: t.ackTopic === undefined ? undefined : fill(t.ackTopic, {}),
  };
}

/** Odoo's `2026-11-25 08:00:00` (UTC) as ISO 8601; null for false or empty. */
export function isoFromOdoo(v: unknown): string | null {
  if (typeof v !== 'string' || v === '') return null;
  return /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(v) ? `${v.slice(0, 10)}T${v.slice(11, 19)}Z` : v;
}

/** ISO 8601 back to Odoo's datetime text (for domains). */
export function odooFromIso(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace('T', ' ');
}
