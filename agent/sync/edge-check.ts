import type { EventCheck, Flag } from '../buffer/outbox';
import type { CanonicalEvent, EventOf } from '../model/event';
import { findProduct, openProduction, unknownProduct, type ProductRecord, type ProductionRecord } from '../rules/master-data';
import type { MasterDataLookup } from '../rules/types';

/**
 * The edge check: every event, before it is queued as sendable, is checked
 * against the master data cached from Odoo (agent/sync/master-data.ts). An
 * event Odoo would refuse (an unknown work center, a draft order, a serial
 * number moving 3 units) is flagged for a person at once, while the WAN may be
 * down, instead of parking hours later when it reaches Odoo.
 *
 * It mirrors what the operations (agent/sync/operations) look up and refuse,
 * and no more. Where the cache cannot say, the event goes and Odoo decides:
 * a lot the cache does not know (the cache holds the newest lots only, and
 * lots are created in Odoo all the time), an order the cache does not hold
 * for a type whose operation accepts a done order as already applied, and
 * every kind the last pull did not bring. Flagged events are checked again
 * at every pull and go on by themselves once Odoo knows what they name.
 */

export type MasterDataKind = 'product' | 'lot' | 'production' | 'workorder' | 'workcenter' | 'loss' | 'location' | 'uom' | 'equipment';

export interface WorkorderRecord {
  id: number;
  /** The operation's name (`Assembly`), as events name it. */
  name: string;
  state: string;
  productionId: number;
  workcenterId?: number;
}

interface Named {
  id: number;
  name: string;
}

/** What the edge check reads: the cache of agent/sync/master-data.ts. */
export interface EdgeMasterData extends MasterDataLookup {
  /** True once a pull has filled the cache. */
  readonly filled: boolean;
  /** Whether the last pull brought this kind; a kind not brought (no such model in Odoo, an older pull) is not checked. */
  has(kind: MasterDataKind): boolean;
  productionById(id: number): ProductionRecord | undefined;
  workorders(productionId: number): WorkorderRecord[];
  workcenter(nameOrCode: string): Named | undefined;
  loss(name: string): Named | undefined;
  location(nameOrBarcode: string): Named | undefined;
  uom(name: string): Named | undefined;
  equipment(nameOrSerial: string): Named | undefined;
}

/** Why Odoo would refuse an event. */
export interface Problem {
  code: string;
  reason: string;
}

type Found<T> = { found: T } | Problem | undefined;

const problem = (code: string, reason: string): Problem => ({ code, reason });

/** A name of a kind the cache holds in full: unknown is a problem; a kind the pull did not bring is not checked. */
function known(md: EdgeMasterData, kind: 'workcenter' | 'loss' | 'location' | 'uom' | 'equipment', ref: string | undefined, what: string): Problem | undefined {
  if (ref === undefined || !md.has(kind)) return undefined;
  if (md[kind](ref)) return undefined;
  return problem(`EDGE_UNKNOWN_${kind.toUpperCase()}`, `${what} "${ref}" is not known in Odoo`);
}

function product(md: EdgeMasterData, code: string): Found<ProductRecord> {
  if (!md.has('product')) return undefined;
  const match = findProduct(md, code);
  return match ? { found: match.product } : problem('EDGE_UNKNOWN_PRODUCT', unknownProduct(code));
}

/**
 * The order of an event whose operation refuses an order that is not open
 * (a done one included): unknown to the cache is a problem.
 */
function openOrder(md: EdgeMasterData, ref: string | number): Problem | undefined {
  if (!md.has('production')) return undefined;
  const open = openProduction(md, ref);
  return 'problem' in open ? problem(open.code, open.problem) : undefined;
}

/** The order of an event whose operation accepts a done order (as already applied): only a known draft is a problem. */
function orderIfKnown(md: EdgeMasterData, ref: string | number): Found<ProductionRecord> {
  if (!md.has('production')) return undefined;
  const mo = typeof ref === 'number' ? md.productionById(ref) : md.production(ref);
  if (!mo) return undefined;
  const open = openProduction(md, ref);
  return 'problem' in open ? problem(open.code, open.problem) : { found: mo };
}

