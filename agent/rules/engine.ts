import { AgentError, errorMessage } from '../errors';
import { formatIssues, isValidatedEvent, parseEvent, type CanonicalEvent } from '../model/event';
import type { Signal } from '../model/signal';
import { isRestorable } from './base';
import { buildRulesConfigSchema, type RuleConfig } from './config';
import { claimCurrentOrder, type CurrentOrderClaim } from './current-order';
import { isFactKey } from './keys';
import { convertUnits } from './units';
import { ruleKinds, type RuleKind } from './kinds';
import type { FactStore, Rule, RuleContext, RuleOutput } from './types';

/**
 * The rule engine: applies every matching rule to each signal, in config
 * order, and keeps each rule's state and the shared facts in memory.
 *
 * It never throws for a signal (`processAsync` when a rule maps
 * asynchronously, else the synchronous `process`): a rule that fails, or an
 * event that does not pass the canonical schema, makes that signal invalid for
 * that rule (with the reason) and leaves that rule's state and facts as they
 * were. The caller persists `stateChanges` in the same transaction as the
 * events, and restores them with `loadState` at start.
 *
 * State keys: a rule's state is saved under the rule's name; a fact under its
 * key (fact keys always hold a `:`, rule names never do).
 */

/** What the engine needs per call: the plant, the agent time, and the master data cache when filled. */
export type ProcessContext = Omit<RuleContext, 'facts'>;

/** A signal a rule could not turn into an event, with why. */
export interface InvalidSignal {
  signal: Signal;
  /** The rule's name. */
  rule: string;
  reason: string;
}

export interface ProcessResult {
  /** Valid canonical events, in signal order then config order. */
  events: CanonicalEvent[];
  invalid: InvalidSignal[];
  /**
   * Rule states and facts that changed in this call, by key, as JSON values
   * (a fact cleared is `null`). Persist them with the events.
   */
  stateChanges: Map<string, unknown>;
  /** Signals that no rule matched (telemetry only; not an error). */
  unmatched: number;
}

/** What `loadState` did with the saved entries. */
export interface LoadStateReport {
  /** Keys whose saved state was taken. */
  restored: string[];
  /** Keys that were not taken, with why (no such rule any more, a state that does not fit the rule's config). */
  discarded: Array<{ key: string; reason: string }>;
}

export interface RuleEngineOptions {
  /** The rule kinds to build from (default: every registered kind). */
  kinds?: readonly RuleKind[];
}

interface Slot {
  rule: Rule<unknown>;
  state: unknown;
}

const NOTHING = 'null';

export class RuleEngine {
  private readonly slots: Slot[] = [];
  private readonly facts = new Map<string, unknown>();
  /** JSON of every key as last handed out (by process or loadState), to report only real changes. */
  private readonly saved = new Map<string, string>();

  /**
   * Build the rules from parsed config entries (from `rulesConfigSchema`).
   * Disabled rules are left out. Throws AgentError `RULE_CONFIG_INVALID` for an
   * unknown kind or a name used twice.
   */
  constructor(configs: readonly RuleConfig[] = [], options: RuleEngineOptions = {}) {
    const kinds = options.kinds ?? ruleKinds;
    const rules: Rule<unknown>[] = [];
    for (const config of configs) {
      if (config.enabled === false) continue;
      const kind = kinds.find((k) => k.kind === config.kind);
      if (!kind)
        throw new AgentError('RULE_CONFIG_INVALID', `rule "${config.name}": unknown kind "${config.kind}" (known: ${kinds.map((k) => k.kind).join(', ')})`);
      rules.push(kind.create(config));
    }
    this.install(rules);
  }

  /** Validate raw config entries (the `rules:` list) and build the engine. Throws AgentError `RULE_CONFIG_INVALID` listing every problem. */
  static fromConfig(raw: unknown, options: RuleEngineOptions = {}): RuleEngine {
    const parsed = buildRulesConfigSchema(options.kinds ?? ruleKinds).safeParse(raw);
    if (!parsed.success) throw new AgentError('RULE_CONFIG_INVALID', `rules are invalid: ${formatIssues(parsed.error.issues)}`);
    return new RuleEngine(parsed.data, options);
  }

  /** Build an engine from rule objects (rules made in code, tests). */
  static fromRules(rules: readonly Rule<unknown>[]): RuleEngine {
    const engine = new RuleEngine([]);
    engine.install(rules);
    return engine;
  }

  /** Rule names in the order they apply. */
  get ruleNames(): string[] {
    return this.slots.map((s) => s.rule.name);
  }

