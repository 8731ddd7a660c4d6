import { lookupsFor, type OdooLookups } from './lookup';
import { readOne } from './odoo-calls';
import { OperationError, type OperationContext, type OperationOptions } from './types';

/** A manufacturing order as the operations read it (fresh every time: its state matters). */
export interface ProductionRecord {
  id: number;
  name: string;
  state: string;
  [field: string]: unknown;
}

/** Resolve a manufacturing order (name or id) and read `fields` of it. */
export async function readProduction(
  ctx: OperationContext,
  opts: OperationOptions,
  ref: string | number,
  fields: string[],
): Promise<{ mo: ProductionRecord; look: OdooLookups }> {
  const look = lookupsFor(ctx.odoo, opts.lookupTtlMs);
  const id = await look.production(ref);
  const mo = await readOne<ProductionRecord>(ctx, 'mrp.production', id, ['id', 'name', 'state', ...fields], `manufacturing order ${JSON.stringify(ref)}`);
  return { mo, look };
}

/** Park unless the order is confirmed or in progress (states where the shop floor reports on it). */
export function requireOpenProduction(mo: ProductionRecord, doing: string): void {
  if (mo.state === 'done' || mo.state === 'cancel') {
    throw new OperationError(
      'PRODUCTION_CLOSED',
      `cannot ${doing} manufacturing order ${mo.name}: it is ${mo.state === 'done' ? 'done' : 'cancelled'} in Odoo`,
    );
  }
  if (mo.state === 'draft') {
    throw new OperationError('PRODUCTION_NOT_CONFIRMED', `cannot ${doing} manufacturing order ${mo.name}: it is still a draft in Odoo (confirm it first)`);
  }
}

/** Context for button_mark_done: no backorder, no consumption wizard, no redirection (and Odoo 16's immediate-production wizard skipped). */
export const MARK_DONE_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({
  skip_backorder: true,
  skip_consumption: true,
  skip_immediate: true,
  skip_redirection: true,
});
