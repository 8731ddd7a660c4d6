import { z } from 'zod';
import { eventId } from '../../model/event-ids';
import { EVENT_TYPES, parseEvent, payloadSchemas, type CanonicalEvent, type EventType } from '../../model/event';
import type { Signal } from '../../model/signal';
import { defineRule, isBadQuality, makeEvent, rejected, ruleBase, templateSchema, unchanged } from '../base';
import { defaultSequenceKey } from '../keys';
import { signalMatcher } from '../match';
import { isTemplate, renderFields, renderTemplate } from '../template-language';
import type { Rule, RuleContext, RuleOutput } from '../types';
import { describeValue, readValue, timeMs } from '../values';
import type { RuleKind } from './kind';

/**
 * `template`: map the fields of any JSON message onto an event type with small
 * templates (agent/rules/template-language.ts):
 *
 *   type: production.reported
 *   payload:
 *     production: "{{value.order}}"
 *     totalQuantity: "{{value.good|number}}"   # one placeholder keeps a number a number
 *   sequenceKey: "{{value.order}}"             # default: the order, else work center, else equipment
 *   occurredAt: "{{value.ts}}"                  # default: the signal's source time
 *   id: "{{value.msgId}}"                       # default: a hash of the message (below)
 *
 * Placeholders: `{{value...}}` (the message, or the field at `path`), `{{tag}}`
 * and `{{topic}}`, `{{source}}`, `{{sourceTime}}`, `{{receivedAt}}`,
 * `{{meta...}}` (MQTT qos, retain), `{{facts...}}`, `{{plant}}`.
 *
 * Default id: a hash of the plant, the rule, the source, the topic and the
 * message as received, plus its time when the time is the source's own (an
 * `occurredAt` template, or a source timestamp). The same message delivered
 * twice (a broker resending after a restart) is one event; two identical
 * messages on one topic without any time or id in them are also one event.
 */

const fieldValue = z.union([templateSchema, z.number(), z.boolean()]);

export const templateRuleConfigSchema = z
  .strictObject({
    kind: z.literal('template'),
    ...ruleBase,
    /** Event type (`production.reported`), or a template that gives one (`{{value.eventType}}`). */
    type: templateSchema,
    /** Payload fields of the event: templates, numbers or booleans. A field that renders to nothing is left out. */
    payload: z.record(z.string(), fieldValue),
    /** Template of the sequence key; default: the payload's order, else its work center, else its equipment. */
    sequenceKey: templateSchema.optional(),
    /** Template of the event id (a MES message id); default: a hash of the message (see the kind's description). */
    id: templateSchema.optional(),
    /** Template of when it happened: ISO 8601 text or epoch seconds/milliseconds; default: the signal's source time. */
    occurredAt: templateSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (isTemplate(c.type)) return;
    if (!(EVENT_TYPES as string[]).includes(c.type)) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `unknown event type "${c.type}" (known: ${EVENT_TYPES.join(', ')})` });
      return;
    }
    const shape = payloadSchemas[c.type as EventType].shape as Record<string, z.ZodType>;
    for (const field of Object.keys(c.payload)) {
      if (!(field in shape)) {
        ctx.addIssue({ code: 'custom', path: ['payload', field], message: `${c.type} has no field "${field}" (fields: ${Object.keys(shape).join(', ')})` });
      }
    }
    for (const [field, schema] of Object.entries(shape)) {
      if (!(field in c.payload) && !schema.safeParse(undefined).success) {
        ctx.addIssue({ code: 'custom', path: ['payload'], message: `${c.type} needs the field "${field}"` });
      }
    }
  });

export type TemplateRuleConfig = z.output<typeof templateRuleConfigSchema>;

/**
 * A time from a rendered template: ISO 8601 text (without a zone: plant
 * time), or a number of epoch seconds (below 1e11) or milliseconds. Pure;
 * exported for tests.
 */
export function occurredAtMs(v: unknown, timeZone?: string): number | undefined {
  if (typeof v === 'number' || (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v))) {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) return undefined;
    return Math.round(n < 1e11 ? n * 1000 : n);
  }
  if (typeof v === 'string' && v.trim() !== '') return timeMs(v.trim(), timeZone);
  return undefined;
}

