import { gtinForms, isGtin } from './kinds/scan-gs1';
import type { MasterDataLookup } from './types';

/**
 * Lookups in the master data cached from Odoo that more than one check makes:
 * the scanner rule (a scanned product or order) and the edge check of every
 * event (agent/sync/edge-check.ts). Pure: the cache is passed in.
 */

export type ProductRecord = NonNullable<ReturnType<MasterDataLookup['product']>>;
export type LotRecord = NonNullable<ReturnType<MasterDataLookup['lot']>>;
export type ProductionRecord = NonNullable<ReturnType<MasterDataLookup['production']>>;

export interface ProductMatch {
  product: ProductRecord;
  /** The exact code that found the product (for a GTIN-14 label this may be the EAN-13 stored in Odoo). */
  code: string;
  /** `gtin` when found through a GTIN form, `code` when found by the code as scanned. */
  via: 'code' | 'gtin';
}

/** States of a manufacturing order the shop floor reports on. */
export const OPEN_PRODUCTION_STATES: ReadonlySet<string> = new Set(['confirmed', 'progress', 'to_close']);

/** Find a product by the code as given (barcode or internal reference), then by its GTIN forms. */
export function findProduct(masterData: MasterDataLookup, code: string): ProductMatch | undefined {
  const direct = masterData.product(code);
  if (direct) return { product: direct, code, via: 'code' };
  if (isGtin(code)) return findProductByGtin(masterData, code, code);
  return undefined;
}

/** Find a product by a GTIN under each form it may be stored as (GTIN-14, EAN-13, UPC-A, EAN-8). */
export function findProductByGtin(masterData: MasterDataLookup, gtin: string, skip?: string): ProductMatch | undefined {
  for (const form of gtinForms(gtin)) {
    if (form === skip) continue;
    const p = masterData.product(form);
    if (p) return { product: p, code: form, via: 'gtin' };
  }
  return undefined;
}

export function unknownProduct(code: string): string {
  return `product "${code}" is not known in Odoo`;
}

/**
 * An order the shop floor may report on, or why not: unknown to the cache,
 * or known in a state Odoo refuses reports in (a draft).
 */
export function openProduction(masterData: MasterDataLookup, ref: string | number): { production: ProductionRecord } | { problem: string; code: string } {
  const mo = typeof ref === 'number' ? masterData.productionById?.(ref) : masterData.production(ref);
  const said = typeof ref === 'number' ? `id ${ref}` : `"${ref}"`;
  if (!mo) return { problem: `manufacturing order ${said} is not known or not open in Odoo`, code: 'EDGE_UNKNOWN_PRODUCTION' };
  if (mo.state === 'draft')
    return { problem: `manufacturing order ${mo.name} is still a draft in Odoo (confirm it first)`, code: 'EDGE_PRODUCTION_NOT_CONFIRMED' };
  if (!OPEN_PRODUCTION_STATES.has(mo.state)) return { problem: `manufacturing order ${mo.name} is ${mo.state} in Odoo`, code: 'EDGE_PRODUCTION_CLOSED' };
  return { production: mo };
}
