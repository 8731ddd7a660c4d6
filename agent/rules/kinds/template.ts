import { z } from 'zod';
import { eventId } from '../../model/event-ids';
import { EVENT_TYPES, parseEvent, payloadSchemas, type CanonicalEvent, type EventType } from '../../model/event';
import type { Signal } from '../../model/signal';
import { defineRule, isBadQuality, makeEvent, rejected, ruleBase, unchanged } from '../base';
import { compileExpression, ExpressionError, expressionProblem, isExpression } from '../expression';
import { defaultSequenceKey } from '../keys';
import { signalMatcher } from '../match';
import { isTemplate, renderTemplate, templateProblem } from '../template-language';
import type { Rule, RuleContext, RuleOutput } from '../types';
import { describeValue, readValue, timeMs } from '../values';
import type { RuleKind } from './kind';

/**
 * `template`: map the fields of any JSON message onto an event type. Each
 * field is a JSONata expression (text starting with `=`, agent/rules/expression.ts),
 * a template of the agent's own language (`{{value.order}}`,
 * agent/rules/template-language.ts), or a constant:
 *
 *   type: downtime.ended
 *   maps:
 *     lossReasons: { E12: Material Availability, E40: Equipment Failure }
 *   payload:
 *     downtimeId: "= value.stopId"
 *     workcenter: "{{value.machine}}"
 *     reason: "= $lookup($maps.lossReasons, value.code) ?: 'Equipment Failure'"
 *     startedAt: "= $fromMillis($toMillis(value.time) - value.duration_s * 1000)"
 *   occurredAt: "= value.time"       # default: the signal's source time
 *   sequenceKey: "= 'workcenter:' & value.machine"   # default: the order, else work center, else equipment
 *   id: "= value.stopId"             # default: a hash of the message (below)
 *
 * Expressions see `value` (the message, or the field at `path`), `tag` and
 * `topic`, `source`, `sourceTime`, `receivedAt`, `meta` (MQTT qos, retain),
 * `plant`, and `$maps.<name>` (the rule's value maps) and `$fact(key)` (a fact
 * other rules publish). Templates see the same names, with `{{facts...}}`.
 * Expressions are parsed when the config loads; one that fails on a message
 * (a type error, a time that does not parse) keeps that message as invalid
 * input with JSONata's reason.
 *
 * Default id: a hash of the plant, the rule, the source, the topic and the
 * message as received, plus its time when the time is the source's own (an
 * `occurredAt` mapping, or a source timestamp). The same message delivered
 * twice (a broker resending after a restart) is one event; two identical
 * messages on one topic without any time or id in them are also one event.
 */