/** Lot and serial rules of a tracked product: a lot is named, and a serial number moves quantity 1 (`maxQuantity`). */
function tracking(
  p: ProductRecord,
  code: string,
  lot: string | undefined,
  quantity: number,
  opts: { lotRequired: boolean; serialQuantity: (q: number) => boolean },
): Problem | undefined {
  const t = p.tracking ?? 'none';
  if (t === 'none') return undefined;
  if (lot === undefined) {
    return opts.lotRequired
      ? problem('EDGE_LOT_REQUIRED', `product "${code}" is tracked by ${t} in Odoo; the event names no ${t === 'serial' ? 'serial number' : 'lot'}`)
      : undefined;
  }
  if (t === 'serial' && !opts.serialQuantity(quantity)) {
    return problem('EDGE_SERIAL_QUANTITY', `product "${code}" is tracked by serial number in Odoo: serial "${lot}" moves quantity 1, not ${quantity}`);
  }
  return undefined;
}

const ONE = (q: number) => q === 1;

/** The work order a work order event names, resolved as the operation does (by id, name, work center, or the only one). */
function workorder(md: EdgeMasterData, e: EventOf<'workorder.started'> | EventOf<'workorder.finished'>): Problem | undefined {
  const p = e.payload;
  const wc = known(md, 'workcenter', p.workcenter, 'work center');
  if (wc) return wc;
  const order = orderIfKnown(md, p.production);
  if (order === undefined || !('found' in order)) return order;
  if (!md.has('workorder')) return undefined;
  const mo = order.found;
  let list = md.workorders(mo.id);
  const said: string[] = [];
  if (typeof p.workorder === 'number') {
    list = list.filter((w) => w.id === p.workorder);
    said.push(`id ${p.workorder}`);
  } else if (p.workorder !== undefined) {
    list = list.filter((w) => w.name === p.workorder);
    said.push(`"${p.workorder}"`);
  }
  if (p.workcenter !== undefined && md.has('workcenter')) {
    const id = md.workcenter(p.workcenter)?.id;
    list = list.filter((w) => w.workcenterId === id);
    said.push(`at work center "${p.workcenter}"`);
  }
  const what = `work order ${said.length ? `${said.join(' ')} ` : ''}of ${mo.name}`;
  if (list.length === 0) return problem('EDGE_UNKNOWN_WORKORDER', `${what} is not known in Odoo`);
  if (list.length > 1) return problem('EDGE_AMBIGUOUS_WORKORDER', `${what} is ambiguous: ${list.length} work orders match; name the operation or give its id`);
  const wo = list[0]!;
  if (wo.state === 'cancel') return problem('EDGE_WORKORDER_CLOSED', `work order "${wo.name}" of ${mo.name} is cancelled in Odoo`);
  return undefined;
}

