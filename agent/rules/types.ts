import type { ShiftDefinition } from '../model/plant-time';
import type { CanonicalEvent } from '../model/event';
import type { Signal } from '../model/signal';

/**
 * A rule turns signals into business events. Rules are pure: given the state
 * they kept and one signal, they return their next state and the events (or a
 * reason the signal is invalid). The engine persists the state in the same
 * transaction as the events, so a crash never counts a piece twice.
 */
export interface Rule<S = unknown> {
  /** Unique name from config (used as the key of its persisted state). */
  readonly name: string;
  /** True when this rule wants the signal (source name and tag pattern). */
  matches(signal: Signal): boolean;
  /** The state before the first signal. Must be JSON-serialisable. */
  initialState(): S;
  apply(state: S, signal: Signal, ctx: RuleContext): RuleOutput<S>;
  /**
   * Set by rules that must wait for something to map a signal (JSONata
   * expressions evaluate asynchronously). The engine then uses this instead of
   * `apply`, one signal at a time, in `processAsync`.
   */
  applyAsync?(state: S, signal: Signal, ctx: RuleContext): Promise<RuleOutput<S>>;
}

export interface RuleOutput<S> {
  state: S;
  events: CanonicalEvent[];
  /** Set when the signal cannot be turned into an event: the signal is kept in the invalid-input table with this reason. */
  invalid?: string;
}

export interface RuleContext {
  /** Plant id from config (part of every deterministic event id). */
  plant: string;
  /** Agent time, ISO 8601 (the event's receivedAt). */
  now: string;
  /** Shared facts other rules published (the current manufacturing order of a work center, ...). */
  facts: FactStore;
  /** Master data cached from Odoo, when the pull job has filled it. Undefined offline before the first pull. */
  masterData?: MasterDataLookup;
  /** The plant's time zone and shift calendar (plant.timezone, plant.shifts), when configured. */
  plantTime?: { timeZone: string; shifts: readonly ShiftDefinition[] };
}

/** Small shared key-value facts between rules, persisted with rule state. */
export interface FactStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

/** A unit of measure as Odoo defines it, the same for every version. */
export interface Unit {
  id: number;
  name: string;
  /** Units convert only within one group: `category:<id>` (Odoo 17/18) or `chain:<root unit id>` (Odoo 19, one reference chain). */
  group: string;
  /** How many of the group's reference unit one of this unit is (kg in a g-based group: 1000). */
  perReference: number;
  /** Quantities in this unit are multiples of this (0.01); undefined when unknown. */
  rounding?: number;
}

export interface MasterDataLookup {
  /** Find a product by barcode, GTIN or internal reference. */
  product(code: string): { id: number; defaultCode?: string; barcode?: string; name: string; tracking?: 'none' | 'lot' | 'serial'; uomId?: number } | undefined;
  /** Find a manufacturing order that is not done or cancelled (draft or open) by name; `openProduction` (master-data.ts) tells whether the floor may report on it. */
  production(name: string): { id: number; name: string; state: string; productId: number; uomId?: number } | undefined;
  /** The same by Odoo id. */
  productionById?(id: number): { id: number; name: string; state: string; productId: number; uomId?: number } | undefined;
  /** Find a unit of measure by its name in Odoo (`kg`); absent where units are not pulled. */
  unit?(name: string): Unit | undefined;
  /** A unit of measure by its Odoo id. */
  unitById?(id: number): Unit | undefined;
  /** Find a lot or serial number, optionally of one product. */
  lot(name: string, productId?: number): { id: number; name: string; productId: number } | undefined;
}
