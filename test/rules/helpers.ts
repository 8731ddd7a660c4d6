import type { CanonicalEvent } from '../../agent/model/event';
import type { Signal } from '../../agent/model/signal';
import { ruleConfigSchema } from '../../agent/rules/config';
import { RuleEngine, type ProcessContext, type ProcessResult } from '../../agent/rules/engine';

/** Base of every test time: second offsets are added to it. */
export const T0 = Date.parse('2025-03-03T06:00:00.000Z');

/** ISO time `seconds` after T0. */
export function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

/** A good-quality signal from `source` (default `plc1`) at `seconds` after T0. */
export function sig(tag: string, value: Signal['value'], seconds: number, extra: Partial<Signal> = {}): Signal {
  return { source: 'plc1', tag, value, quality: 'good', sourceTime: at(seconds), receivedAt: at(seconds), ...extra };
}

export const CTX: ProcessContext = { plant: 'plant1', now: '2025-03-03T12:00:00.000Z' };

/** Build an engine from raw rule config (validated like the config file). */
export function engineOf(rules: unknown[]): RuleEngine {
  return RuleEngine.fromConfig(rules);
}

/** Feed signals one call per signal (as adapters often do); merge the results. */
export function feed(engine: RuleEngine, signals: Signal[], ctx: ProcessContext = CTX): ProcessResult {
  const all: ProcessResult = { events: [], invalid: [], stateChanges: new Map(), unmatched: 0 };
  for (const s of signals) {
    const r = engine.process([s], ctx);
    all.events.push(...r.events);
    all.invalid.push(...r.invalid);
    for (const [k, v] of r.stateChanges) all.stateChanges.set(k, v);
    all.unmatched += r.unmatched;
  }
  return all;
}

/** The payload of each event, for compact table comparisons. */
export function payloads(events: CanonicalEvent[]): Array<Record<string, unknown>> {
  return events.map((e) => e.payload as Record<string, unknown>);
}

/** `type` + the chosen payload field, for compact comparisons. */
export function brief(events: CanonicalEvent[], field: string): string[] {
  return events.map((e) => `${e.type}:${String((e.payload as Record<string, unknown>)[field])}`);
}

/** The problems of one rule config as `path: message` lines, or '' when it is valid. */
export function configProblems(config: unknown): string {
  const r = ruleConfigSchema.safeParse(config);
  return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}
