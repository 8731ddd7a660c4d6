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
}

/** Small shared key-value facts between rules, persisted with rule state. */
export interface FactStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

export interface MasterDataLookup {
  /** Find a product by barcode, GTIN or internal reference. */
  product(code: string): { id: number; defaultCode?: string; barcode?: string; name: string; tracking?: 'none' | 'lot' | 'serial' } | undefined;
  /** Find a manufacturing order that is not done or cancelled (draft or open) by name; `openProduction` (master-data.ts) tells whether the floor may report on it. */
  production(name: string): { id: number; name: string; state: string; productId: number } | undefined;
  /** The same by Odoo id. */
  productionById?(id: number): { id: number; name: string; state: string; productId: number } | undefined;
  /** Find a lot or serial number, optionally of one product. */
  lot(name: string, productId?: number): { id: number; name: string; productId: number } | undefined;
}
