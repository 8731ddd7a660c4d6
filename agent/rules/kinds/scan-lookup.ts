import { findProduct, findProductByGtin, type LotRecord, type ProductMatch } from '../master-data';
import type { MasterDataLookup } from '../types';
import { type Gs1Data, type Gs1ParseOptions, isGs1Code, normalizeGtin, parseGs1, splitSymbology } from './scan-gs1';

/**
 * What a scanned code identifies, using the master data cached from Odoo when
 * the pull job has filled it. Pure: the lookup is passed in.
 */

export type { LotRecord, ProductMatch, ProductRecord } from '../master-data';
export { findProduct, findProductByGtin } from '../master-data';

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
