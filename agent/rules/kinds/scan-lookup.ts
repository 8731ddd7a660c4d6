import type { MasterDataLookup } from '../types';
import { type Gs1Data, type Gs1ParseOptions, gtinForms, isGs1Code, isGtin, normalizeGtin, parseGs1, splitSymbology } from './scan-gs1';

/**
 * What a scanned code identifies, using the master data cached from Odoo when
 * the pull job has filled it. Pure: the lookup is passed in.
 */

export type ProductRecord = NonNullable<ReturnType<MasterDataLookup['product']>>;
export type LotRecord = NonNullable<ReturnType<MasterDataLookup['lot']>>;

export interface ProductMatch {
  product: ProductRecord;
  /** The exact code that found the product (for a GTIN-14 label this may be the EAN-13 stored in Odoo). */
  code: string;
  /** `gtin` when found through a GTIN form, `code` when found by the code as scanned. */
  via: 'code' | 'gtin';
}

export interface ScanIdentity {
  /** The scanned data without the symbology identifier. */
  code: string;
  symbology?: string;
  /** Set when the code is a GS1 element string. */
  gs1?: Gs1Data;
  /** GTIN-14 of the item: GS1 AI 01 (or 02), or a plain EAN/UPC code with a valid check digit. */
  gtin?: string;
  /** The product, when master data is available and knows the code. */
  product?: ProductMatch;
  /** The lot or serial, when master data is available and knows it for that product. */
  lotRecord?: LotRecord;
  /** False when no master data was available (offline before the first pull): nothing could be checked. */
  masterData: boolean;
}

export type ScanLookupResult = { ok: true; scan: ScanIdentity } | { ok: false; error: string };

/** Find a product by the code as scanned (barcode or internal reference), then by its GTIN forms. */
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

/**
 * Identify a scanned code: a GS1 element string is parsed (GTIN, lot, serial,
 * quantity, dates) and its GTIN looked up; a plain code is looked up as a
 * product barcode or internal reference, and as a GTIN when it is one.
 */
export function lookupScan(raw: string, masterData: MasterDataLookup | undefined, options: Gs1ParseOptions = {}): ScanLookupResult {
  const split = splitSymbology(raw);
  if (isGs1Code(raw, options)) {
    const r = parseGs1(raw, options);
    if (!r.ok) return { ok: false, error: r.error };
    const gtin = r.data.gtin ?? r.data.content;
    const scan: ScanIdentity = { code: split.body, gs1: r.data, masterData: masterData !== undefined };
    if (split.symbology) scan.symbology = split.symbology;
    if (gtin) scan.gtin = gtin;
    if (masterData && gtin) {
      const match = findProductByGtin(masterData, gtin);
      if (match) {
        scan.product = match;
        const lotName = r.data.lot ?? r.data.serial;
        if (lotName) {
          const lot = masterData.lot(lotName, match.product.id);
          if (lot) scan.lotRecord = lot;
        }
      }
    }
    return { ok: true, scan };
  }
  const code = split.body;
  if (code.length === 0) return { ok: false, error: 'empty code' };
  const scan: ScanIdentity = { code, masterData: masterData !== undefined };
  if (split.symbology) scan.symbology = split.symbology;
  const gtin = normalizeGtin(code);
  if (gtin) scan.gtin = gtin;
  if (masterData) {
    const match = findProduct(masterData, code);
    if (match) scan.product = match;
  }
  return { ok: true, scan };
}
