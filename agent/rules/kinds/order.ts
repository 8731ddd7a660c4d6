import { z } from 'zod';
import { eventId } from '../../model/event-ids';
import type { CanonicalEvent } from '../../model/event';
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
import { claimCurrentOrder } from '../current-order';
import { productionFactKey, productionSequenceKey } from '../keys';
import { openProduction } from '../master-data';
import { signalMatcher } from '../match';
import { renderTemplate } from '../template-language';
import type { Rule, RuleContext, RuleOutput } from '../types';
import { describeValue, readValue } from '../values';
import type { RuleKind } from './kind';

/**
 * `order`: a tag or MQTT topic that says which manufacturing order a work
 * center is working on. It publishes the fact `workcenter:<name>:production`
 * (read by `counter` rules and by templates), and on a change can emit
 * `workorder.finished` for the previous order and `workorder.started` for the
 * new one. An empty value (or one of `idleValues`) means "no order".
 */
export const orderRuleConfigSchema = z.strictObject({
  kind: z.literal('order'),
  ...ruleBase,
  /** The work center whose current order this tag gives, as named in Odoo. */
  workcenter: odooNameSchema,
  /** How the order name is built from the value, e.g. `WH/MO/{{value|pad:5}}` for a PLC that holds 42. Default `{{value}}`. */
  format: templateSchema.default('{{value}}'),
  /** Values (compared as trimmed text, before `format`) that mean the work center has no order. Default `["", "0"]`. */
  idleValues: z.array(z.string()).default(['', '0']),
  /** Emit `workorder.started` when a new order begins. Default false. */
  emitStarted: z.boolean().default(false),
  /** Emit `workorder.finished` for the previous order when it changes or the work center goes idle. Default false. */
  emitFinished: z.boolean().default(false),
  /** The work order (operation name in Odoo) the started/finished events refer to; unset: the order's work order at this work center. */
  workorder: odooNameSchema.optional(),
  /** Refuse an order that is not among the open orders cached from Odoo (only once the cache has been filled). Default false. */
  requireKnownOrder: z.boolean().default(false),
});

export type OrderRuleConfig = z.output<typeof orderRuleConfigSchema>;

const orderStateSchema = z.strictObject({
  /** The current order, or null when idle or not known yet. */
  production: z.string().nullable(),
  /** Source time of the last change, or null. */
  at: z.string().nullable(),
  /** The last readings that changed the order, to know a replay (agent/rules/base.ts). */
  recent: recentReadingsSchema,
});

export type OrderState = z.output<typeof orderStateSchema>;

function createOrderRule(config: OrderRuleConfig): Rule<OrderState> {
  const matches = signalMatcher(config.source, config.tag);
  const factKey = productionFactKey(config.workcenter);

  /** The order named by the value: a name, null for idle, or a reason it is unusable. */
  function orderOf(value: unknown, signal: Signal): { production: string | null } | { problem: string } {
    if (value === null || value === undefined) return { production: null };
    if (typeof value !== 'string' && typeof value !== 'number') {
      return { problem: `order value must be text or a number, got ${describeValue(value)}${config.path ? '' : ' (set `path` to pick a field)'}` };
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return { problem: `order value is not a number: ${value}` };
    const text = String(value).trim();
    if (config.idleValues.includes(text)) return { production: null };
    const rendered = renderTemplate(config.format, {
      value: typeof value === 'string' ? text : value,
      workcenter: config.workcenter,
      tag: signal.tag,
      source: signal.source,
    });
    const name = rendered === undefined || rendered === null ? '' : String(rendered).trim();
    if (name === '') return { production: null };
    if (name.length > 256) return { problem: `order name is longer than 256 characters: ${describeValue(name)}` };
    return { production: name };
  }

  function apply(state: OrderState, signal: Signal, ctx: RuleContext): RuleOutput<OrderState> {
    if (isBadQuality(signal)) return unchanged(state);
    const time = sourceTimeOf(signal);
    if (!time) return rejected(state, `source time is not a valid time: ${describeValue(signal.sourceTime)}`);
    const raw = readValue(signal.value, config.path);
    const key = readingKey(signal.tag, time.ms, raw);
    if (isReplay(state.recent, key)) return unchanged(state);

    const found = orderOf(raw, signal);
    if ('problem' in found) return rejected(state, found.problem);
    const next = found.production;

    if (next === state.production) {
      // Same order: only repair the fact if it went missing.
      if (next !== null && ctx.facts.get(factKey) !== next)
        claimCurrentOrder(ctx.facts, config.workcenter, { production: next, at: time.iso, by: `rule:${config.name}` });
      return unchanged(state);
    }
    if (next !== null && config.requireKnownOrder && ctx.masterData) {
      const open = openProduction(ctx.masterData, next);
      if ('problem' in open) return rejected(state, open.problem);
    }

    const events: CanonicalEvent[] = [];
    const payload = (production: string) => {
      const p: Record<string, unknown> = { production, workcenter: config.workcenter };
      if (config.workorder !== undefined) p.workorder = config.workorder;
      return p;
    };
    if (config.emitFinished && state.production !== null) {
      events.push(
        makeEvent(
          'workorder.finished',
          payload(state.production),
          {
            id: eventId(time.ms, ctx.plant, config.name, 'workorder.finished', config.workcenter, state.production, time.iso),
            sequenceKey: productionSequenceKey(state.production),
            occurredAt: time.iso,
          },
          signal,
          ctx,
        ),
      );
    }
    if (config.emitStarted && next !== null) {
      events.push(
        makeEvent(
          'workorder.started',
          payload(next),
          {
            id: eventId(time.ms, ctx.plant, config.name, 'workorder.started', config.workcenter, next, time.iso),
            sequenceKey: productionSequenceKey(next),
            occurredAt: time.iso,
          },
          signal,
          ctx,
        ),
      );
    }
    // Another source (the release, a scan) may have said something later: the latest by time wins.
    claimCurrentOrder(ctx.facts, config.workcenter, { production: next, at: time.iso, by: `rule:${config.name}` });
    return { state: { production: next, at: time.iso, recent: remember(state.recent, key) }, events };
  }

  return defineRule<OrderState>({
    name: config.name,
    matches,
    initialState: () => ({ production: null, at: null }),
    stateSchema: orderStateSchema,
    apply,
  });
}

export const orderRule: RuleKind<OrderRuleConfig> = {
  kind: 'order',
  configSchema: orderRuleConfigSchema,
  create: createOrderRule,
};
