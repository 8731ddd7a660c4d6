import { z } from 'zod';
import { eventId } from '../../model/event-ids';
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
import { equipmentSequenceKey } from '../keys';
import { signalMatcher } from '../match';
import { renderTemplate } from '../template-language';
import type { Rule, RuleContext, RuleOutput } from '../types';
import { describeValue, readValue, toNumber } from '../values';
import type { RuleKind } from './kind';

/**
 * `threshold`: a measured value (temperature, vibration, pressure) crossing a
 * limit becomes one `maintenance.requested` for a piece of equipment. After
 * firing, the rule waits until the value is back past the limit by
 * `hysteresis` before it can fire again, so a value hovering around the limit
 * does not flood the maintenance team. Each matching tag is watched on its own.
 */
const priority = z.union([z.enum(['0', '1', '2', '3']), z.literal(0), z.literal(1), z.literal(2), z.literal(3)]);

export const thresholdRuleConfigSchema = z
  .strictObject({
    kind: z.literal('threshold'),
    ...ruleBase,
    /** The equipment the request is for, as named in Odoo Maintenance. */
    equipment: odooNameSchema,
    /** Fire when the value rises above this limit. Set this or `below`. */
    above: z.number().finite().optional(),
    /** Fire when the value falls below this limit. Set this or `above`. */
    below: z.number().finite().optional(),
    /** How far back past the limit the value must go before the rule can fire again. Default 0. */
    hysteresis: z.number().nonnegative().default(0),
    /** Title of the request; may use `{{value}}`, `{{limit}}`, `{{equipment}}`, `{{tag}}`, `{{source}}`, `{{facts.<key>}}`. */
    title: templateSchema.default('{{equipment}}: {{tag}} at {{value}} (limit {{limit}})'),
    /** Description of the request (same placeholders); unset: none. */
    description: templateSchema.optional(),
    /** `corrective` or `preventive`. Default `corrective`. */
    maintenanceType: z.enum(['corrective', 'preventive']).default('corrective'),
    /** Odoo priority: 0 very low, 1 low, 2 high, 3 very high. Default 1. */
    priority: priority.default('1'),
  })
  .superRefine((c, ctx) => {
    if ((c.above === undefined) === (c.below === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['above'], message: 'set exactly one of `above` or `below`' });
    }
  });

export type ThresholdRuleConfig = z.output<typeof thresholdRuleConfigSchema>;

const thresholdStateSchema = z.strictObject({
  /** Per tag: armed (may fire) and the source time of the last change. */
  tags: z.record(z.string(), z.strictObject({ armed: z.boolean(), at: z.string() })),
  /** The last readings that fired or re-armed, to know a replay (agent/rules/base.ts). */
  recent: recentReadingsSchema,
});

export type ThresholdState = z.output<typeof thresholdStateSchema>;

/** Whether a value fires, re-arms, or leaves the rule as it is. Pure; exported for tests. */
export function thresholdStep(armed: boolean, value: number, limit: { above?: number; below?: number; hysteresis: number }): 'fire' | 'rearm' | 'none' {
  const beyond = limit.above !== undefined ? value > limit.above : value < limit.below!;
  const back = limit.above !== undefined ? value <= limit.above - limit.hysteresis : value >= limit.below! + limit.hysteresis;
  if (armed && beyond) return 'fire';
  if (!armed && back) return 'rearm';
  return 'none';
}

function createThresholdRule(config: ThresholdRuleConfig): Rule<ThresholdState> {
  const matches = signalMatcher(config.source, config.tag);
  const limit = (config.above ?? config.below)!;
  const sequenceKey = equipmentSequenceKey(config.equipment);

  function apply(state: ThresholdState, signal: Signal, ctx: RuleContext): RuleOutput<ThresholdState> {
    if (isBadQuality(signal)) return unchanged(state);
    const raw = readValue(signal.value, config.path);
    const value = toNumber(raw);
    if (value === undefined) return rejected(state, `measured value is not a number: ${describeValue(raw)}`);
    const time = sourceTimeOf(signal);
    if (!time) return rejected(state, `source time is not a valid time: ${describeValue(signal.sourceTime)}`);
    const key = readingKey(signal.tag, time.ms, value);
    if (isReplay(state.recent, key)) return unchanged(state);
    const current = state.tags[signal.tag];

    const step = thresholdStep(current?.armed ?? true, value, config);
    if (step === 'none') return unchanged(state);
    const tags = { ...state.tags, [signal.tag]: { armed: step === 'rearm', at: time.iso } };
    const recent = remember(state.recent, key);
    if (step === 'rearm') return { state: { tags, recent }, events: [] };

    const scope = { value, limit, equipment: config.equipment, tag: signal.tag, source: signal.source, facts: ctx.facts };
    const title = String(renderTemplate(config.title, scope) ?? '').slice(0, 256);
    const payload: Record<string, unknown> = {
      equipment: config.equipment,
      name: title,
      maintenanceType: config.maintenanceType,
      priority: String(config.priority),
    };
    if (config.description !== undefined) {
      const text = renderTemplate(config.description, scope);
      if (text !== undefined && text !== null && text !== '') payload.description = String(text).slice(0, 2000);
    }
    const event = makeEvent(
      'maintenance.requested',
      payload,
      {
        id: eventId(time.ms, ctx.plant, config.name, 'maintenance.requested', signal.source, signal.tag, time.iso, value),
        sequenceKey,
        occurredAt: time.iso,
      },
      signal,
      ctx,
    );
    return { state: { tags, recent }, events: [event] };
  }

  return defineRule<ThresholdState>({
    name: config.name,
    matches,
    initialState: () => ({ tags: {} }),
    stateSchema: thresholdStateSchema,
    apply,
  });
}

export const thresholdRule: RuleKind<ThresholdRuleConfig> = {
  kind: 'threshold',
  configSchema: thresholdRuleConfigSchema,
  create: createThresholdRule,
};