  /** The current value of a fact (undefined when not set). */
  fact(key: string): unknown {
    return this.facts.get(key);
  }

  /** True when a rule maps asynchronously (JSONata expressions): use `processAsync`. */
  get needsAsync(): boolean {
    return this.slots.some((s) => s.rule.applyAsync !== undefined);
  }

  /**
   * Apply every matching rule to each signal, in order; update the in-memory
   * state; return the valid events, the invalid signals and what state
   * changed. Never throws for a signal. A rule that maps asynchronously
   * (`needsAsync`) makes its signals invalid here: call `processAsync`.
   */
  process(signals: readonly Signal[], ctx: ProcessContext): ProcessResult {
    const run = this.run(signals, ctx);
    let step = run.next();
    while (!step.done) {
      step.value.catch(() => undefined);
      step = run.throw(new Error('this rule maps asynchronously; the engine must be called with processAsync'));
    }
    return step.value;
  }

  /**
   * `process` for rules that map asynchronously: one signal and one rule at a
   * time, in the same order, with the same results. The caller must not start
   * another call on this engine before this one has resolved.
   */
  async processAsync(signals: readonly Signal[], ctx: ProcessContext): Promise<ProcessResult> {
    const run = this.run(signals, ctx);
    let step = run.next();
    while (!step.done) {
      let output: RuleOutput<unknown>;
      try {
        output = await step.value;
      } catch (err) {
        step = run.throw(err);
        continue;
      }
      step = run.next(output);
    }
    return step.value;
  }

  /** The work of `process`: yields a rule's pending output when it maps asynchronously, and is resumed with it. */
  private *run(signals: readonly Signal[], ctx: ProcessContext): Generator<Promise<RuleOutput<unknown>>, ProcessResult, RuleOutput<unknown>> {
    const events: CanonicalEvent[] = [];
    const invalid: InvalidSignal[] = [];
    const touched = new Map<string, string>();
    let unmatched = 0;
    // Fact changes of the rule being applied: kept only when it succeeds. One
    // store for the whole call (this runs for every signal of every source).
    const pending = new Map<string, unknown>();
    const facts: FactStore = {
      get: (key) => (pending.has(key) ? pending.get(key) : this.facts.get(key)),
      set: (key, value) => {
        if (!isFactKey(key)) throw new Error(`fact key "${key}" must contain ":" (like workcenter:<name>:production)`);
        pending.set(key, value === null ? undefined : value);
      },
    };
    const ruleCtx: RuleContext = { ...ctx, facts };

    // Indexed loops: a for-of inside a generator allocates an iterator result per step (50 signals a message, each through every rule).
    const slots = this.slots;
    for (let i = 0; i < signals.length; i++) {
      const signal = signals[i]!;
      let matched = false;
      for (let k = 0; k < slots.length; k++) {
        const slot = slots[k]!;
        const name = slot.rule.name;
        let wants: boolean;
        try {
          wants = slot.rule.matches(signal);
        } catch (err) {
          invalid.push({ signal, rule: name, reason: `rule failed while matching: ${errorMessage(err)}` });
          continue;
        }
        if (!wants) continue;
        matched = true;

        pending.clear();
        let output;
        let stateJson: string;
        let factJson: Map<string, string> | undefined;
        try {
          output = slot.rule.applyAsync ? yield slot.rule.applyAsync(slot.state, signal, ruleCtx) : slot.rule.apply(slot.state, signal, ruleCtx);
          if (!output || typeof output !== 'object' || !Array.isArray(output.events)) throw new Error('the rule returned no result');
          stateJson = toJson(output.state);
          if (pending.size > 0) {
            factJson = new Map<string, string>();
            for (const [key, value] of pending) factJson.set(key, toJson(value));
          }
        } catch (err) {
          invalid.push({ signal, rule: name, reason: `rule failed: ${errorMessage(err)}` });
          continue;
        }

        const valid: CanonicalEvent[] = [];
        let failure: string | undefined;
        for (const event of output.events) {
          let checked: CanonicalEvent;
          if (isValidatedEvent(event)) checked = event;
          else {
            const r = parseEvent(event);
            if (!r.ok) {
              const type = event && typeof event === 'object' && 'type' in event ? String((event as { type: unknown }).type) : 'event';
              failure = `${type} event is not valid: ${r.reason}`;
              break;
            }
            checked = r.event;
          }
          // A quantity in a unit of its own goes in the unit Odoo counts it in, or not at all.
          const converted = convertUnits(checked, ctx.masterData);
          if (!converted.ok) {
            failure = converted.reason;
            break;
          }
          if (converted.event === checked) {
            valid.push(checked);
            continue;
          }
          const again = parseEvent(converted.event);
          if (!again.ok) {
            failure = `${checked.type} event is not valid once converted to ${String((converted.event.payload as { uom?: unknown }).uom)}: ${again.reason}`;
            break;
          }
          valid.push(again.event);
        }
        if (failure !== undefined) {
          invalid.push({ signal, rule: name, reason: failure });
          continue;
        }

        slot.state = output.state;
        touched.set(name, stateJson);
        for (const [key, value] of pending) {
          if (value === undefined) this.facts.delete(key);
          else this.facts.set(key, value);
          touched.set(key, factJson!.get(key)!);
        }
        for (const e of valid) events.push(e);
        if (typeof output.invalid === 'string' && output.invalid !== '') invalid.push({ signal, rule: name, reason: output.invalid });
      }
      if (!matched) unmatched++;
    }

    const stateChanges = new Map<string, unknown>();
    for (const [key, json] of touched) {
      if (this.saved.get(key) === json) continue;
      this.saved.set(key, json);
      stateChanges.set(key, JSON.parse(json));
    }
    return { events, invalid, stateChanges, unmatched };
  }

