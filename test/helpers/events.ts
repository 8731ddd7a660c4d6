import { eventId, randomEventId } from '../../agent/model/event-ids';
import type { CanonicalEvent } from '../../agent/model/event';

let n = 0;

/** A valid downtime.started event; override any envelope field. */
export function makeEvent(over: Partial<Pick<CanonicalEvent, 'id' | 'sequenceKey' | 'occurredAt' | 'source'>> = {}): CanonicalEvent {
  n++;
  const t = new Date(Date.UTC(2026, 10, 26, 8, 0, 0) + n * 1000).toISOString();
  return {
    id: over.id ?? randomEventId(),
    type: 'downtime.started',
    sequenceKey: over.sequenceKey ?? 'WC-1',
    occurredAt: over.occurredAt ?? t,
    receivedAt: t,
    source: over.source ?? 'test',
    payload: { downtimeId: `d-${n}`, workcenter: over.sequenceKey ?? 'WC-1', reason: 'Material shortage' },
  };
}

/** A production.reported event for a manufacturing order (its key), carrying a total. */
export function makeProduction(order: string, total: number, id?: string): CanonicalEvent {
  const t = new Date().toISOString();
  return {
    id: id ?? randomEventId(),
    type: 'production.reported',
    sequenceKey: order,
    occurredAt: t,
    receivedAt: t,
    source: 'test',
    payload: { production: order, totalQuantity: total },
  };
}

/**
 * A downtime.started at `at` (ms) for a work center Odoo knows by name, with
 * the reason the simulator and a real Odoo's demo data both have. Its id is
 * derived from the fact, as the agent's own ids are.
 */
export function downtimeStarted(source: string, key: string, downtimeId: string, workcenter: string, at: number): CanonicalEvent {
  const iso = new Date(at).toISOString();
  return {
    id: eventId(at, source, key, downtimeId),
    type: 'downtime.started',
    sequenceKey: key,
    occurredAt: iso,
    receivedAt: iso,
    source,
    payload: { downtimeId, workcenter, reason: 'Material Availability' },
  };
}
