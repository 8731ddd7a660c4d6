import { z } from 'zod';
import { compile, NO } from './event-check';

/**
 * Canonical business events. Every event that enters the outbox has passed
 * one of these schemas; docs/events.md describes each type and field.
 */

const isoTime = z.iso.datetime({ offset: true });
const text = z.string().trim().min(1).max(256);
const quantity = z.number().finite();
const positiveQty = quantity.positive();

/** A reference to a manufacturing order: its name (`WH/MO/00042`) or, once resolved, its Odoo id. */
const productionRef = z.union([text, z.number().int().positive()]);

export const payloadSchemas = {
  'production.reported': z.strictObject({
    production: productionRef,
    /** Absolute quantity produced so far on this order (never a delta). */
    totalQuantity: quantity.nonnegative(),
    workcenter: text.optional(),
    lot: text.optional(),
    uom: text.optional(),
    /** The plant shift the report falls in (plant time) and what this order counted in it so far (counter `shiftTotals`). Kept with the event; Odoo has no shifts. */
    shift: z
      .strictObject({
        name: text,
        /** The plant's date the shift began on. */
        day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        quantity: quantity.nonnegative(),
      })
      .optional(),
  }),
  'production.completed': z.strictObject({
    production: productionRef,
    workcenter: text.optional(),
  }),
  'material.consumed': z.strictObject({
    production: productionRef,
    /** Product internal reference, barcode or GTIN. */
    product: text,
    quantity: positiveQty,
    uom: text.optional(),
    lot: text.optional(),
    serial: text.optional(),
    location: text.optional(),
    operator: text.optional(),
  }),
  'inventory.moved': z.strictObject({
    /** `transfer` moves stock between locations; `count` sets the counted quantity at a location. */
    kind: z.enum(['transfer', 'count']),
    product: text,
    quantity: quantity.nonnegative(),
    uom: text.optional(),
    lot: text.optional(),
    serial: text.optional(),
    fromLocation: text.optional(),
    toLocation: text.optional(),
    location: text.optional(),
    reference: text.optional(),
    operator: text.optional(),
  }),
  'scrap.reported': z.strictObject({
    product: text,
    quantity: positiveQty,
    production: productionRef.optional(),
    workcenter: text.optional(),
    uom: text.optional(),
    lot: text.optional(),
    reason: text.optional(),
    location: text.optional(),
  }),
  'downtime.started': z.strictObject({
    /** Identifies one stop of one work center; the matching `downtime.ended` carries the same value. */
    downtimeId: text,
    workcenter: text,
    /** Loss reason: the name of an `mrp.workcenter.productivity.loss` in Odoo. */
    reason: text,
    description: z.string().max(2000).optional(),
  }),
  'downtime.ended': z.strictObject({
    downtimeId: text,
    workcenter: text,
    reason: text.optional(),
    /** When the stop began, if known: lets the end create the record when its start never arrived. */
    startedAt: isoTime.optional(),
  }),
  'quality.recorded': z.strictObject({
    /** The quality control point or test name. */
    test: text,
    result: z.enum(['pass', 'fail']),
    measure: quantity.optional(),
    production: productionRef.optional(),
    product: text.optional(),
    lot: text.optional(),
    note: z.string().max(2000).optional(),
  }),
  'maintenance.requested': z.strictObject({
    equipment: text,
    name: text,
    description: z.string().max(2000).optional(),
    maintenanceType: z.enum(['corrective', 'preventive']).default('corrective'),
    priority: z.enum(['0', '1', '2', '3']).default('1'),
  }),
  'workorder.started': z.strictObject({
    production: productionRef,
    /** Work order: its operation name, or its Odoo id. */
    workorder: z.union([text, z.number().int().positive()]).optional(),
    workcenter: text.optional(),
    operator: text.optional(),
  }),
  'workorder.finished': z.strictObject({
    production: productionRef,
    workorder: z.union([text, z.number().int().positive()]).optional(),
    workcenter: text.optional(),
    operator: text.optional(),
  }),
} as const;

