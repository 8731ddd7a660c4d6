import { z } from 'zod';
import { cronExpr } from '../config/cron';
import { topicFilterProblem, topicNameProblem } from '../protocols/mqtt/topic';

/** The order states that make an order part of the release (Odoo's names): confirmed, in progress, ready to close. */
export const RELEASE_STATES = ['confirmed', 'progress', 'to_close'] as const;

const name = z.string().trim().min(1).max(128);

/** A topic template: `{prefix}`, `{plant}`, `{workcenter}`, `{order}` are filled in; the rest must be a valid topic name. */
const topicTemplate = (must: readonly string[]) =>
  z.string().superRefine((t, ctx) => {
    const filled = t.replace(/\{(prefix|plant|workcenter|order)\}/g, 'x');
    const problem = topicNameProblem(filled);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    for (const m of must) if (!t.includes(`{${m}}`)) ctx.addIssue({ code: 'custom', message: `must contain {${m}}` });
  });

/** Where one value goes on an OPC UA server: a NodeId and, optionally, its data type (default: the node's own). */
const opcuaTarget = z.strictObject({
  nodeId: z.string().min(1),
  dataType: z.enum(['String', 'Double', 'Float', 'Int16', 'Int32', 'UInt16', 'UInt32', 'Boolean']).optional(),
});

/** Where one value goes on a Modbus device: holding registers from `address` (zero-based), as `type`. */
const modbusTarget = z
  .strictObject({
    unitId: z.number().int().min(0).max(255),
    address: z.number().int().min(0).max(65535),
    type: z.enum(['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'string']),
    wordOrder: z.enum(['ABCD', 'CDAB', 'BADC', 'DCBA']).default('ABCD'),
    /** For `string`: registers to fill (two characters each). */
    length: z.number().int().min(1).max(123).optional(),
  })
  .superRefine((t, ctx) => {
    if (t.type === 'string' && t.length === undefined) ctx.addIssue({ code: 'custom', path: ['length'], message: 'a string needs `length` (registers)' });
    if (t.type !== 'string' && t.length !== undefined) ctx.addIssue({ code: 'custom', path: ['length'], message: '`length` is for strings only' });
  });

export const lineWriteTargetSchema = z.union([opcuaTarget, modbusTarget]);
export type LineWriteTarget = z.output<typeof lineWriteTargetSchema>;

/** What the release writes to one work center's controller, through a configured OPC UA or Modbus source. */
export const lineWriteSchema = z
  .strictObject({
    /** The work center (name or code as in Odoo, one of `workcenters` when that list is set). */
    workcenter: name,
    /** The source (type opcua or modbus) whose connection writes. */
    source: name,
    /** The current order's name (the head of the work center's queue; empty text or 0 when the queue is empty). */
    order: lineWriteTargetSchema.optional(),
    /** Its quantity to produce. */
    quantity: lineWriteTargetSchema.optional(),
    /** Its product's internal reference (else its name). */
    product: lineWriteTargetSchema.optional(),
    /** Attempts of a refused or unverified write before it is shown as failed (the next change tries again). */
    attempts: z.number().int().min(1).max(10).default(3),
  })
  .superRefine((w, ctx) => {
    if (!w.order && !w.quantity && !w.product) ctx.addIssue({ code: 'custom', message: 'name at least one of order, quantity, product' });
  });

export type LineWriteConfig = z.output<typeof lineWriteSchema>;

/**
 * `release:` order release, Odoo -> plant. The manufacturing orders and work
 * orders of this plant, followed in Odoo and published on MQTT (needs
 * `mqttOut`) and optionally written to the lines' controllers.
 */
export const releaseConfigSchema = z
  .strictObject({
    /** false keeps the section without following Odoo. */
    enabled: z.boolean().default(true),
    /** Only orders of this company (its name in Odoo). */
    company: name.optional(),
    /** Only orders whose operation type belongs to this warehouse (its short name, e.g. `WH`). */
    warehouse: name.optional(),
    /** Only orders of this operation type (its name, e.g. `Manufacturing`). */
    pickingType: name.optional(),
    /** This plant's work centers (names or codes). Empty: every work center. Without company, warehouse and pickingType, orders with a work order here are the plant's. */
    workcenters: z.array(name).default([]),
    /** Order states that are released. */
    states: z
      .array(z.enum(RELEASE_STATES))
      .min(1)
      .default([...RELEASE_STATES]),
    /** Ask Odoo for changes this often (seconds). */
    pollSeconds: z.number().min(1).max(3600).default(10),
    /** Records per read. */
    pageSize: z.number().int().min(10).max(5000).default(500),
    /** Each poll reads again what changed this many seconds before the last change seen (transactions that commit late). */
    overlapSeconds: z.number().int().min(0).max(3600).default(30),
    /** A full read (catches deleted orders and anything missed); also at every start. */
    resync: cronExpr.default('7 * * * *'),
    /** A work order in progress in Odoo makes its order the work center's current order for the rules (the latest claim by time wins). */
    feedsRules: z.boolean().default(true),
    mqtt: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** `{prefix}` in the topics below; `{plant}` is the plant id. */
        prefix: z.string().min(1).default('edge-agent/{plant}'),
        /** A work center's queue (its open work orders, in order). */
        queueTopic: topicTemplate(['workcenter']).default('{prefix}/{workcenter}/orders'),
        /** One order with its work orders and components; emptied when the order leaves. */
        orderTopic: topicTemplate(['order']).default('{prefix}/orders/{order}'),
        /** The release's own state: when Odoo was last read, whether it answers. */
        statusTopic: topicTemplate([]).default('{prefix}/release'),
        /** A topic filter where the line's MES acknowledges an order (`{"order": "WH/MO/00042", "version": ...}`). Unset: no acknowledgements. */
        ackTopic: z
          .string()
          .superRefine((t, ctx) => {
            const problem = topicFilterProblem(t.replace(/\{(prefix|plant)\}/g, 'x'));
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          })
          .optional(),
        qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
      })
      .prefault({}),
    /** Values written to the lines' controllers, per work center. */
    writes: z.array(lineWriteSchema).default([]),
  })
  .superRefine((r, ctx) => {
    if (r.workcenters.length > 0) {
      const known = new Set(r.workcenters);
      r.writes.forEach((w, i) => {
        if (!known.has(w.workcenter))
          ctx.addIssue({
            code: 'custom',
            path: ['writes', i, 'workcenter'],
            message: `"${w.workcenter}" is not in release.workcenters (${r.workcenters.join(', ')})`,
          });
      });
    }
    if (!r.company && !r.warehouse && !r.pickingType && r.workcenters.length === 0)
      ctx.addIssue({ code: 'custom', message: 'say which orders are this plant’s: company, warehouse, pickingType or workcenters' });
  });

export type ReleaseConfig = z.output<typeof releaseConfigSchema>;
export type ReleaseInput = z.input<typeof releaseConfigSchema>;
