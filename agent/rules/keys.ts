/**
 * The names rules share: fact keys and sequence keys. Every producer of events
 * (counter, scanner, MQTT rules) uses these, so the events of one
 * manufacturing order or one work center line up in one ordered queue.
 */

/** Fact holding the manufacturing order a work center is working on (its name, e.g. `WH/MO/00042`). */
export function productionFactKey(workcenter: string): string {
  return `workcenter:${workcenter}:production`;
}

/** Fact keys always hold a `:`; rule names never do, so both can share one state table. */
export function isFactKey(key: string): boolean {
  return key.includes(':');
}

/** Sequence key of a manufacturing order: its name as Odoo shows it (`WH/MO/00042`). */
export function productionSequenceKey(production: string | number): string {
  return String(production);
}

/** Sequence key of a work center (downtime). */
export function workcenterSequenceKey(workcenter: string): string {
  return `workcenter:${workcenter}`;
}

/** Sequence key of a piece of equipment (maintenance). */
export function equipmentSequenceKey(equipment: string): string {
  return `equipment:${equipment}`;
}

/**
 * The natural sequence key of an event payload: its manufacturing order when
 * it has one, else its work center, else its equipment; `fallback` otherwise.
 */
export function defaultSequenceKey(payload: Record<string, unknown>, fallback: string): string {
  const production = payload.production;
  if (typeof production === 'string' && production.trim() !== '') return productionSequenceKey(production.trim());
  if (typeof production === 'number' && Number.isFinite(production)) return productionSequenceKey(production);
  if (typeof payload.workcenter === 'string' && payload.workcenter.trim() !== '') return workcenterSequenceKey(payload.workcenter.trim());
  if (typeof payload.equipment === 'string' && payload.equipment.trim() !== '') return equipmentSequenceKey(payload.equipment.trim());
  return fallback;
}