export type EventType = keyof typeof payloadSchemas;
export const EVENT_TYPES = Object.keys(payloadSchemas) as EventType[];
export type PayloadOf<T extends EventType> = z.output<(typeof payloadSchemas)[T]>;

const envelope = {
  /** Idempotency key, deterministic from the source fact. */
  id: z.string().min(1).max(200),
  /** What this event's order matters within: a manufacturing order, a work center. */
  sequenceKey: z.string().min(1).max(200),
  /** When it happened, by the source's clock. */
  occurredAt: isoTime,
  /** When the agent received it. */
  receivedAt: isoTime,
  /** The configured name of the source that produced it. */
  source: z.string().min(1).max(200),
};

function eventSchema<T extends EventType>(type: T) {
  return z.strictObject({ ...envelope, type: z.literal(type), payload: payloadSchemas[type] });
}

export const eventSchemas = {
  'production.reported': eventSchema('production.reported'),
  'production.completed': eventSchema('production.completed'),
  'material.consumed': eventSchema('material.consumed'),
  'inventory.moved': eventSchema('inventory.moved'),
  'scrap.reported': eventSchema('scrap.reported'),
  'downtime.started': eventSchema('downtime.started'),
  'downtime.ended': eventSchema('downtime.ended'),
  'quality.recorded': eventSchema('quality.recorded'),
  'maintenance.requested': eventSchema('maintenance.requested'),
  'workorder.started': eventSchema('workorder.started'),
  'workorder.finished': eventSchema('workorder.finished'),
} as const;

export const canonicalEventSchema = z.discriminatedUnion('type', [
  eventSchemas['production.reported'],
  eventSchemas['production.completed'],
  eventSchemas['material.consumed'],
  eventSchemas['inventory.moved'],
  eventSchemas['scrap.reported'],
  eventSchemas['downtime.started'],
  eventSchemas['downtime.ended'],
  eventSchemas['quality.recorded'],
  eventSchemas['maintenance.requested'],
  eventSchemas['workorder.started'],
  eventSchemas['workorder.finished'],
]);

export type CanonicalEvent = z.output<typeof canonicalEventSchema>;
export type EventOf<T extends EventType> = Extract<CanonicalEvent, { type: T }>;

/**
 * An event as the outbox keeps it: with `writeAt` when a person chose the
 * time written to Odoo ("post at first open date" of an event dated in a
 * locked period). Never part of what a source sends; occurredAt stays the
 * plant's time of the fact.
 */
export type StoredEvent = CanonicalEvent & { writeAt?: string };

export type ParseEventResult = { ok: true; event: CanonicalEvent } | { ok: false; reason: string };

/**
 * Events that came out of `parseEvent` (zod's own output objects): a later
 * check of the same object can skip the second parse. Frozen so that
 * "validated" stays true.
 */
const validated = new WeakSet<object>();

export function isValidatedEvent(value: unknown): value is CanonicalEvent {
  return typeof value === 'object' && value !== null && validated.has(value);
}

/** The quick check built from canonicalEventSchema (event-check.ts); zod answers whatever it does not pass. */
const quickCheck = compile(canonicalEventSchema);

/** Validate an unknown value as a canonical event; the reason names each failing field. */
export function parseEvent(value: unknown): ParseEventResult {
  if (quickCheck) {
    const out = quickCheck(value);
    if (out !== NO) {
      validated.add(deepFreeze(out as object));
      return { ok: true, event: out as CanonicalEvent };
    }
  }
  const r = canonicalEventSchema.safeParse(value);
  if (r.success) {
    validated.add(deepFreeze(r.data));
    return { ok: true, event: r.data };
  }
  return { ok: false, reason: formatIssues(r.error.issues) };
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '(event)'}: ${i.message}`).join('; ');
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    // for...in: no array of values per object (this runs for every event the agent validates).
    for (const k in v) {
      const x = v[k];
      if (x !== null && typeof x === 'object') deepFreeze(x);
    }
  }
  return v;
}
