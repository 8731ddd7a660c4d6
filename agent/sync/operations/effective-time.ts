/**
 * The time an operation writes to Odoo for an event: the plant's time of the
 * fact (`occurredAt`), unless a person chose another time to write
 * (`writeAt`, set by "post at first open date" when the event's date lies in
 * a period Odoo's accounting has locked). The event keeps its occurredAt
 * either way; every date an operation writes comes from here.
 */
export function effectiveTime(event: { occurredAt: string; writeAt?: string }): string {
  return event.writeAt ?? event.occurredAt;
}
