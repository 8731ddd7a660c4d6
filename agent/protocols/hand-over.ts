import { errorCode, errorMessage } from '../errors';
import type { Logger } from '../log';
import type { InvalidInput, Signal } from '../model/signal';
import { backoffDelay, type BackoffPolicy } from '../retry';
import type { AdapterContext } from './types';

/**
 * Between a source and the outbox. What an adapter read is held here until
 * `ctx.emit` (or `ctx.reject`, for input it could not decode) resolved, that
 * is until the outbox committed it. While the outbox refuses (OUTBOX_FULL) or
 * a commit fails, it stays held in arrival order and is offered again after a
 * growing wait. Every offer starts one loop turn after it is due, so what
 * arrives together is committed together.
 */

export type HoldPolicy =
  /** Every reading, in order (scans; MQTT messages acknowledged after their commit). */
  | 'keep-all'
  /** Every reading in order while fewer than `limit` wait; beyond that only the newest of each tag is kept (subscriptions). */
  | 'latest-per-tag'
  /** What one poll of a group read is offered on its own; the group is busy (not polled) until the outbox took it. */
  | 'per-poll-group';

export interface HandOverOptions<N> {
  policy: HoldPolicy;
  /** At this many held the source is told to stop reading (`onFull`); under latest-per-tag, more waiting than this are folded. */
  limit: number;
  /** Waits between offers while the outbox refuses: `initialMs` doubling up to `maxMs`, full jitter, never below `floorMs`. */
  retry: BackoffPolicy & { floorMs?: number };
  /** Held items offered in one hand-over at most (default: all). */
  batchSize?: number;
  /** What is held, in log lines ("scans", "messages"). */
  what?: string;
  /** Items the outbox committed, in arrival order (a source acknowledges them now). */
  onCommitted?: (items: Held<N>[], group: string) => void;
  /** An offer failed; what it offered is still held. */
  onRefused?: (err: unknown, group: string) => void;
  /** `limit` items are held: stop reading the source. */
  onFull?: () => void;
  /** Fewer than `limit` again: read again. */
  onSpace?: () => void;
}

/** One held item: a reading or undecodable input, and the adapter's note (what to acknowledge). */
export interface Held<N> {
  readonly signal: Signal | undefined;
  /** Readings held together as one item (one message that said many things; see holdAll). */
  readonly signals?: readonly Signal[];
  readonly invalid: InvalidInput | undefined;
  readonly note: N;
}

interface Item<N> extends Held<N> {
  state: 'held' | 'offered' | 'committed' | 'forgotten';
}

class Group<N> {
  items: Item<N>[] = [];
  /** Items in state `held`. */
  waiting = 0;
  failures = 0;
  code: string | null = null;
  offering = false;
  turn: NodeJS.Immediate | null = null;
  retry: NodeJS.Timeout | null = null;
  closed = false;

  constructor(readonly name: string) {}
}

export interface HandOverCounts {
  /** Signals committed. */
  signals: number;
  /** Undecodable inputs committed. */
  invalid: number;
  /** Offers that failed. */
  refusals: number;
  /** Older readings dropped for a newer one of their tag (latest-per-tag). */
  coalesced: number;
}

/** How held items are kept, for log lines. */
const KEPT: Record<HoldPolicy, string> = {
  'keep-all': ', in order',
  'latest-per-tag': '; beyond the limit only the newest of each tag',
  'per-poll-group': '; their poll group is not polled meanwhile',
};

export class HandOver<N = undefined> {
  readonly counts: HandOverCounts = { signals: 0, invalid: 0, refusals: 0, coalesced: 0 };
  lastError: { message: string; code?: string; at: string } | null = null;

  private readonly groups = new Map<string, Group<N>>();
  private total = 0;
  private atLimit = false;
  private running = false;
  private stopping: Promise<Held<N>[]> | null = null;
  /** start() came while stopping: accept again once the stop is over. */
  private restart = false;
  private idleWaiters: Array<() => void> = [];
  private readonly batchSize: number;
  private readonly what: string;

  constructor(
    private readonly ctx: Pick<AdapterContext, 'emit' | 'reject'>,
    private readonly log: Logger,
    private readonly options: HandOverOptions<N>,
  ) {
    if (!(options.limit >= 1)) throw new RangeError('limit must be at least 1');
    this.batchSize = options.batchSize ?? Infinity;
    this.what = options.what ?? 'signals';
  }

  /** Accept items. Safe to call again, also while stopping; after stop() it starts afresh (counts go on). */
  start(): void {
    if (this.stopping) this.restart = true;
    this.running = true;
  }

  /** Hold a reading; `note` comes back with it in onCommitted. False when not started or stopping. */
  hold(signal: Signal, note?: N): boolean {
    return this.add('', signal, undefined, note as N);
  }

  /** Hold the readings of one input (a message with many values) as one item: they count once toward `limit` and are committed in one offer. */
  holdAll(signals: readonly Signal[], note?: N): boolean {
    if (signals.length === 1) return this.add('', signals[0], undefined, note as N);
    return this.add('', undefined, undefined, note as N, signals);
  }

