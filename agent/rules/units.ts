import type { CanonicalEvent } from '../model/event';
import type { MasterDataLookup, Unit } from './types';

/**
 * Units of measure at the edge: an event whose quantity comes in a unit of its
 * own (`uom: g`) is converted to the unit Odoo counts that product (or that
 * order) in, with Odoo's own units from the master data, before it is queued.
 * Only within one group of units that convert into each other (a category in
 * Odoo 17/18, one reference chain in Odoo 19); anything else is refused at the
 * edge with the reason, instead of parking in Odoo hours later. Pure.
 *
 * Without master data (before the first pull), or when the product, the order
 * or its unit is not in it, the event goes as it is and Odoo decides.
 */

/** The quantity field of each event type that carries a unit, and what names its target unit. */
const QUANTITIES: Partial<Record<CanonicalEvent['type'], { quantity: string; target: 'product' | 'production' }>> = {
  'production.reported': { quantity: 'totalQuantity', target: 'production' },
  'material.consumed': { quantity: 'quantity', target: 'product' },
  'inventory.moved': { quantity: 'quantity', target: 'product' },
  'scrap.reported': { quantity: 'quantity', target: 'product' },
};

export type UnitResult = { ok: true; event: CanonicalEvent } | { ok: false; reason: string };

/** The event in the unit Odoo counts its product or order in, or why it cannot be converted. */
export function convertUnits(event: CanonicalEvent, masterData: MasterDataLookup | undefined): UnitResult {
  const spec = QUANTITIES[event.type];
  const payload = event.payload as Record<string, unknown>;
  const uom = payload.uom;
  if (!spec || typeof uom !== 'string' || !masterData?.unit || !masterData.unitById) return { ok: true, event };
  const target = targetUnit(spec.target, payload, masterData);
  if (!target) return { ok: true, event };
  const to = masterData.unitById(target.uomId);
  if (!to) return { ok: true, event };
  const from = masterData.unit(uom);
  if (!from) return { ok: false, reason: `unit "${uom}" is not a unit of measure in Odoo's master data (${target.label} counts in "${to.name}")` };
  if (from.id === to.id) return { ok: true, event };
  if (from.group !== to.group) {
    return {
      ok: false,
      reason: `${event.type} in "${from.name}" cannot be converted to "${to.name}", the unit of ${target.label}: Odoo has no conversion between them (not the same category)`,
    };
  }
  const quantity = payload[spec.quantity];
  if (typeof quantity !== 'number') return { ok: true, event };
  const converted = roundTo(convertQuantity(quantity, from, to), to.rounding);
  return { ok: true, event: { ...event, payload: { ...payload, [spec.quantity]: converted, uom: to.name } } as CanonicalEvent };
}

/** `quantity` of `from` in `to` (same group): through the group's reference unit, as Odoo does. */
export function convertQuantity(quantity: number, from: Unit, to: Unit): number {
  return (quantity * from.perReference) / to.perReference;
}

/** Round half up to a multiple of `rounding` (a unit's precision, 0.01), without float noise (0.30000000000000004). */
export function roundTo(value: number, rounding: number | undefined): number {
  if (!rounding || rounding <= 0) return Number(value.toPrecision(12));
  const decimals = Math.max(0, Math.ceil(-Math.log10(rounding) - 1e-9));
  const steps = Math.round(Number((value / rounding).toPrecision(12)));
  return Number((steps * rounding).toFixed(Math.min(decimals, 15)));
}

function targetUnit(
  kind: 'product' | 'production',
  payload: Record<string, unknown>,
  masterData: MasterDataLookup,
): { uomId: number; label: string } | undefined {
  if (kind === 'production') {
    const name = payload.production;
    if (typeof name !== 'string') return undefined;
    const mo = masterData.production(name);
    return mo?.uomId !== undefined ? { uomId: mo.uomId, label: `order ${mo.name}` } : undefined;
  }
  const code = payload.product;
  if (typeof code !== 'string') return undefined;
  const product = masterData.product(code);
  return product?.uomId !== undefined ? { uomId: product.uomId, label: `product ${product.defaultCode ?? product.name}` } : undefined;
}
