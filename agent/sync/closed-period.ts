import { CLOSED_PERIOD, type ActionFilter, type Outbox, type OutboxRecord } from '../buffer/outbox';
import { AgentError } from '../errors';
import { plantDay } from '../model/plant-time';
import { effectiveTime } from './operations/effective-time';

/**
 * Periods Odoo's accounting has locked. With stock valuation (stock_account),
 * the events that complete stock moves make accounting entries; an event
 * whose date lies on or before the company's lock date is held for a person
 * (parked with the code CLOSED_PERIOD) before it is sent, and Odoo's own
 * lock-date refusal parks with the same code. A person then skips it or posts
 * it at the first open date (the event keeps its occurredAt; `writeAt`
 * carries the time written to Odoo).
 */

export { CLOSED_PERIOD };

/** Event types whose operation completes stock moves (mark done, scrap, transfer and count validation): with stock valuation they make accounting entries. */
export const POSTING_TYPES: ReadonlySet<string> = new Set(['production.completed', 'scrap.reported', 'inventory.moved']);

/**
 * The lock-date fields of res.company that close a period for what the agent
 * writes, per Odoo version (what real Odoo checks; the names differ):
 * 17: period_lock_date (non-advisers) and fiscalyear_lock_date (everyone);
 * 18: fiscalyear_lock_date ("Global Lock Date") and hard_lock_date; the
 *   stock journal is neither a sale nor a purchase journal and stock entries
 *   carry no tax, so the sale, purchase and tax lock dates do not apply;
 * 19: as 18, and a transfer's scheduled or done date may not lie on or
 *   before any of the five lock dates (stock_account's picking constraint).
 */
export function lockFieldsFor(major: number): string[] {
  if (major <= 17) return ['period_lock_date', 'fiscalyear_lock_date'];
  if (major === 18) return ['fiscalyear_lock_date', 'hard_lock_date'];
  return ['fiscalyear_lock_date', 'hard_lock_date', 'sale_lock_date', 'purchase_lock_date', 'tax_lock_date'];
}

/** The last locked day (`YYYY-MM-DD`) from a company's lock dates as read from Odoo, or null when nothing is locked. */
export function closedUntil(locks: Readonly<Record<string, unknown>>, major: number): string | null {
  let last: string | null = null;
  for (const f of lockFieldsFor(major)) {
    const v = locks[f];
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && (last === null || v > last)) last = v;
  }
  return last;
}

/** The UTC day of a time (Odoo 19 compares a transfer datetime's UTC date with a lock date). */
export function dayOf(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

/**
 * The day Odoo compares with its lock dates for a time the agent writes:
 * 17 and 18 date the stock valuation entry on the plant's day (the agent's
 * force_period_date, operations/plant-time.ts); 19 makes no entry at the
 * move and checks the transfer's datetime by its UTC date.
 */
export function postingDay(iso: string, major: number, timeZone: string): string {
  return major >= 19 ? dayOf(iso) : plantDay(Date.parse(iso), timeZone);
}

/**
 * Why this event is held, or undefined: a posting type whose time to write
 * falls on or before the last locked day. `day` gives the day Odoo compares
 * (postingDay; default: the UTC day).
 */
export function closedPeriodHold(
  record: Pick<OutboxRecord, 'type' | 'event'>,
  lockedUntil: string | null,
  day: (iso: string) => string = dayOf,
): string | undefined {
  if (lockedUntil === null || !POSTING_TYPES.has(record.type)) return undefined;
  const dated = day(effectiveTime(record.event));
  if (dated > lockedUntil) return undefined;
  return (
    `closed period: dated ${dated}, and Odoo's accounting is locked up to ${lockedUntil}; ` +
    `post it at the first open date (${nextDay(lockedUntil)}) or skip it`
  );
}

/** The day after a `YYYY-MM-DD` day. */
export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * The time to write for "post at first open date": noon UTC of the day after
 * the last locked day (the same calendar day in every time zone from UTC-11
 * to UTC+11), or now when that is later than now. Throws when the first open
 * day has not begun yet (a lock date in the future): wait or skip.
 */
export function firstOpenTime(lockedUntil: string, now: number): string {
  const open = nextDay(lockedUntil);
  const start = Date.parse(`${open}T00:00:00Z`);
  if (start > now) throw new Error(`the first open date ${open} has not begun yet: wait for it or skip the event`);
  return new Date(Math.min(start + 12 * 3_600_000, now)).toISOString();
}

/**
 * "Post at first open date": the parked events of a locked period that
 * `filter` names are written to Odoo at the first open date after
 * `lockedUntil` (their occurredAt stays), and go back into the queue. Audited
 * by the outbox. Throws NO_LOCK_DATE when no lock date is known, NOT_OPEN_YET
 * when the first open day has not begun.
 */
export function postAtFirstOpenDate(
  outbox: Pick<Outbox, 'postAt'>,
  lockedUntil: string | null,
  filter: ActionFilter,
  actor: string,
  now = Date.now(),
): OutboxRecord[] {
  if (lockedUntil === null)
    throw new AgentError('NO_LOCK_DATE', 'no accounting lock date is known (none set in Odoo, or master data not pulled yet): retry the event instead');
  let writeAt: string;
  try {
    writeAt = firstOpenTime(lockedUntil, now);
  } catch (err) {
    throw new AgentError('NOT_OPEN_YET', (err as Error).message);
  }
  return outbox.postAt(filter, writeAt, actor);
}
