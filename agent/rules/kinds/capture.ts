import { z } from 'zod';
import { eventId } from '../../model/event-ids';
import { EVENT_TYPES, payloadSchemas, type EventType } from '../../model/event';
import type { Signal } from '../../model/signal';
import {
  defineRule,
  isBadQuality,
  isReplay,
  makeEvent,
  odooNameSchema,
  readingKey,
  recentReadingsSchema,
  rejected,
  remember,
  ruleBase,
  sourceTimeOf,
  templateSchema,
  unchanged,
} from '../base';
import { defaultSequenceKey, productionFactKey } from '../keys';
import { hasWildcard, signalMatcher } from '../match';
import { renderFields, renderTemplate } from '../template-language';
import type { Rule, RuleContext, RuleOutput } from '../types';
import { describeValue, readValue, toBool } from '../values';
import type { RuleKind } from './kind';

/**
 * `capture`: on an edge of a trigger tag (cycle complete, part done), take the
 * latest values of other tags (order, lot, good and scrap counts, a measured
 * value) and emit one event of a configured type whose payload fields are
 * small templates:
 *
 *   fields:
 *     production: "{{tags.order}}"
 *     totalQuantity: "{{tags.good}}"      # one placeholder keeps the number a number
 *     lot: "LOT-{{tags.lot}}"
 *
 * Placeholders: `{{value}}` (trigger value), `{{previous}}`, `{{tags.<alias>}}`,
 * `{{facts.<key>}}`, `{{workcenter}}`, `{{production}}` (the work center's
 * current order), `{{tag}}`, `{{source}}`, `{{sourceTime}}`. A field that renders
 * to nothing is left out. The first trigger value ever seen is only remembered.
 */
const ALIAS = /^[A-Za-z_][A-Za-z0-9_]*$/;

const capturedTagSchema = z.union([
  z.string().min(1),
  z.strictObject({
    /** The source of this tag; default: the rule's source. */
    source: z.string().min(1).max(200).optional(),
    /** The exact tag (or topic) name. */
    tag: z.string().min(1),
    /** Dotted path to a field of an object value. */
    path: z.string().min(1).optional(),
  }),
]);

const fieldValue = z.union([templateSchema, z.number(), z.boolean()]);

export const captureRuleConfigSchema = z
  .strictObject({
    kind: z.literal('capture'),
    ...ruleBase,
    /** Which change of the trigger tag fires: `rising` (off to on), `falling` (on to off), `change` (any new value). Default `rising`. */
    edge: z.enum(['rising', 'falling', 'change']).default('rising'),
    /** Tags whose latest values the event may use, by alias: `lot: Press1.Lot`, or `{source, tag, path}` for another source. */
    tags: z.record(z.string(), capturedTagSchema).default({}),
    /** The work center this rule is about: gives `{{workcenter}}` and `{{production}}` (its current order) to the templates. */
    workcenter: odooNameSchema.optional(),
    /** Event type to emit, e.g. `production.reported`, `scrap.reported`, `quality.recorded`. */
    event: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
    /** Payload fields of that event type: templates, numbers or booleans. */
    fields: z.record(z.string(), fieldValue),
    /** The sequence key template; default: the payload's order, else its work center, else its equipment. */
    sequenceKey: templateSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const shape = payloadSchemas[c.event].shape as Record<string, z.ZodType>;
    for (const field of Object.keys(c.fields)) {
      if (!(field in shape)) {
        ctx.addIssue({ code: 'custom', path: ['fields', field], message: `${c.event} has no field "${field}" (fields: ${Object.keys(shape).join(', ')})` });
      }
    }
    for (const [field, schema] of Object.entries(shape)) {
      if (!(field in c.fields) && !schema.safeParse(undefined).success) {
        ctx.addIssue({ code: 'custom', path: ['fields'], message: `${c.event} needs the field "${field}"` });
      }
    }
    for (const [alias, t] of Object.entries(c.tags)) {
      if (!ALIAS.test(alias)) {
        ctx.addIssue({ code: 'custom', path: ['tags', alias], message: 'an alias uses letters, digits and _, and does not start with a digit' });
      }
      const tag = typeof t === 'string' ? t : t.tag;
      if (hasWildcard(tag)) ctx.addIssue({ code: 'custom', path: ['tags', alias], message: 'a captured tag is an exact name, without wildcards' });
    }
  });

export type CaptureRuleConfig = z.output<typeof captureRuleConfigSchema>;

const capturedSchema = z.strictObject({ value: z.unknown(), at: z.string() });

