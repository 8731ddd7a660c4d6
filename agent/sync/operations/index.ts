import { downtimeEnded } from './downtime-ended';
import { downtimeStarted } from './downtime-started';
import { genericMappingOperation, type GenericMapping } from './generic-mapping';
import { inventoryMoved } from './inventory-moved';
import { maintenanceRequested } from './maintenance-requested';
import { materialConsumed } from './material-consumed';
import { productionCompleted } from './production-completed';
import { productionReported } from './production-reported';
import { qualityRecorded } from './quality-recorded';
import { scrapReported } from './scrap-reported';
import type { Operation, OperationOptions, OperationRegistry } from './types';
import { workorderFinished } from './workorder-finished';
import { workorderStarted } from './workorder-started';

export { genericMappingSchema, genericMappingOperation, type GenericMapping, type GenericMappingInput } from './generic-mapping';
export { lookupsFor, OdooLookups, DEFAULT_LOOKUP_TTL_MS } from './lookup';
export { OperationError, type Operation, type OperationContext, type OperationOutcome, type OperationOptions, type OperationRegistry } from './types';

export interface OperationRegistryOptions extends OperationOptions {
  /** Generic mappings from the config; each replaces the built-in operation of its event type. */
  genericMappings?: readonly GenericMapping[];
}

/** The built-in operations, one per canonical event type. */
export function builtinOperations(opts: OperationOptions = {}): Operation[] {
  return [
    productionReported(opts),
    productionCompleted(opts),
    materialConsumed(opts),
    inventoryMoved(opts),
    scrapReported(opts),
    downtimeStarted(opts),
    downtimeEnded(opts),
    qualityRecorded(opts),
    maintenanceRequested(opts),
    workorderStarted(opts),
    workorderFinished(opts),
  ] as Operation[];
}

/**
 * Event type -> operation. Every canonical type has a built-in operation; a
 * generic mapping for a type takes its place. Two mappings for one type are a
 * config error (thrown here; check-config shows it too).
 */
export function createOperationRegistry(opts: OperationRegistryOptions = {}): OperationRegistry {
  const registry: OperationRegistry = new Map();
  for (const op of builtinOperations(opts)) registry.set(op.type, op);
  const mapped = new Set<string>();
  for (const m of opts.genericMappings ?? []) {
    if (mapped.has(m.eventType)) throw new Error(`two generic mappings for ${m.eventType}: keep one`);
    mapped.add(m.eventType);
    registry.set(m.eventType, genericMappingOperation(m));
  }
  return registry;
}
