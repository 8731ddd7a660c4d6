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
import { workcenterSequenceKey } from '../keys';
import { signalMatcher } from '../match';
import { renderTemplate } from '../template-language';
import type { Rule, RuleContext, RuleOutput } from '../types';
import { describeValue, readValue, timeMs, toBool, toCode } from '../values';
import type { RuleKind } from './kind';

/**
 * `state`: a machine state tag becomes downtime of a work center:
 * `downtime.started` when it stops and `downtime.ended` when it runs again.
 * Both carry the same `downtimeId` (`<work center>@<start time>`), and the end
 * carries `startedAt`, so Odoo gets one productivity record per stop.
 *
 * Two ways to read the tag (set exactly one):
 *   - state codes: `runningCodes` are running, `idleCodes` are neither running
 *     nor a loss, any other code is a stop whose loss reason comes from `codes`
 *     (or `reason`). A change to a code with another reason ends the stop and
 *     starts a new one.
 *   - a boolean: `edge: rising` means "true is stopped" (a fault bit),
 *     `edge: falling` means "false is stopped" (a running bit).
 *
 * With `minDuration`, a stop shorter than that is not reported at all; a longer
 * one is reported with its real start time.
 *
 * Readings are taken in the order they arrive (agent/rules/base.ts). When the
 * clock that stamps them stepped back during a stop, the end would come
 * before the start: the stop then lasts the time between the two readings'
 * arrival (the gateway's clock), or nothing when that clock stepped too, and
 * ends at its start plus that. No stop is lost to a clock.
 */
const codeKey = z.union([z.string().trim().min(1), z.number()]);

export const stateRuleConfigSchema = z
  .strictObject({
    kind: z.literal('state'),
    ...ruleBase,
    /** The work center whose downtime this tag tells, as named in Odoo. */
    workcenter: odooNameSchema,
    /** State codes that mean "running" (numbers or text). Set this or `edge`. */
    runningCodes: z.array(codeKey).min(1).optional(),
    /** State codes that are not a loss (switched off, no shift): they end a stop and start none. Default none. */
    idleCodes: z.array(codeKey).default([]),
    /** Stop codes with their loss reason (name of a productivity loss in Odoo) and an optional description. */
    codes: z
      .record(
        z.string(),
        z.strictObject({
          /** Loss reason for this code, as named in Odoo (Manufacturing > Configuration > Productivity losses). */
          reason: odooNameSchema,
          /** Text for the downtime record; may use `{{value}}`, `{{code}}`, `{{workcenter}}`. */
          description: templateSchema.optional(),
        }),
      )
      .default({}),
    /** Boolean tag instead of codes: `rising` = true means stopped (a fault bit), `falling` = false means stopped (a running bit). */
    edge: z.enum(['rising', 'falling']).optional(),
    /** Loss reason for a boolean stop and for a stop code not listed in `codes`. Default `Equipment Failure`. */
    reason: odooNameSchema.default('Equipment Failure'),
    /** Description for such stops; may use `{{value}}`, `{{code}}`, `{{workcenter}}`. Default: `State code {{code}}` for codes, none for booleans. */
    description: templateSchema.optional(),
    /** Stops shorter than this many seconds are not reported. Default 0: every stop. */
    minDuration: z.number().nonnegative().default(0),
  })
  .superRefine((c, ctx) => {
    if ((c.runningCodes === undefined) === (c.edge === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['runningCodes'], message: 'set exactly one of `runningCodes` (state codes) or `edge` (a boolean tag)' });
    }
    if (c.edge !== undefined && (Object.keys(c.codes).length > 0 || c.idleCodes.length > 0)) {
      ctx.addIssue({ code: 'custom', path: ['codes'], message: '`codes` and `idleCodes` are for state codes, not with `edge`' });
    }
    const running = new Set((c.runningCodes ?? []).map(String));
    const idle = new Set(c.idleCodes.map(String));
    for (const code of running) {
      if (idle.has(code)) ctx.addIssue({ code: 'custom', path: ['idleCodes'], message: `code ${code} is both running and idle` });
      if (code in c.codes) ctx.addIssue({ code: 'custom', path: ['codes', code], message: `code ${code} is listed as running and as a stop` });
    }
    for (const code of idle) {
      if (code in c.codes) ctx.addIssue({ code: 'custom', path: ['codes', code], message: `code ${code} is listed as idle and as a stop` });
    }
  });

export type StateRuleConfig = z.output<typeof stateRuleConfigSchema>;

const stopSchema = z.strictObject({
  downtimeId: z.string(),
  startedAt: z.string(),
  reason: z.string(),
  description: z.string().optional(),
  /** True once `downtime.started` was emitted (false while shorter than minDuration). */
  announced: z.boolean(),
  /** When the reading that started it arrived (the gateway's clock), to time the stop when the source's clock steps back. */
  arrivedAt: z.string().optional(),
});

const stateStateSchema = z.strictObject({
  /** The stop in progress, or null while running. */
  stop: stopSchema.nullable(),
  /** Source time of the last reading that changed anything, or null. */
  at: z.string().nullable(),
  /** The last readings that changed anything, to know a replay (agent/rules/base.ts). */
  recent: recentReadingsSchema,
});

export type StateRuleState = z.output<typeof stateStateSchema>;
type Stop = z.output<typeof stopSchema>;

/** The stable id of one stop of one work center. */
export function downtimeIdOf(workcenter: string, startedAtIso: string): string {
  return `${workcenter}@${startedAtIso}`;
}