/** A mapping field: `=` and a JSONata expression, or a template, or constant text. Expressions are checked with the rule's maps (below). */
const mappingText = z.string().superRefine((text, ctx) => {
  if (isExpression(text)) return;
  const problem = templateProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const fieldValue = z.union([mappingText, z.number(), z.boolean()]);

/** A value map: the plant's codes to Odoo's names (`E12: Material Availability`). */
const valueMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/** A map's name, as expressions read it (`$maps.lossReasons`). */
const MAP_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export const templateRuleConfigSchema = z
  .strictObject({
    kind: z.literal('template'),
    ...ruleBase,
    /** Event type (`production.reported`), or a mapping that gives one (`{{value.eventType}}`, `= value.kind`). */
    type: mappingText,
    /** Payload fields of the event: expressions, templates, numbers or booleans. A field that gives nothing is left out. */
    payload: z.record(z.string(), fieldValue),
    /** Value maps the expressions read as `$maps.<name>` (`$lookup($maps.lossReasons, value.code)`). */
    maps: z.record(z.string(), valueMap).default({}),
    /** Mapping of the sequence key; default: the payload's order, else its work center, else its equipment. */
    sequenceKey: mappingText.optional(),
    /** Mapping of the event id (a MES message id); default: a hash of the message (see the kind's description). */
    id: mappingText.optional(),
    /** Mapping of when it happened: ISO 8601 text or epoch seconds/milliseconds; default: the signal's source time. */
    occurredAt: mappingText.optional(),
  })
  .superRefine((c, ctx) => {
    const maps = new Set(Object.keys(c.maps));
    for (const name of maps) {
      if (!MAP_NAME.test(name))
        ctx.addIssue({ code: 'custom', path: ['maps', name], message: `map name "${name}": use letters, digits and _, starting with a letter` });
    }
    const check = (text: unknown, path: PropertyKey[]) => {
      if (typeof text !== 'string' || !isExpression(text)) return;
      const problem = expressionProblem(text, maps);
      // `offset` lets the config loader point at the character inside the field.
      if (problem) ctx.addIssue({ code: 'custom', path, message: problem.message, params: { offset: problem.offset } });
    };
    check(c.type, ['type']);
    for (const [field, value] of Object.entries(c.payload)) check(value, ['payload', field]);
    check(c.sequenceKey, ['sequenceKey']);
    check(c.id, ['id']);
    check(c.occurredAt, ['occurredAt']);

    if (isTemplate(c.type) || isExpression(c.type)) return;
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

type Mapped = { ok: true; event: CanonicalEvent } | { ok: false; reason: string };

/** What one message's mapping fields gave, by field (`type`, `payload.reason`, ...). */
type FieldResults = Map<string, unknown>;

/** True when any field of the rule is an expression: the rule then maps asynchronously. */
export function hasExpressions(config: TemplateRuleConfig): boolean {
  return mappingFields(config).some(([, text]) => typeof text === 'string' && isExpression(text));
}

const fieldLists = new WeakMap<TemplateRuleConfig, Array<[string, unknown]>>();

/** Every mapping field of a rule with its label, in the order they are reported (listed once per rule). */
function mappingFields(config: TemplateRuleConfig): Array<[string, unknown]> {
  let out = fieldLists.get(config);
  if (!out) {
    out = listFields(config);
    fieldLists.set(config, out);
  }
  return out;
}

function listFields(config: TemplateRuleConfig): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [['type', config.type]];
  if (config.occurredAt !== undefined) out.push(['occurredAt', config.occurredAt]);
  for (const [field, value] of Object.entries(config.payload)) out.push([`payload.${field}`, value]);
  if (config.sequenceKey !== undefined) out.push(['sequenceKey', config.sequenceKey]);
  if (config.id !== undefined) out.push(['id', config.id]);
  return out;
}

/** What templates and expressions read: the message and where it came from (see the kind's description). */
function scopeOf(config: TemplateRuleConfig, signal: Signal, ctx: RuleContext): Record<string, unknown> | string {
  const value = readValue(signal.value, config.path);
  if (config.path !== undefined && value === undefined) return `nothing at '${config.path}' in the message`;
  return {
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
}

/** Map one message whose rule has no expressions, or say why it cannot be an event. Pure; exported for tests. */
export function mapMessage(config: TemplateRuleConfig, signal: Signal, ctx: RuleContext): Mapped {
  const scope = scopeOf(config, signal, ctx);
  if (typeof scope === 'string') return { ok: false, reason: scope };
  const results: FieldResults = new Map();
  for (const [label, text] of mappingFields(config)) {
    if (typeof text === 'string' && isExpression(text))
      return { ok: false, reason: `${label} is an expression: this rule maps asynchronously (mapMessageAsync)` };
    results.set(label, typeof text === 'string' ? renderTemplate(text, scope) : text);
  }
  return buildEvent(config, results, signal, ctx);
}

/** Map one message, evaluating the rule's expressions; a failing expression gives the reason, naming its field. */
export async function mapMessageAsync(config: TemplateRuleConfig, signal: Signal, ctx: RuleContext): Promise<Mapped> {
  const scope = scopeOf(config, signal, ctx);
  if (typeof scope === 'string') return { ok: false, reason: scope };
  const bindings = { maps: config.maps, fact: (key: string) => ctx.facts.get(key) };
  const results: FieldResults = new Map();
  const pending: Array<Promise<string | undefined>> = [];
  for (const [label, text] of mappingFields(config)) {
    if (typeof text !== 'string') results.set(label, text);
    else if (!isExpression(text)) results.set(label, renderTemplate(text, scope));
    else {
      // All fields of one message evaluate together; the first failure in field order is the reason.
      pending.push(
        compileExpression(text)
          .evaluate(scope, bindings)
          .then(
            (v) => void results.set(label, v),
            (err: unknown) => {
              const e = err instanceof ExpressionError ? err : new ExpressionError(String(err), undefined, undefined);
              const where = e.offset !== undefined ? ` at character ${e.offset + 1}` : '';
              return `${label} '${text}' failed${where}: ${e.message}${e.code ? ` (${e.code})` : ''}`;
            },
          ),
      );
    }
  }
  const failure = (await Promise.all(pending)).find((reason) => reason !== undefined);
  if (failure !== undefined) return { ok: false, reason: failure };
  return buildEvent(config, results, signal, ctx);
}

function nothing(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (typeof v === 'string' && v.charCodeAt(0) <= 32 && v.trim() === '');
}

const labelLists = new WeakMap<TemplateRuleConfig, Array<[string, string]>>();

/** Each payload field with its label (`payload.reason`), listed once per rule. */
function payloadLabels(config: TemplateRuleConfig): Array<[string, string]> {
  let out = labelLists.get(config);
  if (!out) {
    out = Object.keys(config.payload).map((field) => [field, `payload.${field}`]);
    labelLists.set(config, out);
  }
  return out;
}

/** The event from what the fields gave. */
function buildEvent(config: TemplateRuleConfig, results: FieldResults, signal: Signal, ctx: RuleContext): Mapped {
  const renderedType = results.get('type');
  const type = nothing(renderedType) ? '' : String(renderedType).trim();
  if (!(EVENT_TYPES as string[]).includes(type))
    return { ok: false, reason: `type '${config.type}' gave ${describeValue(renderedType)}, which is not an event type` };

  let timeMsValue: number | undefined;
  let ownTime: boolean;
  if (config.occurredAt !== undefined) {
    const rendered = results.get('occurredAt');
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

  // A field that gives nothing is left out, so an optional field with no data is simply absent.
  const payload: Record<string, unknown> = {};
  const empty: string[] = [];
  for (const [field, label] of payloadLabels(config)) {
    const v = results.get(label);
    if (nothing(v)) empty.push(field);
    else payload[field] = v;
  }

  let sequenceKey: string | undefined;
  if (config.sequenceKey !== undefined) {
    const rendered = results.get('sequenceKey');
    if (nothing(rendered) || typeof rendered === 'object')
      return { ok: false, reason: `sequenceKey '${config.sequenceKey}' gave ${describeValue(rendered)}, not a key` };
    sequenceKey = String(rendered).trim();
  }

  let id: string;
  if (config.id !== undefined) {
    const rendered = results.get('id');
    if (nothing(rendered) || typeof rendered === 'object') return { ok: false, reason: `id '${config.id}' gave ${describeValue(rendered)}, not an id` };
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
  if (!parsed.ok) {
    const required = payloadSchemas[type as EventType].shape as Record<string, z.ZodType>;
    const missing = empty.filter((f) => required[f] && !required[f].safeParse(undefined).success);
    const why = missing.map((f) => `payload.${f} '${String(config.payload[f])}' gave nothing`).join('; ');
    return { ok: false, reason: `not a valid ${type} event: ${parsed.reason}${why ? ` (${why})` : ''}` };
  }
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
  async function applyAsync(state: null, signal: Signal, ctx: RuleContext): Promise<RuleOutput<null>> {
    if (isBadQuality(signal)) return unchanged(state);
    const r = await mapMessageAsync(config, signal, ctx);
    if (!r.ok) return rejected(state, r.reason);
    return { state, events: [r.event] };
  }
  const rule = defineRule<null>({
    name: config.name,
    matches,
    initialState: () => null,
    stateSchema: z.null(),
    apply,
  });
  return hasExpressions(config) ? { ...rule, applyAsync } : rule;
}

export const templateRule: RuleKind<TemplateRuleConfig> = {
  kind: 'template',
  configSchema: templateRuleConfigSchema,
  create: createTemplateRule,
};
