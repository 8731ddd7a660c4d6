import { z } from 'zod';
import { EVENT_TYPES, parseEvent, type CanonicalEvent, type EventType } from '../../model/event';
import { parseJsonText } from '../../model/json-text';
import type { Signal } from '../../model/signal';
import { defineRule, isBadQuality, rejected, ruleBase, templateSchema, unchanged } from '../base';
import { defaultSequenceKey } from '../keys';
import { signalMatcher } from '../match';
import { renderTemplate, resolvePath } from '../template-language';
import type { Rule, RuleContext, RuleOutput } from '../types';
import { describeValue, readValue } from '../values';
import type { RuleKind } from './kind';

/**
 * `event`: the message already is a canonical event (a MES that speaks the
 * agent's event model, one JSON object per message):
 *
 *   {"id": "MES-778812", "type": "production.reported", "sequenceKey": "WH/MO/00042",
 *    "occurredAt": "2025-03-01T10:15:00Z",
 *    "payload": {"production": "WH/MO/00042", "totalQuantity": 120}}
 *
 * The rule fills `receivedAt` (agent time) and `source` (the signal's source)
 * when they are missing, takes the id from `idFrom` when configured (otherwise
 * `id` is required: it is the MES event id, so a message sent twice is one
 * event), fills a missing `sequenceKey` from the `sequenceKey` template (or
 * the event's order, work center or equipment), and validates the whole event.
 * Anything that does not validate is kept as invalid input with the reason.
 */

const ENVELOPE = new Set(['id', 'type', 'sequenceKey', 'occurredAt', 'receivedAt', 'source', 'payload']);

const eventTypeSchema = z.enum(EVENT_TYPES as [EventType, ...EventType[]]);

export const eventRuleConfigSchema = z.strictObject({
  kind: z.literal('event'),
  ...ruleBase,
  /** Dotted path of the MES event id in the message (`header.eventId`; that top-level field is then left out of the event); unset: the message's own `id` field, which is then required. */
  idFrom: z.string().min(1).optional(),
  /** Template of the sequence key when the message has none (`{{value.payload.workcenter}}`); unset: the event's order, else work center, else equipment. */
  sequenceKey: templateSchema.optional(),
  /** Event types this rule accepts; others are kept as invalid input. Unset: every type. */
  types: z.array(eventTypeSchema).min(1).optional(),
});

export type EventRuleConfig = z.output<typeof eventRuleConfigSchema>;

/** Turn one message into a canonical event, or say why it cannot be one. Pure; exported for tests. */
export function messageToEvent(config: EventRuleConfig, signal: Signal, ctx: RuleContext): { ok: true; event: CanonicalEvent } | { ok: false; reason: string } {
  let value = readValue(signal.value, config.path);
  if (typeof value === 'string') {
    const parsed = parseJsonText(value);
    if (!parsed.ok && parsed.tooDeep) return { ok: false, reason: `the message is JSON ${parsed.reason}` };
    if (!parsed.ok) return { ok: false, reason: `the message is not a JSON event: ${describeValue(value)}` };
    value = parsed.value;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: `the message is not a JSON object: ${describeValue(value)}` };
  }
  const candidate = envelopeOf(value as Record<string, unknown>, ctx.now, signal.source);

  if (config.idFrom !== undefined) {
    const id = resolvePath(value, config.idFrom);
    if ((typeof id !== 'string' || id.trim() === '') && !(typeof id === 'number' && Number.isFinite(id))) {
      return { ok: false, reason: `no event id at '${config.idFrom}' (found ${describeValue(id)})` };
    }
    candidate.id = String(id).trim();
    // The field that carried the id is not part of the event (other unknown fields still are errors).
    const carrier = config.idFrom.split('.')[0]!;
    if (!ENVELOPE.has(carrier)) delete candidate[carrier];
  } else if (candidate.id === undefined || candidate.id === null || candidate.id === '') {
    return { ok: false, reason: "the event has no 'id' (the MES event id); set idFrom when the id is elsewhere in the message" };
  }
  if (candidate.sequenceKey === undefined || candidate.sequenceKey === null || candidate.sequenceKey === '') {
    const payload = candidate.payload !== null && typeof candidate.payload === 'object' ? (candidate.payload as Record<string, unknown>) : {};
    let key: string | undefined;
    if (config.sequenceKey !== undefined) {
      const scope = { value, tag: signal.tag, topic: signal.tag, source: signal.source, meta: signal.meta ?? {}, facts: ctx.facts, plant: ctx.plant };
      const rendered = renderTemplate(config.sequenceKey, scope);
      if (rendered !== undefined && rendered !== null && String(rendered).trim() !== '') key = String(rendered).trim();
    }
    candidate.sequenceKey = key ?? defaultSequenceKey(payload, `rule:${config.name}`);
  }
  if (config.types !== undefined && !config.types.includes(candidate.type as EventType)) {
    return { ok: false, reason: `event type ${describeValue(candidate.type)} is not accepted by rule ${config.name} (accepted: ${config.types.join(', ')})` };
  }
  const parsed = parseEvent(candidate);
  if (!parsed.ok) return { ok: false, reason: `not a valid event: ${parsed.reason}` };
  return { ok: true, event: parsed.event };
}

/**
 * A copy of the message to complete and validate, with `receivedAt` and
 * `source` filled when missing. A message with only the envelope's fields
 * (the usual case) is copied into one fixed shape; building that object field
 * by field from a spread copy cost about as much as validating it.
 */
function envelopeOf(value: Record<string, unknown>, now: string, source: string): Record<string, unknown> {
  let fields = 0;
  for (const k in value) {
    if (!ENVELOPE.has(k)) {
      fields = -1;
      break;
    }
    fields++;
  }
  if (fields < 0) {
    // Other fields too (refused later, or the id's carrier with idFrom): keep them all.
    const copy: Record<string, unknown> = { ...value };
    if (copy.receivedAt === undefined) copy.receivedAt = now;
    if (copy.source === undefined) copy.source = source;
    return copy;
  }
  // Every envelope field is there (undefined when the message had none): zod
  // and the quick check treat a missing and an undefined required field alike.
  return {
    id: value.id,
    type: value.type,
    sequenceKey: value.sequenceKey,
    occurredAt: value.occurredAt,
    receivedAt: value.receivedAt === undefined ? now : value.receivedAt,
    source: value.source === undefined ? source : value.source,
    payload: value.payload,
  };
}

function createEventRule(config: EventRuleConfig): Rule<null> {
  const matches = signalMatcher(config.source, config.tag);
  function apply(state: null, signal: Signal, ctx: RuleContext): RuleOutput<null> {
    if (isBadQuality(signal)) return unchanged(state);
    const r = messageToEvent(config, signal, ctx);
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

export const eventRule: RuleKind<EventRuleConfig> = {
  kind: 'event',
  configSchema: eventRuleConfigSchema,
  create: createEventRule,
};