function createStateRule(config: StateRuleConfig): Rule<StateRuleState> {
  const matches = signalMatcher(config.source, config.tag);
  const running = new Set((config.runningCodes ?? []).map(String));
  const idle = new Set(config.idleCodes.map(String));
  const minMs = config.minDuration * 1000;
  const sequenceKey = workcenterSequenceKey(config.workcenter);

  type Reading = { stopped: false } | { stopped: true; reason: string; description: string | undefined };

  function describe(template: string | undefined, value: unknown, code: string | undefined): string | undefined {
    if (template === undefined) return undefined;
    const text = renderTemplate(template, { value, code, workcenter: config.workcenter });
    return text === undefined || text === null || text === '' ? undefined : String(text);
  }

  function classify(value: unknown): Reading | { problem: string } {
    if (config.edge !== undefined) {
      const on = toBool(value);
      if (on === undefined) return { problem: `state value is not on/off: ${describeValue(value)}` };
      const stopped = config.edge === 'rising' ? on : !on;
      return stopped ? { stopped: true, reason: config.reason, description: describe(config.description, value, undefined) } : { stopped: false };
    }
    const code = toCode(value);
    if (code === undefined) return { problem: `state code is not a number or text: ${describeValue(value)}` };
    if (running.has(code) || idle.has(code)) return { stopped: false };
    const mapped = config.codes[code];
    if (mapped) return { stopped: true, reason: mapped.reason, description: describe(mapped.description, value, code) };
    return { stopped: true, reason: config.reason, description: describe(config.description ?? 'State code {{code}}', value, code) };
  }

  function started(stop: Stop, signal: Signal, ctx: RuleContext): CanonicalEvent {
    const payload: Record<string, unknown> = { downtimeId: stop.downtimeId, workcenter: config.workcenter, reason: stop.reason };
    if (stop.description !== undefined) payload.description = stop.description;
    const ms = timeMs(stop.startedAt)!;
    return makeEvent(
      'downtime.started',
      payload,
      { id: eventId(ms, ctx.plant, config.name, 'downtime.started', stop.downtimeId), sequenceKey, occurredAt: stop.startedAt },
      signal,
      ctx,
    );
  }

  function ended(stop: Stop, endIso: string, endMs: number, signal: Signal, ctx: RuleContext): CanonicalEvent {
    return makeEvent(
      'downtime.ended',
      { downtimeId: stop.downtimeId, workcenter: config.workcenter, reason: stop.reason, startedAt: stop.startedAt },
      { id: eventId(endMs, ctx.plant, config.name, 'downtime.ended', stop.downtimeId), sequenceKey, occurredAt: endIso },
      signal,
      ctx,
    );
  }

  /**
   * How long a stop has lasted at this reading: by the source times, or, when
   * those go backwards (a clock stepped back), by the readings' arrival, never
   * less than nothing.
   */
  function lasted(stop: Stop, time: { ms: number }, signal: Signal): number {
    const byClock = time.ms - timeMs(stop.startedAt)!;
    if (byClock >= 0) return byClock;
    const arrived = stop.arrivedAt !== undefined ? (timeMs(signal.receivedAt) ?? 0) - (timeMs(stop.arrivedAt) ?? 0) : 0;
    return Math.max(0, arrived);
  }

  function apply(state: StateRuleState, signal: Signal, ctx: RuleContext): RuleOutput<StateRuleState> {
    if (isBadQuality(signal)) return unchanged(state);
    const time = sourceTimeOf(signal);
    if (!time) return rejected(state, `source time is not a valid time: ${describeValue(signal.sourceTime)}`);
    const value = readValue(signal.value, config.path);
    const key = readingKey(signal.tag, time.ms, value);
    if (isReplay(state.recent, key)) return unchanged(state);
    const reading = classify(value);
    if ('problem' in reading) return rejected(state, reading.problem);

    const events: CanonicalEvent[] = [];
    let stop = state.stop;

    // End the current stop when the machine runs again or the loss reason changes.
    if (stop && (!reading.stopped || reading.reason !== stop.reason || reading.description !== stop.description)) {
      const duration = lasted(stop, time, signal);
      // The end is never before the start, whatever the clocks did.
      const endMs = timeMs(stop.startedAt)! + duration;
      const endIso = endMs === time.ms ? time.iso : new Date(endMs).toISOString();
      if (stop.announced) {
        events.push(ended(stop, endIso, endMs, signal, ctx));
      } else if (duration >= minMs) {
        events.push(started(stop, signal, ctx), ended(stop, endIso, endMs, signal, ctx));
      }
      stop = null;
    }

    if (reading.stopped) {
      if (!stop) {
        stop = {
          downtimeId: downtimeIdOf(config.workcenter, time.iso),
          startedAt: time.iso,
          reason: reading.reason,
          ...(reading.description !== undefined ? { description: reading.description } : {}),
          announced: false,
          arrivedAt: signal.receivedAt,
        };
      }
      if (!stop.announced && lasted(stop, time, signal) >= minMs) {
        events.push(started(stop, signal, ctx));
        stop = { ...stop, announced: true };
      }
    }

    if (stop === state.stop) return unchanged(state);
    return { state: { stop, at: time.iso, recent: remember(state.recent, key) }, events };
  }

  return defineRule<StateRuleState>({
    name: config.name,
    matches,
    initialState: () => ({ stop: null, at: null }),
    stateSchema: stateStateSchema,
    apply,
  });
}

export const stateRule: RuleKind<StateRuleConfig> = {
  kind: 'state',
  configSchema: stateRuleConfigSchema,
  create: createStateRule,
};
