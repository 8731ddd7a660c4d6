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
  unchanged,
} from '../base';
import { productionFactKey, productionSequenceKey } from '../keys';
import { shiftAt } from '../../model/plant-time';
import { signalMatcher } from '../match';
import type { Rule, RuleContext, RuleOutput } from '../types';
import { describeValue, readValue, roundQuantity, toNumber } from '../values';
import type { RuleKind } from './kind';

/**
 * `counter`: a piece counter of a machine (a PLC register, an OPC UA variable)
 * becomes `production.reported` with the ABSOLUTE quantity counted so far for
 * the work center's current manufacturing order.
 *
 * - The first reading is the baseline; each later reading adds its increase.
 * - A counter that wraps at `max` (65535, 4294967295) keeps counting across
 *   the wrap; a drop too large to be a wrap (see `resetThreshold`) is a reset:
 *   never a negative count.
 * - A reading with the same value (a re-poll), or one already taken (the same
 *   source time and value again, a replay after reconnect), changes nothing,
 *   so it never counts twice. Readings count in the order they arrive: a
 *   source time older than the last (a clock stepped back) is only the time
 *   of the report, never a reason to skip it.
 * - Totals are kept per order: a new order starts at 0; going back to an order
 *   continues its total (the agent remembers the last 20 orders).
 * - At most one event per signal; its id is built from the order and the total.
 */
export const counterRuleConfigSchema = z
  .strictObject({
    kind: z.literal('counter'),
    ...ruleBase,
    /** The work center the counter belongs to; its current order comes from the fact an `order` rule publishes. */
    workcenter: odooNameSchema.optional(),
    /** A fixed manufacturing order to count for (instead of the work center's current order), e.g. `WH/MO/00042`. */
    production: odooNameSchema.optional(),
    /** The counter's largest value before it wraps to 0 (65535 for 16 bits, 4294967295 for 32 bits); unset: the counter never wraps. */
    max: z.number().int().positive().optional(),
    /** Needs `max`. A drop whose wrap would mean more than this many pieces is a reset, not a wrap. Default: half of max + 1. */
    resetThreshold: z.number().positive().optional(),
    /** After a reset: `zero` counts the new reading from 0 (the counter restarted at 0); `baseline` counts nothing for it. Default `zero`. */
    afterReset: z.enum(['zero', 'baseline']).default('zero'),
    /** Report only when at least this much was added since the last report (a deadband). Default 0: every increase. */
    minIncrement: z.number().nonnegative().default(0),
    /** Quantity per count (2 for a two-cavity mould, 0.5 for half pieces). Default 1. */
    factor: z.number().positive().default(1),
    /** Unit of measure of the reported quantity, as named in Odoo (`Units`, `kg`); unset: the order's unit. */
    uom: odooNameSchema.optional(),
    /** Also count per plant shift (plant.shifts, in plant time): each report carries `shift: {name, day, quantity}`. Default false. */
    shiftTotals: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.workcenter === undefined && c.production === undefined) {
      ctx.addIssue({ code: 'custom', path: ['workcenter'], message: 'a counter needs `workcenter` (its current order) or a fixed `production`' });
    }
    if (c.resetThreshold !== undefined && c.max === undefined) {
      ctx.addIssue({ code: 'custom', path: ['resetThreshold'], message: '`resetThreshold` only has a meaning with `max`' });
    }
  });

export type CounterRuleConfig = z.output<typeof counterRuleConfigSchema>;

/** How many orders' totals the rule remembers (going back to an older order restarts it at 0). */
export const COUNTER_ORDERS_KEPT = 20;

const counterStateSchema = z.strictObject({
  /** Last reading per tag: the raw counter value and its source time. */
  readings: z.record(z.string(), z.strictObject({ raw: z.number(), at: z.string() })),
  /** The order counted for at the last reading, or null. */
  production: z.string().nullable(),
  /** Totals of recent orders (most recent last). `reported` is the total last sent. */
  orders: z.array(
    z.strictObject({
      production: z.string(),
      total: z.number(),
      reported: z.number(),
      /** With shiftTotals: the shift of the last reading (`day name`) and what the order counted in it. */
      shift: z.strictObject({ key: z.string(), name: z.string(), day: z.string(), quantity: z.number() }).optional(),
    }),
  ),
  /** The last readings that changed the counter, to know a replay (agent/rules/base.ts). */
  recent: recentReadingsSchema,
});

export type CounterState = z.output<typeof counterStateSchema>;

/** How a new raw reading relates to the previous one. Pure; exported for tests. */
export function counterIncrease(
  previous: number | undefined,
  raw: number,
  options: { max?: number; resetThreshold?: number; afterReset: 'zero' | 'baseline' },
): { increase: number; kind: 'baseline' | 'same' | 'up' | 'rollover' | 'reset' } {
  if (previous === undefined) return { increase: 0, kind: 'baseline' };
  if (raw === previous) return { increase: 0, kind: 'same' };
  if (raw > previous) return { increase: raw - previous, kind: 'up' };
  if (options.max !== undefined) {
    const wrapped = options.max - previous + raw + 1;
    const threshold = options.resetThreshold ?? (options.max + 1) / 2;
    if (wrapped <= threshold) return { increase: wrapped, kind: 'rollover' };
  }
  return { increase: options.afterReset === 'zero' ? raw : 0, kind: 'reset' };
}

