import { productionFactKey } from './keys';
import type { FactStore } from './types';

/**
 * The order a work center is on can be said by several: an `order` rule (a
 * PLC tag or an MQTT message), a scanner at the line (an order scan), and the
 * order release (a work order in progress in Odoo). Each says it with a time;
 * between two of them the latest by time wins; what one of them says replaces
 * what it said before, whatever its time (its clock may have stepped back). The fact
 * `workcenter:<name>:production` holds the order (what counters and
 * templates read); `workcenter:<name>:production-claim` when and by whom.
 */

export interface CurrentOrderClaim {
  /** The order, or null for "no order". */
  production: string | null;
  /** When it became true (ISO 8601): the source time of the tag or scan, Odoo's start of the work order. */
  at: string;
  /** Who says so: `rule:<name>`, `release`. */
  by: string;
}

/** Fact key of the claim behind a work center's current order. */
export function currentOrderClaimKey(workcenter: string): string {
  return `workcenter:${workcenter}:production-claim`;
}

/** The claim behind the work center's current order, when one was made. */
export function currentOrderClaim(facts: Pick<FactStore, 'get'>, workcenter: string): CurrentOrderClaim | undefined {
  const v = facts.get(currentOrderClaimKey(workcenter)) as Partial<CurrentOrderClaim> | undefined;
  return v && typeof v.at === 'string' && typeof v.by === 'string' ? { production: v.production ?? null, at: v.at, by: v.by } : undefined;
}

/**
 * Make `claim` the work center's current order unless another's later claim holds.
 * Returns true when it took effect (also when it changes nothing).
 */
export function claimCurrentOrder(facts: FactStore, workcenter: string, claim: CurrentOrderClaim): boolean {
  const held = currentOrderClaim(facts, workcenter);
  if (held && held.by !== claim.by && Date.parse(held.at) > Date.parse(claim.at)) return false;
  facts.set(productionFactKey(workcenter), claim.production ?? undefined);
  facts.set(currentOrderClaimKey(workcenter), claim);
  return true;
}
