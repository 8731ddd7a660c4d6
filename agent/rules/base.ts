import { z } from 'zod';
import type { CanonicalEvent, EventType } from '../model/event';
import { payloadSchemas } from '../model/event';
import type { Signal } from '../model/signal';
import { tagPatternProblem } from './match';
import { templateProblem } from './template-language';
import type { Rule, RuleContext, RuleOutput } from './types';
import { timeMs } from './values';

/**
 * What every rule kind shares: the config fields, reading times, building
 * events, and restoring saved state.
 */

/** A rule that can check its saved state when the agent starts (the engine uses it when present). */
export interface RestorableRule<S = unknown> extends Rule<S> {
  /** The saved state when it fits this rule, or undefined to start afresh (config changed, older format). */
  restoreState(saved: unknown): S | undefined;
}

export function isRestorable(rule: Rule<unknown>): rule is RestorableRule<unknown> {
  return typeof (rule as Partial<RestorableRule>).restoreState === 'function';
}

/** Rule names: they key saved state, so they never hold `:` (fact keys always do). */
export const ruleNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a rule name uses letters, digits, _ . - (at most 64, no spaces or ":")');

/** A tag pattern: exact name, `*` glob, MQTT `+`/`#` (see agent/rules/match.ts). */
export const tagPatternSchema = z
  .string()
  .min(1)
  .superRefine((pattern, ctx) => {
    const problem = tagPatternProblem(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A text that may hold `{{...}}` placeholders (agent/rules/template-language.ts). */
export const templateSchema = z.string().superRefine((text, ctx) => {
  const problem = templateProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A name in Odoo (work center, equipment, loss reason): trimmed, 1 to 128 characters. */
export const odooNameSchema = z.string().trim().min(1).max(128);

/** Fields every rule has. Kinds spread these into their `z.strictObject`. */
export const ruleBase = {
  /** Unique name of this rule; keys its saved state, appears in logs and in the invalid-input table. */
  name: ruleNameSchema,
  /** Set false to keep the rule in the file but not apply it. */
  enabled: z.boolean().default(true),
  /** The configured name of the source whose signals this rule reads (exact). */
  source: z.string().min(1).max(200),
  /** The tag (or MQTT topic) to read: an exact name, `*` for any characters, `+`/`#` for topic levels. */
  tag: tagPatternSchema,
  /** Dotted path to the field to read when the value is an object or JSON text (`order.name`, `items.0.qty`); unset reads the whole value. */
  path: z.string().min(1).optional(),
};

/** Signals of bad quality (a read error, a lost connection) are not data: every rule of this folder skips them. */
export function isBadQuality(signal: Signal): boolean {
  return signal.quality === 'bad';
}

/** The signal's source time as milliseconds and as a normalised ISO text, or undefined when unreadable. */
export function sourceTimeOf(signal: Signal): { ms: number; iso: string } | undefined {
  const ms = timeMs(signal.sourceTime);
  if (ms === undefined) return undefined;
  return { ms, iso: new Date(ms).toISOString() };
}

/**
 * Readings are taken in the order they arrive. A source's time says when a
 * fact happened, never whether it counts: a clock that stepped back (the
 * gateway's or the source's) must not make a rule drop a real change. What a
 * rule ignores is a replay: a reading it has already taken (same tag, source
 * time and value), such as the value a source sends again on reconnect.
 * Each rule remembers the last few readings that changed it for that.
 */
export const REMEMBERED_READINGS = 8;

/** A short stable key of one reading: tag, source time and value. */
export function readingKey(tag: string, ms: number, value: unknown): string {
  let text: string;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) text = String(value);
  else if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return `${tag}|${ms}|${text.length > 64 ? `${text.slice(0, 64)}~${text.length}` : text}`;
}

/** True when this reading was already taken (a replay): the rule leaves its state as it is. */
export function isReplay(recent: readonly string[] | undefined, key: string): boolean {
  return recent !== undefined && recent.includes(key);
}

/** The readings to remember after taking `key`: the newest last, at most REMEMBERED_READINGS. */
export function remember(recent: readonly string[] | undefined, key: string): string[] {
  if (!recent) return [key];
  const out = recent.length >= REMEMBERED_READINGS ? recent.slice(recent.length - REMEMBERED_READINGS + 1) : recent.slice();
  out.push(key);
  return out;
}

/** The saved-state field that holds them (optional: state saved before it existed still loads). */
export const recentReadingsSchema = z.array(z.string()).max(REMEMBERED_READINGS).optional();

export interface EventMeta {
  id: string;
  sequenceKey: string;
  /** Source time, ISO 8601. */
  occurredAt: string;
}

/**
 * Assemble an event. The payload is checked by the engine against the
 * canonical schema (which also fills defaults), so building never throws.
 */
export function makeEvent<T extends EventType>(
  type: T,
  payload: z.input<(typeof payloadSchemas)[T]> | Record<string, unknown>,
  meta: EventMeta,
  signal: Signal,
  ctx: RuleContext,
): CanonicalEvent {
  return {
    id: meta.id,
    type,
    sequenceKey: meta.sequenceKey,
    occurredAt: meta.occurredAt,
    receivedAt: ctx.now,
    source: signal.source,
    payload,
  } as CanonicalEvent;
}

/** Nothing to do for this signal: same state, no events. */
export function unchanged<S>(state: S): RuleOutput<S> {
  return { state, events: [] };
}

/** The signal cannot be used: same state, no events, and the reason. */
export function rejected<S>(state: S, reason: string): RuleOutput<S> {
  return { state, events: [], invalid: reason };
}

/** Build a rule whose saved state is checked with a zod schema at start. */
export function defineRule<S>(spec: {
  name: string;
  matches: (signal: Signal) => boolean;
  initialState: () => S;
  stateSchema: z.ZodType<S>;
  apply: (state: S, signal: Signal, ctx: RuleContext) => RuleOutput<S>;
}): RestorableRule<S> {
  return {
    name: spec.name,
    matches: spec.matches,
    initialState: spec.initialState,
    apply: spec.apply,
    restoreState(saved: unknown): S | undefined {
      const r = spec.stateSchema.safeParse(saved);
      return r.success ? r.data : undefined;
    },
  };
}