  /** Hold input that could not be decoded (committed with ctx.reject). */
  holdInvalid(input: InvalidInput, note?: N): boolean {
    return this.add('', undefined, input, note as N);
  }

  /**
   * Hold a place for input that gave nothing to commit (a message with no
   * reading in it): its note is reported in its turn, after everything held
   * before it was committed, so acknowledgements keep arrival order.
   */
  holdNothing(note?: N): boolean {
    return this.add('', undefined, undefined, note as N);
  }

  /** per-poll-group: what one poll of `group` read. */
  holdPoll(group: string, signals: Signal[]): boolean {
    if (!this.running || this.stopping) return false;
    for (const s of signals) this.add(group, s, undefined, undefined as N);
    return true;
  }

  /** Items held, including those offered right now. */
  get size(): number {
    return this.total;
  }

  /** `limit` or more are held: the source should not read. */
  get full(): boolean {
    return this.atLimit;
  }

  /** True while the last offer failed (of any group). */
  get refusing(): boolean {
    for (const g of this.groups.values()) if (g.failures > 0) return true;
    return false;
  }

  /** Anything of `group` held: it is not to be polled. */
  holds(group: string): boolean {
    return (this.groups.get(group)?.items.length ?? 0) > 0;
  }

  /** Groups whose last offer failed. */
  refusedGroups(): Array<{ group: string; held: number; code: string }> {
    const out: Array<{ group: string; held: number; code: string }> = [];
    for (const g of this.groups.values()) if (g.failures > 0) out.push({ group: g.name, held: g.items.length, code: g.code ?? 'EMIT_FAILED' });
    return out;
  }

  /** Drop the items `match` picks, held or committed and not yet reported (their source will send them again). */
  forget(match: (item: Held<N>) => boolean): number {
    let n = 0;
    for (const g of this.groups.values()) {
      g.items = g.items.filter((item) => {
        if (!match(item)) return true;
        if (item.state === 'held') g.waiting--;
        item.state = 'forgotten';
        n++;
        return false;
      });
    }
    this.total -= n;
    for (const g of this.groups.values()) this.release(g);
    this.checkLimit();
    return n;
  }

  /**
   * Stop holding: a group waiting to retry is offered once more at once, and
   * offers go on while the outbox takes them, for `graceMs` at most. Resolves
   * with what was not committed.
   */
  stop(graceMs: number): Promise<Held<N>[]> {
    if (!this.running) return Promise.resolve([]);
    this.stopping ??= this.finish(graceMs);
    return this.stopping;
  }

  private async finish(graceMs: number): Promise<Held<N>[]> {
    for (const g of this.groups.values()) {
      this.cancelWaits(g);
      if (!g.offering && g.waiting > 0) this.offer(g);
    }
    await this.idle(graceMs);
    const left: Held<N>[] = [];
    for (const g of this.groups.values()) {
      g.closed = true;
      this.cancelWaits(g);
      for (const item of g.items) if (item.state === 'held' || item.state === 'offered') left.push(item);
    }
    this.groups.clear();
    this.total = 0;
    this.atLimit = false;
    this.running = this.restart;
    this.restart = false;
    this.stopping = null;
    return left;
  }

  private add(name: string, signal: Signal | undefined, invalid: InvalidInput | undefined, note: N, signals?: readonly Signal[]): boolean {
    if (!this.running || this.stopping) return false;
    let g = this.groups.get(name);
    if (!g) {
      g = new Group<N>(name);
      this.groups.set(name, g);
    }
    g.items.push(signals ? { signal, signals, invalid, note, state: 'held' } : { signal, invalid, note, state: 'held' });
    g.waiting++;
    this.total++;
    if (this.options.policy === 'latest-per-tag' && g.waiting > this.options.limit) this.fold(g);
    this.checkLimit();
    this.soon(g);
    return true;
  }

  /** Keep only the newest waiting reading of each tag, in the order of those newest readings. */
  private fold(g: Group<N>): void {
    const newest = new Map<string, Item<N>>();
    for (const item of g.items) if (item.state === 'held' && item.signal) newest.set(item.signal.tag, item);
    const before = g.items.length;
    g.items = g.items.filter((item) => item.state !== 'held' || !item.signal || newest.get(item.signal.tag) === item);
    const dropped = before - g.items.length;
    g.waiting -= dropped;
    this.total -= dropped;
    this.counts.coalesced += dropped;
  }

  private soon(g: Group<N>): void {
    if (g.offering || g.turn || g.retry) return;
    g.turn = setImmediate(() => {
      g.turn = null;
      if (g.waiting > 0 && !g.closed) this.offer(g);
    });
  }

