import type { Outbox } from '../buffer/outbox';
import { errorMessage, OutboxFullError } from '../errors';
import type { Logger } from '../log';
import type { InvalidInput, Signal } from '../model/signal';
import { currentOrderClaim, type CurrentOrderClaim } from '../rules/current-order';
import type { ProcessContext, ProcessResult, RuleEngine } from '../rules/engine';
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
    // Synchronous rules, and no batch still in asynchronous rules (a reload may just have replaced them).
    if (!this.engine.needsAsync && this.inAsyncRules === 0) return this.commit(signals, (ctx) => this.engine.process(signals, ctx));
    // Rules that map asynchronously: one batch at a time through the rules, so
    // their state moves as if synchronously; each batch's commit is queued
    // before the next batch enters the rules, so commits keep arrival order.
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const before = this.rulesTurn;
    this.rulesTurn = mine;
    this.inAsyncRules++;
    let done = false;
    const queued = () => {
      if (done) return;
      done = true;
      this.inAsyncRules--;
      release();
    };
    await before;
    const engine = this.engine;
    return this.commit(signals, (ctx) => (engine.needsAsync ? engine.processAsync(signals, ctx) : engine.process(signals, ctx)), queued);
  }

  /** The end of the last batch's turn through asynchronous rules. */
  private rulesTurn: Promise<void> = Promise.resolve();
  /** Batches waiting for or in their turn through asynchronous rules. */
  private inAsyncRules = 0;

  private async commit(signals: Signal[], rules: (ctx: ProcessContext) => ProcessResult | Promise<ProcessResult>, queued?: () => void): Promise<void> {
    let out: ProcessResult;
    try {
      // Refuse before the rules run: their state only moves for signals that will be committed.
      if (!this.outbox.hasRoom(signals.length)) {
        this.counters.refused += signals.length;
        throw new OutboxFullError(this.outbox.counts().unfinished);
      }
      const now = new Date().toISOString();
      const ran = rules({ plant: this.opts.plant, now, masterData: this.opts.masterData?.(), plantTime: this.opts.plantTime });
      // Synchronous rules commit in the same turn, as before there were asynchronous ones.
      out = ran instanceof Promise ? await ran : ran;
    } catch (err) {
      queued?.();
      throw err;
    }
    const invalid: InvalidInput[] = out.invalid.map((x) => ({
      source: x.signal.source,
      origin: `${x.signal.tag}${x.rule ? ` (rule ${x.rule})` : ''}`,
      reason: x.reason,
      raw: rawText(x.signal.value),
      receivedAt: x.signal.receivedAt,
    }));
    let result;
    try {
      let enqueued;
      try {
        enqueued = this.outbox.enqueue(out.events, { ruleState: [...out.stateChanges], invalid });
      } finally {
        queued?.();
      }
      result = await enqueued;
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

  /**
   * A work center's current order as the order release sees it; kept with the
   * rules' state when no later claim (a tag, a scan) holds. Resolves once
   * committed; true when it changed the work center's current order or claim.
   */
  async claimCurrentOrder(workcenter: string, claim: CurrentOrderClaim): Promise<boolean> {
    const changes = this.engine.claimCurrentOrder(workcenter, claim);
    if (changes.size === 0) return false;
    try {
      await this.outbox.enqueue([], { ruleState: [...changes] });
    } catch (err) {
      this.engine.loadState(this.outbox.loadRuleState());
      throw err;
    }
    return true;
  }

  /** The claim behind a work center's current order, as the rules hold it now. */
  currentOrderClaim(workcenter: string): CurrentOrderClaim | undefined {
    return currentOrderClaim({ get: (k) => this.engine.fact(k) }, workcenter);
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
