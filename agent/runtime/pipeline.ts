import type { Outbox } from '../buffer/outbox';
import { errorMessage, OutboxFullError } from '../errors';
import type { Logger } from '../log';
import type { InvalidInput, Signal } from '../model/signal';
import type { RuleEngine } from '../rules/engine';
import type { MasterDataLookup, RuleContext } from '../rules/types';

export interface PipelineCounters {
  signals: number;
  events: number;
  invalid: number;
  refused: number;
}

/**
 * The way from adapters to the outbox: signals go through the rules, and the
 * events they make are committed together with the rules' new state and any
 * invalid input. `emit` resolves after that commit, so an adapter may
 * acknowledge its source then.
 */
export class Pipeline {
  readonly counters: PipelineCounters = { signals: 0, events: 0, invalid: 0, refused: 0 };
  /** Per source: received signals, enqueued events, duplicates (for metrics). */
  readonly bySource = new Map<string, { received: number; enqueued: number; duplicates: number; invalid: number }>();

  constructor(
    private readonly outbox: Outbox,
    private engine: RuleEngine,
    private readonly opts: {
      plant: string;
      log: Logger;
      /** The plant's time zone and shift calendar, for rules that count per shift. */
      plantTime?: RuleContext['plantTime'];
      masterData?: () => MasterDataLookup | undefined;
      /** Called after each commit that added events (wakes the sync worker). */
      committed?: () => void;
      /** Sees every committed signal (the sources' clocks are measured from them). */
      observe?: (signal: Signal) => void;
    },
  ) {}

  /** New rules (a reload), with the state the outbox holds for them. */
  replaceRules(engine: RuleEngine, state: Array<[string, unknown]>): void {
    engine.loadState(state);
    this.engine = engine;
  }

  async emit(signals: Signal[]): Promise<void> {
    if (signals.length === 0) return;
    // Refuse before the rules run: their state only moves for signals that will be committed.
    if (!this.outbox.hasRoom(signals.length)) {
      this.counters.refused += signals.length;
      throw new OutboxFullError(this.outbox.counts().unfinished);
    }
    const now = new Date().toISOString();
    const out = this.engine.process(signals, { plant: this.opts.plant, now, masterData: this.opts.masterData?.(), plantTime: this.opts.plantTime });
    const invalid: InvalidInput[] = out.invalid.map((x) => ({
      source: x.signal.source,
      origin: `${x.signal.tag}${x.rule ? ` (rule ${x.rule})` : ''}`,
      reason: x.reason,
      raw: rawText(x.signal.value),
      receivedAt: x.signal.receivedAt,
    }));
    let result;
    try {
      result = await this.outbox.enqueue(out.events, { ruleState: [...out.stateChanges], invalid });
    } catch (err) {
      // Not committed: bring the rules' memory back to what the outbox holds.
      this.engine.loadState(this.outbox.loadRuleState());
      throw err;
    }
    this.counters.signals += signals.length;
    this.counters.events += result.inserted;
    this.counters.invalid += invalid.length;
    const observe = this.opts.observe;
    for (const s of signals) {
      this.source(s.source).received++;
      observe?.(s);
    }
    for (const e of out.events) this.source(e.source).enqueued++;
    for (const x of invalid) this.source(x.source).invalid++;
    if (result.duplicates) this.source(signals[0]!.source).duplicates += result.duplicates;
    if (invalid.length)
      this.opts.log.warn({ invalid: invalid.map((i) => ({ source: i.source, origin: i.origin, reason: i.reason })) }, 'input kept as invalid');
    // Held events wait for their flow; events a flow released ahead of these are ready to send.
    if (result.inserted - (result.held ?? 0) > 0 || result.released) this.opts.committed?.();
  }

  async reject(input: InvalidInput): Promise<void> {
    await this.outbox.enqueue([], { invalid: [input] });
    this.counters.invalid++;
    this.source(input.source).invalid++;
    this.opts.log.warn({ source: input.source, origin: input.origin, reason: input.reason }, 'input kept as invalid');
  }

  private source(name: string) {
    let s = this.bySource.get(name);
    if (!s) {
      s = { received: 0, enqueued: 0, duplicates: 0, invalid: 0 };
      this.bySource.set(name, s);
    }
    return s;
  }
}

/** A signal's value as invalid input keeps it; a value JSON cannot write must not stop the commit. */
function rawText(value: Signal['value']): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch (err) {
    return `(the value could not be written as JSON: ${errorMessage(err)})`;
  }
}