  /**
   * A claim from outside the rules (the order release) on a work center's
   * current order; the latest claim by time wins. Returns the facts that
   * changed, to persist like `stateChanges` (empty when a later claim holds).
   */
  claimCurrentOrder(workcenter: string, claim: CurrentOrderClaim): Map<string, unknown> {
    const pending = new Map<string, unknown>();
    const facts: FactStore = {
      get: (key) => (pending.has(key) ? pending.get(key) : this.facts.get(key)),
      set: (key, value) => pending.set(key, value === null ? undefined : value),
    };
    const changes = new Map<string, unknown>();
    if (!claimCurrentOrder(facts, workcenter, claim)) return changes;
    for (const [key, value] of pending) {
      if (value === undefined) this.facts.delete(key);
      else this.facts.set(key, value);
      const json = toJson(value);
      if (this.saved.get(key) === json) continue;
      this.saved.set(key, json);
      changes.set(key, JSON.parse(json));
    }
    return changes;
  }

  /**
   * Replace all rule state and facts with saved entries (as persisted from
   * `stateChanges`, or `snapshot()`). Rules without an entry start afresh;
   * facts without an entry are cleared. A saved state that no longer fits its
   * rule (config changed) is discarded and the rule starts afresh.
   */
  loadState(entries: Iterable<readonly [string, unknown]>): LoadStateReport {
    const restored: string[] = [];
    const discarded: Array<{ key: string; reason: string }> = [];
    this.facts.clear();
    this.saved.clear();
    for (const slot of this.slots) {
      slot.state = slot.rule.initialState();
      this.saved.set(slot.rule.name, toJson(slot.state));
    }
    for (const [key, value] of entries) {
      if (isFactKey(key)) {
        if (value !== null && value !== undefined) this.facts.set(key, value);
        this.saved.set(key, toJson(value ?? null));
        restored.push(key);
        continue;
      }
      const slot = this.slots.find((s) => s.rule.name === key);
      if (!slot) {
        discarded.push({ key, reason: 'no rule of this name in the config' });
        continue;
      }
      let state: unknown = value;
      if (isRestorable(slot.rule)) {
        state = slot.rule.restoreState(value);
        if (state === undefined) {
          discarded.push({ key, reason: "the saved state does not fit the rule's config; the rule starts afresh" });
          continue;
        }
      }
      slot.state = state;
      this.saved.set(key, toJson(state));
      restored.push(key);
    }
    return { restored, discarded };
  }

  /** Every rule state and fact, by key, as JSON values (for a full save, or the status page). */
  snapshot(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const slot of this.slots) out.set(slot.rule.name, JSON.parse(toJson(slot.state)));
    for (const [key, value] of this.facts) out.set(key, JSON.parse(toJson(value)));
    return out;
  }

  private install(rules: readonly Rule<unknown>[]): void {
    for (const rule of rules) {
      if (isFactKey(rule.name)) throw new AgentError('RULE_CONFIG_INVALID', `rule name "${rule.name}" must not contain ":"`);
      if (this.slots.some((s) => s.rule.name === rule.name)) {
        throw new AgentError('RULE_CONFIG_INVALID', `rule name "${rule.name}" is used twice; every rule needs its own name`);
      }
      const state = rule.initialState();
      this.slots.push({ rule, state });
      this.saved.set(rule.name, toJson(state));
    }
  }
}

function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? NOTHING : json;
}