/** The first reason Odoo would refuse `e`, as far as the cache can tell; undefined when it sees none or cannot say. */
export function checkEvent(e: CanonicalEvent, md: EdgeMasterData): Problem | undefined {
  switch (e.type) {
    case 'production.reported': {
      const p = e.payload;
      return openOrder(md, p.production) ?? known(md, 'uom', p.uom, 'unit of measure');
    }
    case 'production.completed': {
      const order = orderIfKnown(md, e.payload.production);
      return order && !('found' in order) ? order : undefined;
    }
    case 'material.consumed': {
      const p = e.payload;
      const order = openOrder(md, p.production);
      if (order) return order;
      const found = product(md, p.product);
      if (found && !('found' in found)) return found;
      return (
        (found ? tracking(found.found, p.product, p.serial ?? p.lot, p.quantity, { lotRequired: true, serialQuantity: ONE }) : undefined) ??
        known(md, 'uom', p.uom, 'unit of measure') ??
        known(md, 'location', p.location, 'location')
      );
    }
    case 'inventory.moved': {
      const p = e.payload;
      const count = p.kind === 'count';
      if (count && p.location === undefined && p.toLocation === undefined) {
        return problem('EDGE_LOCATION_REQUIRED', `inventory count of "${p.product}" names no location`);
      }
      if (!count && (p.fromLocation === undefined || p.toLocation === undefined)) {
        return problem('EDGE_LOCATION_REQUIRED', `transfer of "${p.product}" needs both fromLocation and toLocation`);
      }
      if (!count && p.quantity === 0) return problem('EDGE_NOTHING_TO_MOVE', `transfer of "${p.product}" has quantity 0`);
      const found = product(md, p.product);
      if (found && !('found' in found)) return found;
      const lotRule = { lotRequired: true, serialQuantity: count ? (q: number) => q <= 1 : ONE };
      return (
        (found ? tracking(found.found, p.product, p.serial ?? p.lot, p.quantity, lotRule) : undefined) ??
        (count
          ? known(md, 'location', p.location ?? p.toLocation, 'location')
          : (known(md, 'location', p.fromLocation, 'location') ??
            known(md, 'location', p.toLocation, 'location') ??
            known(md, 'uom', p.uom, 'unit of measure')))
      );
    }
    case 'scrap.reported': {
      const p = e.payload;
      const found = product(md, p.product);
      if (found && !('found' in found)) return found;
      return (
        (found ? tracking(found.found, p.product, p.lot, p.quantity, { lotRequired: false, serialQuantity: ONE }) : undefined) ??
        known(md, 'uom', p.uom, 'unit of measure') ??
        known(md, 'location', p.location, 'location')
      );
    }
    case 'downtime.started':
      return known(md, 'workcenter', e.payload.workcenter, 'work center') ?? known(md, 'loss', e.payload.reason, 'loss reason');
    case 'downtime.ended':
      return known(md, 'workcenter', e.payload.workcenter, 'work center') ?? known(md, 'loss', e.payload.reason, 'loss reason');
    case 'quality.recorded': {
      const p = e.payload;
      if (p.lot !== undefined && p.product === undefined) return problem('EDGE_PRODUCT_REQUIRED', `quality result names lot "${p.lot}" but no product`);
      const found = p.product === undefined ? undefined : product(md, p.product);
      return found && !('found' in found) ? found : undefined;
    }
    case 'maintenance.requested':
      return known(md, 'equipment', e.payload.equipment, 'equipment');
    case 'workorder.started':
    case 'workorder.finished':
      return workorder(md, e);
  }
}

export interface EdgeCheckOptions {
  /** Types whose flagged event does not hold back its key (sync.skippableTypes). */
  skippableTypes: Iterable<string>;
  /** Types the check leaves alone: those written by a generic mapping (sync.mappings), whose fields mean what the mapping says. */
  uncheckedTypes?: Iterable<string>;
}

/**
 * The edge check the config asks for over `md`, or undefined when events are
 * not delivered to Odoo or `sync.edgeCheck` is off. The agent and
 * `edge-agent events import` both take it from here.
 */
export function edgeCheckOf(
  config: { odoo?: unknown; sync: { enabled: boolean; edgeCheck: boolean; skippableTypes: readonly string[]; mappings: ReadonlyArray<{ eventType: string }> } },
  md: EdgeMasterData,
  hasClient = false,
): EdgeCheck | undefined {
  if (!config.sync.enabled || !config.sync.edgeCheck || (config.odoo === undefined && !hasClient)) return undefined;
  return new EdgeCheck(md, { skippableTypes: config.sync.skippableTypes, uncheckedTypes: config.sync.mappings.map((m) => m.eventType) });
}

/** The outbox's EventCheck over the master-data cache. */
export class EdgeCheck implements EventCheck {
  private readonly skippable: ReadonlySet<string>;
  private readonly unchecked: ReadonlySet<string>;

  constructor(
    private readonly md: EdgeMasterData,
    opts: EdgeCheckOptions,
  ) {
    this.skippable = new Set(opts.skippableTypes);
    this.unchecked = new Set(opts.uncheckedTypes ?? []);
  }

  get ready(): boolean {
    return this.md.filled;
  }

  check(e: CanonicalEvent): Flag | undefined {
    if (this.unchecked.has(e.type)) return undefined;
    const p = checkEvent(e, this.md);
    return p && { code: p.code, reason: p.reason, blocking: !this.skippable.has(e.type) };
  }
}
