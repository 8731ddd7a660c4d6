import { randomEventId } from '../../agent/model/event-ids';
import type { CanonicalEvent, EventType } from '../../agent/model/event';
import type { FlowDefinition } from '../../agent/buffer/flows';

let n = 0;
const BASE = Date.UTC(2026, 10, 26, 8, 0, 0);

/** Source time `i` seconds after a fixed morning (ISO, UTC). */
export function at(i: number): string {
  return new Date(BASE + i * 1000).toISOString();
}

interface Over {
  id?: string;
  occurredAt?: string;
  source?: string;
}

/** An event on a manufacturing order (its key); each call one second after the last. */
function onOrder(type: EventType, order: string, payload: Record<string, unknown>, source: string, over: Over): CanonicalEvent {
  n++;
  const t = over.occurredAt ?? at(n);
  return {
    id: over.id ?? randomEventId(BASE + n),
    type,
    sequenceKey: order,
    occurredAt: t,
    receivedAt: t,
    source: over.source ?? source,
    payload,
  } as CanonicalEvent;
}

/** A material.consumed event. */
export function consumption(order: string, quantity: number, over: Over & { product?: string; lot?: string } = {}): CanonicalEvent {
  const payload = { production: order, product: over.product ?? 'RM-STEEL', quantity, ...(over.lot ? { lot: over.lot } : {}) };
  return onOrder('material.consumed', order, payload, 'line1-scanner', over);
}

/** A production.reported event carrying the total produced so far. */
export function produced(order: string, total: number, over: Over = {}): CanonicalEvent {
  return onOrder('production.reported', order, { production: order, totalQuantity: total, workcenter: 'Press 1' }, 'line1-plc', over);
}

/** The order is finished: a type no flow holds in these tests. */
export function completed(order: string, id?: string): CanonicalEvent {
  return onOrder('production.completed', order, { production: order }, 'line1-plc', { id });
}

export function flow(name: string, mode: FlowDefinition['mode'], types: EventType[], cron = '0 * * * *'): FlowDefinition {
  return { name, mode, types, cron };
}