  private offer(g: Group<N>): void {
    g.offering = true;
    void this.attempt(g).then((ok) => {
      g.offering = false;
      if (!g.closed) this.next(g, ok);
      for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  /** One hand-over of the oldest waiting items: their signals in one emit, each undecodable input in one reject. True when all were committed. */
  private async attempt(g: Group<N>): Promise<boolean> {
    const batch: Item<N>[] = [];
    for (const item of g.items) {
      if (batch.length >= this.batchSize) break;
      if (item.state !== 'held') continue;
      item.state = 'offered';
      batch.push(item);
    }
    g.waiting -= batch.length;
    // Places held for input with nothing to commit are done as soon as they are offered.
    // Plain loops: a batch can be hundreds of messages of fifty signals each.
    const readings: Item<N>[] = [];
    const signals: Signal[] = [];
    for (const item of batch) {
      if (item.signal) signals.push(item.signal);
      else if (item.signals) for (let i = 0; i < item.signals.length; i++) signals.push(item.signals[i]!);
      else {
        if (!item.invalid) item.state = 'committed';
        continue;
      }
      readings.push(item);
    }
    const work: Array<Promise<void>> = [];
    if (readings.length > 0) {
      work.push(
        Promise.resolve()
          .then(() => this.ctx.emit(signals))
          .then(() => {
            for (const item of readings) if (item.state === 'offered') item.state = 'committed';
            this.counts.signals += signals.length;
          }),
      );
    }
    for (const item of batch) {
      if (!item.invalid) continue;
      const input = item.invalid;
      work.push(
        Promise.resolve()
          .then(() => this.ctx.reject(input))
          .then(() => {
            if (item.state === 'offered') item.state = 'committed';
            this.counts.invalid++;
          }),
      );
    }
    const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (g.closed) return false;
    for (const item of batch) {
      if (item.state !== 'offered') continue;
      item.state = 'held';
      g.waiting++;
    }
    this.release(g);
    if (failed) this.refused(g, failed.reason);
    else if (g.failures > 0) {
      this.log.info({ ...this.where(g), failures: g.failures, held: g.items.length }, `the outbox takes ${this.what} again`);
      g.failures = 0;
      g.code = null;
    }
    this.checkLimit();
    return !failed;
  }

  private refused(g: Group<N>, err: unknown): void {
    const code = errorCode(err) ?? 'EMIT_FAILED';
    const fields = { ...this.where(g), code, err: errorMessage(err), held: g.items.length };
    if (g.failures === 0 || code !== g.code) {
      const kept = KEPT[this.options.policy];
      if (code === 'OUTBOX_FULL') this.log.warn(fields, `outbox is full: ${this.what} are held and offered again${kept}`);
      else this.log.error(fields, `the outbox failed to take ${this.what}: they are held and offered again${kept}`);
    } else {
      this.log.debug({ ...fields, failures: g.failures + 1 }, `${this.what} still not taken`);
    }
    g.failures++;
    g.code = code;
    this.counts.refusals++;
    const known = errorCode(err);
    this.lastError = { message: errorMessage(err), at: new Date().toISOString(), ...(known ? { code: known } : {}) };
    if (this.options.policy === 'latest-per-tag' && g.waiting > this.options.limit) this.fold(g);
    this.tell(() => this.options.onRefused?.(err, g.name));
  }

  private next(g: Group<N>, ok: boolean): void {
    if (g.waiting === 0) return;
    if (this.stopping) {
      if (ok) this.offer(g);
      return;
    }
    if (ok) {
      this.soon(g);
      return;
    }
    const { floorMs = 0, ...policy } = this.options.retry;
    g.retry = setTimeout(
      () => {
        g.retry = null;
        if (!g.closed && !g.offering && g.waiting > 0) this.offer(g);
      },
      Math.max(floorMs, backoffDelay(g.failures, policy)),
    );
  }

  /** Report the committed items at the head of the group, in arrival order. */
  private release(g: Group<N>): void {
    let k = 0;
    while (k < g.items.length && g.items[k]!.state === 'committed') k++;
    if (k === 0) return;
    const done = g.items.splice(0, k);
    this.total -= k;
    this.tell(() => this.options.onCommitted?.(done, g.name));
  }

  private checkLimit(): void {
    const atLimit = this.total >= this.options.limit;
    if (atLimit === this.atLimit) return;
    this.atLimit = atLimit;
    if (atLimit) {
      if (this.options.onFull) this.log.warn({ held: this.total }, `${this.total} ${this.what} held: reading paused until the outbox takes them`);
      this.tell(() => this.options.onFull?.());
    } else {
      this.tell(() => this.options.onSpace?.());
    }
  }

  private cancelWaits(g: Group<N>): void {
    if (g.turn) clearImmediate(g.turn);
    if (g.retry) clearTimeout(g.retry);
    g.turn = null;
    g.retry = null;
  }

  /** Resolves when no offer is under way (and, while stopping, none will start), or after `ms`. */
  private async idle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while ([...this.groups.values()].some((g) => g.offering)) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.idleWaiters.push(done);
      });
    }
  }

  private where(g: Group<N>): { group?: string } {
    return g.name === '' ? {} : { group: g.name };
  }

  /** An adapter's callback must not break the hand-over. */
  private tell(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, `a source failed to take back ${this.what} from the hand-over`);
    }
  }
}