/** Map one message onto an event, or say why it cannot be one. Pure; exported for tests. */
export function mapMessage(config: TemplateRuleConfig, signal: Signal, ctx: RuleContext): { ok: true; event: CanonicalEvent } | { ok: false; reason: string } {
  const value = readValue(signal.value, config.path);
  if (config.path !== undefined && value === undefined) return { ok: false, reason: `nothing at '${config.path}' in the message` };
  const scope = {
    value,
    tag: signal.tag,
    topic: signal.tag,
    source: signal.source,
    sourceTime: signal.sourceTime,
    receivedAt: signal.receivedAt,
    meta: signal.meta ?? {},
    facts: ctx.facts,
    plant: ctx.plant,
  };

  const type = String(renderTemplate(config.type, scope) ?? '').trim();
  if (!(EVENT_TYPES as string[]).includes(type)) return { ok: false, reason: `'${config.type}' gave ${describeValue(type)}, which is not an event type` };

  let timeMsValue: number | undefined;
  let ownTime: boolean;
  if (config.occurredAt !== undefined) {
    const rendered = renderTemplate(config.occurredAt, scope);
    // A time without a zone is the plant's (plant.timezone).
    timeMsValue = occurredAtMs(rendered, ctx.plantTime?.timeZone);
    if (timeMsValue === undefined) return { ok: false, reason: `occurredAt '${config.occurredAt}' gave ${describeValue(rendered)}, which is not a time` };
    ownTime = true;
  } else {
    timeMsValue = timeMs(signal.sourceTime);
    if (timeMsValue === undefined) return { ok: false, reason: `source time is not a valid time: ${describeValue(signal.sourceTime)}` };
    // A source without its own clock (MQTT) sets sourceTime to the receive time: not part of the fact.
    ownTime = signal.sourceTime !== signal.receivedAt;
  }
  const occurredAt = new Date(timeMsValue).toISOString();

  const payload = renderFields(config.payload, scope);

  let sequenceKey: string | undefined;
  if (config.sequenceKey !== undefined) {
    const rendered = renderTemplate(config.sequenceKey, scope);
    if (rendered === undefined || rendered === null || String(rendered).trim() === '') {
      return { ok: false, reason: `sequenceKey '${config.sequenceKey}' gave nothing` };
    }
    sequenceKey = String(rendered).trim();
  }

  let id: string;
  if (config.id !== undefined) {
    const rendered = renderTemplate(config.id, scope);
    if (rendered === undefined || rendered === null || String(rendered).trim() === '' || typeof rendered === 'object') {
      return { ok: false, reason: `id '${config.id}' gave ${describeValue(rendered)}, not an id` };
    }
    id = String(rendered).trim();
  } else {
    id = eventId(ownTime ? timeMsValue : 0, ctx.plant, config.name, signal.source, signal.tag, JSON.stringify(signal.value), ownTime ? occurredAt : '');
  }

  const candidate = makeEvent(
    type as EventType,
    payload,
    { id, sequenceKey: sequenceKey ?? defaultSequenceKey(payload, `rule:${config.name}`), occurredAt },
    signal,
    ctx,
  );
  const parsed = parseEvent(candidate);
  if (!parsed.ok) return { ok: false, reason: `not a valid ${type} event: ${parsed.reason}` };
  return { ok: true, event: parsed.event };
}

function createTemplateRule(config: TemplateRuleConfig): Rule<null> {
  const matches = signalMatcher(config.source, config.tag);
  function apply(state: null, signal: Signal, ctx: RuleContext): RuleOutput<null> {
    if (isBadQuality(signal)) return unchanged(state);
    const r = mapMessage(config, signal, ctx);
    if (!r.ok) return rejected(state, r.reason);
    return { state, events: [r.event] };
  }
  return defineRule<null>({
    name: config.name,
    matches,
    initialState: () => null,
    stateSchema: z.null(),
    apply,
  });
}

export const templateRule: RuleKind<TemplateRuleConfig> = {
  kind: 'template',
  configSchema: templateRuleConfigSchema,
  create: createTemplateRule,
};