function createCounterRule(config: CounterRuleConfig): Rule<CounterState> {
  const matches = signalMatcher(config.source, config.tag);

  function currentOrder(ctx: RuleContext): string | undefined {
    if (config.production !== undefined) return config.production;
    const fact = ctx.facts.get(productionFactKey(config.workcenter!));
    if (typeof fact === 'string' && fact.trim() !== '') return fact.trim();
    if (typeof fact === 'number' && Number.isFinite(fact)) return String(fact);
    return undefined;
  }

  function apply(state: CounterState, signal: Signal, ctx: RuleContext): RuleOutput<CounterState> {
    if (isBadQuality(signal)) return unchanged(state);
    const value = readValue(signal.value, config.path);
    const raw = toNumber(value);
    if (raw === undefined) return rejected(state, `counter value is not a number: ${describeValue(value)}`);
    if (raw < 0) return rejected(state, `counter value is negative: ${raw}`);
    if (config.max !== undefined && raw > config.max) return rejected(state, `counter value ${raw} is above the configured max ${config.max}`);
    const time = sourceTimeOf(signal);
    if (!time) return rejected(state, `source time is not a valid time: ${describeValue(signal.sourceTime)}`);

    const key = readingKey(signal.tag, time.ms, raw);
    if (isReplay(state.recent, key)) return unchanged(state);
    const previous = state.readings[signal.tag];
    const step = counterIncrease(previous?.raw, raw, config);
    if (step.kind === 'same') return unchanged(state);

    const readings = { ...state.readings, [signal.tag]: { raw, at: time.iso } };
    const recent = remember(state.recent, key);
    const increase = roundQuantity(step.increase * config.factor);
    const production = currentOrder(ctx);
    if (production === undefined) {
      const next = { ...state, readings, recent };
      if (increase > 0) {
        return rejected(next, `${increase} counted but work center "${config.workcenter}" has no current manufacturing order`);
      }
      return unchanged(next);
    }

    const orders = state.orders.map((o) => ({ ...o }));
    let entry = orders.find((o) => o.production === production);
    if (!entry) {
      entry = { production, total: 0, reported: 0 };
      orders.push(entry);
    } else if (state.production !== production) {
      // Back to an order seen before: move it to the most recent place.
      orders.splice(orders.indexOf(entry), 1);
      orders.push(entry);
    }
    entry.total = roundQuantity(entry.total + increase);
    if (config.shiftTotals && ctx.plantTime && ctx.plantTime.shifts.length > 0) {
      // The shift of the fact's time; a reading in another shift (forward, or back after a clock step) starts its count.
      const s = shiftAt(time.ms, ctx.plantTime.timeZone, ctx.plantTime.shifts);
      const key = `${s.day} ${s.name}`;
      const before = entry.shift?.key === key ? entry.shift.quantity : 0;
      entry.shift = { key, name: s.name, day: s.day, quantity: roundQuantity(before + increase) };
    }
    while (orders.length > COUNTER_ORDERS_KEPT) orders.shift();

    const report = (o: CounterState['orders'][number]) => {
      o.reported = o.total;
      const payload: Record<string, unknown> = { production: o.production, totalQuantity: o.total };
      if (o.shift) payload.shift = { name: o.shift.name, day: o.shift.day, quantity: o.shift.quantity };
      if (config.workcenter !== undefined) payload.workcenter = config.workcenter;
      if (config.uom !== undefined) payload.uom = config.uom;
      return makeEvent(
        'production.reported',
        payload,
        {
          id: eventId(time.ms, ctx.plant, config.name, 'production.reported', o.production, o.total),
          sequenceKey: productionSequenceKey(o.production),
          occurredAt: time.iso,
        },
        signal,
        ctx,
      );
    };

    const events = [];
    // The order changed while a deadband held back part of the old order's count: send that first.
    const left = state.production !== null && state.production !== production ? orders.find((o) => o.production === state.production) : undefined;
    if (left && left.total > left.reported) {
      events.push(report(left));
    } else if (entry.total > entry.reported && entry.total - entry.reported >= config.minIncrement) {
      events.push(report(entry));
    }
    return { state: { readings, production, orders, recent }, events };
  }

  return defineRule<CounterState>({
    name: config.name,
    matches,
    initialState: () => ({ readings: {}, production: null, orders: [] }),
    stateSchema: counterStateSchema,
    apply,
  });
}

export const counterRule: RuleKind<CounterRuleConfig> = {
  kind: 'counter',
  configSchema: counterRuleConfigSchema,
  create: createCounterRule,
};