const captureStateSchema = z.strictObject({
  /** Latest value of each captured tag, by alias. */
  latest: z.record(z.string(), capturedSchema),
  /** Last trigger value and the source time it changed, or null. */
  trigger: capturedSchema.nullable(),
  /** The last trigger readings that changed it, to know a replay (agent/rules/base.ts). */
  recent: recentReadingsSchema,
});

export type CaptureState = z.output<typeof captureStateSchema>;

/** Whether the trigger fired, did not, or the value cannot be read. Pure; exported for tests. */
export function triggerFired(edge: 'rising' | 'falling' | 'change', previous: unknown, current: unknown): boolean | { problem: string } {
  if (edge === 'change') return previous !== undefined && JSON.stringify(previous) !== JSON.stringify(current);
  const now = toBool(current);
  if (now === undefined) return { problem: `trigger value is not on/off: ${describeValue(current)}` };
  if (previous === undefined) return false;
  const before = toBool(previous);
  if (before === undefined) return false;
  return edge === 'rising' ? !before && now : before && !now;
}

function createCaptureRule(config: CaptureRuleConfig): Rule<CaptureState> {
  const trigger = signalMatcher(config.source, config.tag);
  const captured = Object.entries(config.tags).map(([alias, t]) =>
    typeof t === 'string'
      ? { alias, source: config.source, tag: t, path: undefined as string | undefined }
      : { alias, source: t.source ?? config.source, tag: t.tag, path: t.path },
  );
  const capturedBy = (signal: Signal) => captured.filter((c) => c.source === signal.source && c.tag === signal.tag);

  function apply(state: CaptureState, signal: Signal, ctx: RuleContext): RuleOutput<CaptureState> {
    if (isBadQuality(signal)) return unchanged(state);
    const time = sourceTimeOf(signal);
    if (!time) return rejected(state, `source time is not a valid time: ${describeValue(signal.sourceTime)}`);

    // Captured values are the latest to arrive, whatever their source time says.
    let latest = state.latest;
    for (const c of capturedBy(signal)) {
      latest = { ...latest, [c.alias]: { value: readValue(signal.value, c.path) ?? null, at: time.iso } };
    }
    const next: CaptureState = latest === state.latest ? state : { ...state, latest };
    if (!trigger(signal)) return unchanged(next);
    const value = readValue(signal.value, config.path) ?? null;
    const key = readingKey(signal.tag, time.ms, value);
    if (isReplay(state.recent, key)) return unchanged(next);
    const previous = state.trigger?.value;
    const fired = triggerFired(config.edge, previous, value);
    if (typeof fired === 'object') return rejected(next, fired.problem);
    if (previous !== undefined && JSON.stringify(previous) === JSON.stringify(value)) return unchanged(next);
    const after: CaptureState = { ...next, trigger: { value, at: time.iso }, recent: remember(state.recent, key) };
    if (!fired) return unchanged(after);

    const tags: Record<string, unknown> = {};
    for (const [alias, v] of Object.entries(latest)) tags[alias] = v.value;
    const production = config.workcenter !== undefined ? ctx.facts.get(productionFactKey(config.workcenter)) : undefined;
    const scope = {
      value,
      previous,
      tags,
      facts: ctx.facts,
      workcenter: config.workcenter,
      production,
      tag: signal.tag,
      source: signal.source,
      sourceTime: time.iso,
      plant: ctx.plant,
    };
    const payload = renderFields(config.fields, scope);
    const rendered = config.sequenceKey !== undefined ? renderTemplate(config.sequenceKey, scope) : undefined;
    const sequenceKey =
      rendered !== undefined && rendered !== null && String(rendered).trim() !== ''
        ? String(rendered).trim()
        : defaultSequenceKey(
            config.workcenter !== undefined && payload.workcenter === undefined ? { ...payload, workcenter: config.workcenter } : payload,
            `rule:${config.name}`,
          );
    const event = makeEvent(
      config.event,
      payload,
      {
        id: eventId(time.ms, ctx.plant, config.name, config.event, signal.source, signal.tag, time.iso, JSON.stringify(value)),
        sequenceKey,
        occurredAt: time.iso,
      },
      signal,
      ctx,
    );
    return { state: after, events: [event] };
  }

  return defineRule<CaptureState>({
    name: config.name,
    matches: (signal) => trigger(signal) || capturedBy(signal).length > 0,
    initialState: () => ({ latest: {}, trigger: null }),
    stateSchema: captureStateSchema,
    apply,
  });
}

export const captureRule: RuleKind<CaptureRuleConfig> = {
  kind: 'capture',
  configSchema: captureRuleConfigSchema,
  create: createCaptureRule,
};
