import { z } from 'zod';
import { eventId } from '../../model/event-ids';
import { type CanonicalEvent, parseEvent } from '../../model/event';
import type { Signal } from '../../model/signal';
import { isGs1Code, isGtin, splitSymbology } from './scan-gs1';
import { openProduction, unknownProduct } from '../master-data';
import { type ProductMatch, findProduct, lookupScan } from './scan-lookup';
import { type RestorableRule, isBadQuality, rejected, ruleBase, sourceTimeOf, tagPatternSchema, unchanged } from '../base';
import { claimCurrentOrder } from '../current-order';
import { productionSequenceKey } from '../keys';
import { signalMatcher } from '../match';
import type { MasterDataLookup, RuleContext, RuleOutput } from '../types';
import { describeValue, readValue } from '../values';
import type { RuleKind } from './kind';

/**
 * Operator context at a scanning station. One rule per scanner source; it
 * keeps a small state:
 * the current manufacturing order, the operator (badge), the location, a
 * quantity scanned for the next item, and a product waiting for its lot.
 * Context scans change that state; item scans (products, lots, GS1 labels)
 * become events for it:
 *
 *   scan order WH/MO/00042, then component lots  -> material.consumed for WH/MO/00042
 *   scan location WH/Stock/Shelf 2, then products -> inventory.moved to that location
 *
 * Pure: the engine keeps the state with the events, so a restart resumes the
 * same context and a re-read scan gives the same event id.
 */

const CLASSES = ['order', 'badge', 'location', 'product', 'lot', 'quantity', 'clear'] as const;
type ScanClass = (typeof CLASSES)[number];

