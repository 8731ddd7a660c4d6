import { z } from 'zod';
import { EVENT_TYPES, payloadSchemas, type CanonicalEvent, type EventType } from '../../model/event';
import { externalId, keyedLoad, odooDatetime, sanitizeKey } from './odoo-calls';
import { KeyOrderGuard, OperationError, type Operation, type OperationContext, type OperationOutcome } from './types';

/**
 * A generic mapping sends one event type into any Odoo model (usually the
 * plant's own `x_` models made in Odoo Studio or by hand) without code:
 *
 *   - eventType: downtime.started
 *     model: x_machine_log
 *     fields:
 *       x_name: '{{payload.workcenter}}'
 *       x_reason: '{{payload.reason}}'
 *       x_when: '{{occurredAt}}'
 *
 * Each event is one keyed load() row (external id `<module>.<model>_<key>`),
 * so a replay updates the same record instead of making a second one. A
 * mapping replaces the built-in operation of its event type.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;
const ENVELOPE = new Set(['id', 'type', 'sequenceKey', 'occurredAt', 'receivedAt', 'source']);
/** An ISO time with offset, as events carry them: sent to Odoo as naive UTC. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Placeholders used in a template (`payload.machine`, `occurredAt`). */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Check one placeholder path against the event type; a message when it cannot resolve. */
function checkPath(eventType: EventType, path: string): string | undefined {
  const [head, field, ...rest] = path.split('.');
  if (head !== 'payload') {
    return ENVELOPE.has(path) ? undefined : `{{${path}}} is not an event field (use one of ${[...ENVELOPE].join(', ')} or payload.<field>)`;
  }
  if (field === undefined || rest.length > 0) return `{{${path}}}: write payload.<field>`;
  const shape = (payloadSchemas[eventType] as unknown as { shape: Record<string, unknown> }).shape;
  if (!(field in shape)) return `{{${path}}}: ${eventType} has no payload field "${field}" (it has ${Object.keys(shape).join(', ')})`;
  return undefined;
}

const ODOO_FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\/(id|\.id))?$/;

export const genericMappingSchema = z
  .strictObject({
    /** The event type this mapping sends (one of the canonical types). No default. */
    eventType: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
    /** Odoo model that receives one record per event, e.g. `x_machine_log`. No default. */
    model: z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*$/, 'an Odoo model name such as x_machine_log'),
    /**
     * Odoo field -> template. `{{payload.<field>}}` and `{{id}}`, `{{type}}`, `{{sequenceKey}}`,
     * `{{occurredAt}}`, `{{receivedAt}}`, `{{source}}` are replaced; times become naive UTC.
     * A relation field takes a name (Odoo looks it up), `field/id` an external id, `field/.id` a database id. No default.
     */
    fields: z
      .record(z.string().regex(ODOO_FIELD, 'an Odoo field name, optionally with /id or /.id'), z.string())
      .refine((f) => Object.keys(f).length > 0, 'map at least one field'),
    /** Template of the record's key (its external id); default the event id, so each event is one record. */
    key: z.string().min(1).default('{{id}}'),
    /** On a replay: `update` writes the values again, `keep` leaves the existing record untouched. Default update. */
    onReplay: z.enum(['update', 'keep']).default('update'),
  })
  .superRefine((m, ctx) => {
    if ('id' in m.fields) ctx.addIssue({ code: 'custom', path: ['fields', 'id'], message: 'id is the external id; set it with key' });
    const check = (template: string, path: Array<string | number>) => {
      for (const ph of placeholders(template)) {
        const problem = checkPath(m.eventType, ph);
        if (problem) ctx.addIssue({ code: 'custom', path, message: problem });
      }
    };
    for (const [field, template] of Object.entries(m.fields)) check(template, ['fields', field]);
    check(m.key, ['key']);
    if (placeholders(m.key).length === 0)
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'the key must use at least one placeholder, or every event would update one record' });
  });

export type GenericMapping = z.output<typeof genericMappingSchema>;
export type GenericMappingInput = z.input<typeof genericMappingSchema>;

function valueAt(event: CanonicalEvent, path: string): unknown {
  let v: unknown = event;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function asText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return ISO_TIME.test(v) ? odooDatetime(v) : v;
  return JSON.stringify(v);
}

/** Fill a template from an event. A template that is one placeholder gives that value as load() reads it. */
export function renderTemplate(template: string, event: CanonicalEvent): string {
  return template.replace(PLACEHOLDER, (_all, path: string) => asText(valueAt(event, path)));
}

/** The load() row for one event. */
export function mappingRow(mapping: GenericMapping, event: CanonicalEvent, xmlidModule: string): { fields: string[]; row: string[] } {
  const names = Object.keys(mapping.fields);
  const key = renderTemplate(mapping.key, event);
  if (key === '')
    throw new OperationError('EMPTY_KEY', `mapping of ${event.type} into ${mapping.model}: the key "${mapping.key}" is empty for event ${event.id}`);
  const kind = sanitizeKey(mapping.model.replace(/\./g, '_'));
  return {
    fields: ['id', ...names],
    row: [externalId(xmlidModule, kind, key), ...names.map((n) => renderTemplate(mapping.fields[n]!, event))],
  };
}

/** The Operation for one generic mapping: keyed load() into the mapping's model, batchable. */
export function genericMappingOperation(mapping: GenericMapping): Operation {
  const mode = mapping.onReplay === 'keep' ? 'create' : 'upsert';
  async function send(events: CanonicalEvent[], ctx: OperationContext): Promise<Array<OperationOutcome | Error>> {
    const out: Array<OperationOutcome | Error | undefined> = new Array(events.length);
    const rows: string[][] = [];
    const rowOf = new Map<number, number>();
    const byXmlid = new Map<string, number>();
    let fields: string[] = [];
    const guard = new KeyOrderGuard();
    events.forEach((e, i) => {
      const held = guard.heldBack(e);
      if (held) {
        out[i] = held;
        return;
      }
      try {
        const r = mappingRow(mapping, e, ctx.xmlidModule);
        fields = r.fields;
        const xmlid = r.row[0]!;
        const seen = byXmlid.get(xmlid);
        if (seen !== undefined) {
          // Two events with one key in a batch: the later one's values win.
          rows[seen] = r.row;
          rowOf.set(i, seen);
        } else {
          byXmlid.set(xmlid, rows.length);
          rowOf.set(i, rows.length);
          rows.push(r.row);
        }
      } catch (err) {
        out[i] = err instanceof Error ? err : new Error(String(err));
        guard.failed(e);
      }
    });
    if (rows.length > 0) {
      try {
        const ids = await keyedLoad(ctx, mapping.model, fields, rows, mode);
        for (const [i, k] of rowOf) out[i] = { odooIds: { [mapping.model]: ids[k]! } };
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        for (const i of rowOf.keys()) out[i] = e;
      }
    }
    return out.map((o) => o ?? new Error('event was not sent'));
  }
  return {
    type: mapping.eventType,
    models: () => [mapping.model],
    async execute(event, ctx) {
      const [r] = await send([event], ctx);
      if (r instanceof Error) throw r;
      return r!;
    },
    executeBatch: send,
  };
}