const classifierSchema = z
  .strictObject({
    /** What a matching scan is: order (sets the current manufacturing order), badge (sets the operator), location (sets the location), product or lot (an item), quantity (for the next item), clear (forgets order, location, quantity and waiting product). */
    as: z.enum(CLASSES),
    /** The scan starts with this text. */
    prefix: z.string().min(1).optional(),
    /** Or: the scan matches this regular expression. Named groups pick parts: value, product, lot, serial, quantity. */
    pattern: z.string().min(1).optional(),
    /** Remove the prefix from the value (`EMP0042` -> `0042`). */
    stripPrefix: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if ((c.prefix === undefined) === (c.pattern === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give either prefix or pattern' });
    }
    if (c.pattern !== undefined) {
      try {
        new RegExp(c.pattern);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a valid regular expression: ${(err as Error).message}` });
      }
    }
    if (c.stripPrefix && c.prefix === undefined) ctx.addIssue({ code: 'custom', path: ['stripPrefix'], message: 'stripPrefix needs a prefix' });
  });

export const scanRuleConfigSchema = z.strictObject({
  kind: z.literal('scan'),
  ...ruleBase,
  /** Tag of the scans: `scan` for the scanner sources; an MQTT topic pattern for scanners that publish to a broker (with `path` for a JSON field). */
  tag: tagPatternSchema.default('scan'),
  /** How plain scans are recognised, tried in order, first match wins. GS1 labels and EAN/UPC numbers are recognised without an entry. */
  classify: z.array(classifierSchema).default([]),
  /** What an item scan becomes. `auto`: material.consumed when an order is set, else inventory.moved when a location is set. */
  itemEvent: z.enum(['auto', 'material.consumed', 'inventory.moved']).default('auto'),
  /** What an order scan sends besides setting the current order. */
  orderEvent: z.enum(['none', 'workorder.started']).default('none'),
  /** The scanner's work center: named in workorder.started events, and an order scan makes the order its current order (what its counters count for). */
  workcenter: z.string().min(1).optional(),
  /** Quantity of an item when its label carries none (GS1 AI 30, 37, 310n) and no quantity was scanned. */
  defaultQuantity: z.number().positive().default(1),
  /** Unit of measure sent with counted quantities, as named in Odoo; omitted: the product's own unit. */
  uom: z.string().min(1).optional(),
  /** Unit of measure of GS1 net weights (AI 310n, kilograms), as named in Odoo. */
  weightUom: z.string().min(1).default('kg'),
  /** Source location of inventory moves; omitted: Odoo picks it. */
  moveFrom: z.string().min(1).optional(),
  /** When a product scan without lot waits for a lot scan: `tracked` (master data says lot/serial tracked), `always`, `never`. */
  lotRequired: z.enum(['tracked', 'always', 'never']).default('tracked'),
  /** Plain scans matching no entry: `lookup` (a product if master data knows it, else invalid), `product` (always taken as a product code), `invalid`. */
  unmatched: z.enum(['lookup', 'product', 'invalid']).default('lookup'),
  /** When master data is available, reject orders and products it does not know (kept as invalid with the reason). */
  checkMasterData: z.boolean().default(true),
  /** Forget the whole context (operator included) after this many minutes without a scan; 0 keeps it. */
  contextTimeoutMinutes: z.number().min(0).default(0),
  gs1: z
    .strictObject({
      /** A character the scanners are set to send for FNC1 instead of GS (0x1D), such as "~". */
      groupSeparator: z.string().min(1).optional(),
      /** Also read GS1 element strings sent without symbology identifier or leading FNC1 (`0109506000134352...`). */
      bareElementStrings: z.boolean().default(false),
    })
    .prefault({}),
});

export type ScanRuleConfig = z.output<typeof scanRuleConfigSchema>;
export type ScanRuleInput = z.input<typeof scanRuleConfigSchema>;

/** A product scanned whose lot or serial must follow. */
export interface WaitingItem {
  product: string;
  quantity?: number;
  quantityUnit?: 'unit' | 'kg';
  tracking?: 'none' | 'lot' | 'serial';
  scannedAt: string;
}

const waitingItemSchema = z.object({
  product: z.string(),
  quantity: z.number().optional(),
  quantityUnit: z.enum(['unit', 'kg']).optional(),
  tracking: z.enum(['none', 'lot', 'serial']).optional(),
  scannedAt: z.string(),
});

const scanRuleStateSchema = z.object({
  order: z.string().optional(),
  operator: z.string().optional(),
  location: z.string().optional(),
  quantity: z.number().optional(),
  waiting: waitingItemSchema.optional(),
  lastScanAt: z.string().optional(),
});

/** The context of the scanner: its rule's saved state. */
export interface ScanRuleState {
  /** The current manufacturing order. */
  order?: string;
  /** The operator (badge). */
  operator?: string;
  /** The current location. */
  location?: string;
  /** Quantity scanned for the next item. */
  quantity?: number;
  /** A product waiting for its lot or serial scan. */
  waiting?: WaitingItem;
  lastScanAt?: string;
}

type ScannerContext = ScanRuleState;

interface ItemScan {
  product?: string;
  match?: ProductMatch;
  lot?: string;
  serial?: string;
  quantity?: number;
  quantityUnit?: 'unit' | 'kg';
}

type Step = { kind: Exclude<ScanClass, 'product' | 'lot'>; value: string } | { kind: 'item'; item: ItemScan } | { kind: 'invalid'; reason: string };

interface CompiledClassifier {
  as: ScanClass;
  prefix?: string;
  regex?: RegExp;
  stripPrefix: boolean;
}

export class ScanRule implements RestorableRule<ScanRuleState> {
  readonly name: string;
  private readonly classifiers: CompiledClassifier[];
  private readonly matcher: (signal: { source: string; tag: string }) => boolean;

  constructor(private readonly config: ScanRuleConfig) {
    this.name = config.name;
    this.matcher = signalMatcher(config.source, config.tag);
    this.classifiers = config.classify.map((c) => ({
      as: c.as,
      stripPrefix: c.stripPrefix,
      ...(c.prefix !== undefined ? { prefix: c.prefix } : {}),
      ...(c.pattern !== undefined ? { regex: new RegExp(c.pattern) } : {}),
    }));
  }

  matches(signal: Signal): boolean {
    return this.matcher(signal);
  }

  initialState(): ScanRuleState {
    return {};
  }

  restoreState(saved: unknown): ScanRuleState | undefined {
    const r = scanRuleStateSchema.safeParse(saved);
    return r.success ? (dropUndefined(r.data) as ScanRuleState) : undefined;
  }

  apply(state: ScanRuleState, signal: Signal, ctx: RuleContext): RuleOutput<ScanRuleState> {
    const invalid = (reason: string): RuleOutput<ScanRuleState> => rejected(state, reason);
    if (isBadQuality(signal)) return unchanged(state);
    const value = readValue(signal.value, this.config.path);
    if (typeof value !== 'string' || value.length === 0) {
      return invalid(`scan must be text, got ${describeValue(value)}${this.config.path ? ` at path "${this.config.path}"` : ''}`);
    }
    const code = value;
    const time = sourceTimeOf(signal);
    if (!time) return invalid(`scan time "${signal.sourceTime}" is not a time`);
    const scanMs = time.ms;

    let c: ScannerContext = { ...state };
    const timeoutMs = this.config.contextTimeoutMinutes * 60_000;
    if (timeoutMs > 0 && c.lastScanAt && scanMs - Date.parse(c.lastScanAt) > timeoutMs) c = {};
    c.lastScanAt = time.iso;

    const step = this.classify(code, ctx.masterData, new Date(scanMs).getUTCFullYear());
    const events: CanonicalEvent[] = [];
    const make = (type: CanonicalEvent['type'], sequenceKey: string, payload: Record<string, unknown>): string | undefined => {
      const candidate = {
        id: eventId(scanMs, ctx.plant, signal.source, time.iso, code, type),
        type,
        sequenceKey,
        occurredAt: time.iso,
        receivedAt: ctx.now,
        source: signal.source,
        payload: dropUndefined(payload),
      };
      const parsed = parseEvent(candidate);
      if (!parsed.ok) return `${type} would not be valid: ${parsed.reason}`;
      events.push(parsed.event);
      return undefined;
    };

    switch (step.kind) {
      case 'invalid':
        return invalid(step.reason);
      case 'order': {
        const md = ctx.masterData;
        if (this.config.checkMasterData && md) {
          const open = openProduction(md, step.value);
          if ('problem' in open) return invalid(open.problem);
        }
        c.order = step.value;
        // The scanner's work center is on this order now, unless something said otherwise later.
        if (this.config.workcenter !== undefined)
          claimCurrentOrder(ctx.facts, this.config.workcenter, { production: step.value, at: time.iso, by: `rule:${this.config.name}` });
        delete c.waiting;
        delete c.quantity;
        if (this.config.orderEvent === 'workorder.started') {
          const problem = make('workorder.started', productionSequenceKey(step.value), {
            production: step.value,
            workcenter: this.config.workcenter,
            operator: c.operator,
          });
          if (problem) return invalid(problem);
        }
        break;
      }
      case 'badge':
        c.operator = step.value;
        break;
      case 'location':
        c.location = step.value;
        break;
      case 'quantity': {
        const q = Number(step.value);
        if (!Number.isFinite(q) || q <= 0) return invalid(`quantity "${step.value}" is not a positive number`);
        c.quantity = q;
        break;
      }
      case 'clear':
        c = { lastScanAt: time.iso, ...(c.operator !== undefined ? { operator: c.operator } : {}) };
        break;
      case 'item': {
        const problem = this.item(c, step.item, signal.source, time.iso, make);
        if (problem) return invalid(problem);
        break;
      }
    }
    return { state: c, events };
  }

  /** An item scan: complete it from the context and emit its event, or keep it waiting for its lot. Returns a reason when invalid. */
  private item(
    c: ScannerContext,
    item: ItemScan,
    source: string,
    scannedAt: string,
    make: (type: CanonicalEvent['type'], key: string, payload: Record<string, unknown>) => string | undefined,
  ): string | undefined {
    const mode =
      this.config.itemEvent === 'auto'
        ? c.order !== undefined
          ? 'material.consumed'
          : c.location !== undefined
            ? 'inventory.moved'
            : undefined
        : this.config.itemEvent;
    if (mode === undefined) return 'scan a manufacturing order or a location first';
    if (mode === 'material.consumed' && c.order === undefined) return 'scan a manufacturing order first';
    if (mode === 'inventory.moved' && c.location === undefined) return 'scan the destination location first';

    let product = item.product;
    let { lot, serial, quantity, quantityUnit } = item;
    let tracking = item.match?.product.tracking;
    if (product === undefined) {
      const waiting = c.waiting;
      if (!waiting) return `lot "${lot ?? serial}" scanned without a product: scan the product first, or use a GS1 label that carries its GTIN`;
      product = waiting.product;
      tracking = waiting.tracking;
      if (quantity === undefined && waiting.quantity !== undefined) {
        quantity = waiting.quantity;
        quantityUnit = waiting.quantityUnit;
      }
      if (tracking === 'serial' && lot !== undefined && serial === undefined) {
        serial = lot;
        lot = undefined;
      }
      delete c.waiting;
    } else {
      if (c.waiting) return `product "${c.waiting.product}" is waiting for its lot: scan the lot, or a clear code`;
      const needsLot = this.config.lotRequired === 'always' || (this.config.lotRequired === 'tracked' && (tracking === 'lot' || tracking === 'serial'));
      if (needsLot && lot === undefined && serial === undefined) {
        c.waiting = {
          product,
          scannedAt,
          ...(quantity !== undefined ? { quantity } : {}),
          ...(quantityUnit !== undefined ? { quantityUnit } : {}),
          ...(tracking !== undefined ? { tracking } : {}),
        };
        return undefined;
      }
    }
    if (quantity === undefined && c.quantity !== undefined) {
      quantity = c.quantity;
      quantityUnit = 'unit';
    }
    delete c.quantity;
    quantity ??= this.config.defaultQuantity;
    const uom = quantityUnit === 'kg' ? this.config.weightUom : this.config.uom;

    if (mode === 'material.consumed') {
      return make('material.consumed', productionSequenceKey(c.order!), {
        production: c.order,
        product,
        quantity,
        uom,
        lot,
        serial,
        location: c.location,
        operator: c.operator,
      });
    }
    return make('inventory.moved', `scanner:${source}`, {
      kind: 'transfer',
      product,
      quantity,
      uom,
      lot,
      serial,
      fromLocation: this.config.moveFrom,
      toLocation: c.location,
      reference: c.order,
      operator: c.operator,
    });
  }

  /** What a scanned code is. */
  private classify(code: string, md: MasterDataLookup | undefined, year: number): Step {
    const gs1Options = {
      referenceYear: year,
      ...(this.config.gs1.groupSeparator !== undefined ? { groupSeparator: this.config.gs1.groupSeparator } : {}),
      ...(this.config.gs1.bareElementStrings ? { requireMarker: false } : {}),
    };
    const split = splitSymbology(code);
    if (isGs1Code(code, gs1Options)) {
      const r = lookupScan(code, md, gs1Options);
      if (!r.ok) return { kind: 'invalid', reason: `GS1 label not readable: ${r.error}` };
      const g = r.scan.gs1!;
      if (r.scan.gtin === undefined && g.lot === undefined && g.serial === undefined) {
        return { kind: 'invalid', reason: `GS1 label has no product (AI 01/02) nor lot (AI 10/21): AIs ${Object.keys(g.ais).join(', ')}` };
      }
      if (r.scan.gtin !== undefined && this.config.checkMasterData && md && !r.scan.product) {
        return { kind: 'invalid', reason: `product with GTIN ${r.scan.gtin} is not known in Odoo` };
      }
      return {
        kind: 'item',
        item: dropUndefined({
          product: r.scan.product?.code ?? r.scan.gtin,
          match: r.scan.product,
          lot: g.lot,
          serial: g.serial,
          quantity: g.quantity,
          quantityUnit: g.quantityUnit,
        }),
      };
    }

    const body = split.body;
    for (const cl of this.classifiers) {
      let groups: Record<string, string | undefined> = {};
      if (cl.prefix !== undefined) {
        if (!body.startsWith(cl.prefix)) continue;
      } else {
        const m = cl.regex!.exec(body);
        if (!m) continue;
        groups = m.groups ?? {};
      }
      const value = groups.value ?? (cl.stripPrefix && cl.prefix !== undefined ? body.slice(cl.prefix.length) : body);
      if (value.length === 0) return { kind: 'invalid', reason: `${cl.as} scan "${body}" has no value` };
      if (cl.as === 'product' || cl.as === 'lot') {
        let quantity: number | undefined;
        if (groups.quantity !== undefined) {
          quantity = Number(groups.quantity);
          if (!Number.isFinite(quantity) || quantity <= 0)
            return { kind: 'invalid', reason: `quantity "${groups.quantity}" in "${body}" is not a positive number` };
        }
        const item: ItemScan =
          cl.as === 'product'
            ? dropUndefined({ product: groups.product ?? value, lot: groups.lot, serial: groups.serial, quantity })
            : dropUndefined({ product: groups.product, lot: groups.lot ?? value, serial: groups.serial, quantity });
        if (item.product !== undefined) {
          const resolved = this.resolveProduct(item.product, md);
          if ('reason' in resolved) return { kind: 'invalid', reason: resolved.reason };
          Object.assign(item, resolved);
        }
        return { kind: 'item', item };
      }
      return { kind: cl.as, value };
    }

    if (isGtin(body) || split.ean) {
      const resolved = this.resolveProduct(body, md);
      if ('reason' in resolved) return { kind: 'invalid', reason: resolved.reason };
      return { kind: 'item', item: resolved };
    }
    switch (this.config.unmatched) {
      case 'product': {
        const resolved = this.resolveProduct(body, md);
        if ('reason' in resolved) return { kind: 'invalid', reason: resolved.reason };
        return { kind: 'item', item: resolved };
      }
      case 'lookup': {
        const match = md ? findProduct(md, body) : undefined;
        if (match) return { kind: 'item', item: { product: match.code, match } };
        return {
          kind: 'invalid',
          reason: md
            ? `unknown scan "${body}": it matches no configured prefix or pattern and no product in Odoo`
            : `unknown scan "${body}": it matches no configured prefix or pattern (no master data yet to look it up)`,
        };
      }
      default:
        return { kind: 'invalid', reason: `unknown scan "${body}": it matches no configured prefix or pattern` };
    }
  }

  private resolveProduct(code: string, md: MasterDataLookup | undefined): { product: string; match?: ProductMatch } | { reason: string } {
    if (!md) return { product: code };
    const match = findProduct(md, code);
    if (match) return { product: match.code, match };
    if (this.config.checkMasterData) return { reason: unknownProduct(code) };
    return { product: code };
  }
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** `kind: scan`: operator context at a scanning station (orders, badges, locations, items). */
export const scanRuleKind: RuleKind<ScanRuleConfig> = {
  kind: 'scan',
  configSchema: scanRuleConfigSchema,
  create: (config) => new ScanRule(config),
};
