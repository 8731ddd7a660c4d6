import type { Outbox, OutboxRecord, RunPolicy, Settlement } from '../buffer/outbox';
import type { EventType } from '../model/event';
import type { Logger } from '../log';
import { OdooError, type OdooClient, type OdooServerInfo } from '../odoo/types';
import { backoffDelay, type BackoffPolicy } from '../retry';
import { Circuit, type CircuitOptions, type CircuitState } from './circuit';
import type { Operation, OperationContext, OperationOutcome, OperationRegistry } from './operations/types';
import { RateLimiter } from './rate-limit';

export interface SyncWorkerConfig {
  concurrency: number;
  maxRequestsPerSecond: number;
  batchSize: number;
  claimLimit: number;
  backoff: BackoffPolicy;
  circuit: CircuitOptions;
  skippableTypes: string[];
}

export interface SyncWorkerOptions {
  outbox: Outbox;
  client: OdooClient;
  operations: OperationRegistry;
  config: SyncWorkerConfig;
  /** External-id module of this plant, `edge_<plant>`. */
  xmlidModule: string;
  log: Logger;
  /** Called after every settled request (metrics). */
  observe?: (o: RequestObservation) => void;
  now?: () => number;
  random?: () => number;
  /** How often to look for work when nothing woke the worker (ms). */
  idlePollMs?: number;
}

export interface RequestObservation {
  type: string;
  events: number;
  durationMs: number;
  result: 'done' | 'retry' | 'park' | 'stop' | 'split';
  errorClass?: string;
}

export interface SyncStatus {
  running: boolean;
  circuit: CircuitState;
  circuitOpenedAt: number | null;
  server: OdooServerInfo | null;
  lastSuccessAt: number | null;
  lastError: { message: string; at: number } | null;
  sent: number;
  parked: number;
  retried: number;
  requests: number;
  inFlight: number;
}

/** A unit of work: one request to Odoo for one event, or one batch of one type (runs of keys, each in order). */
interface Unit {
  op: Operation;
  records: OutboxRecord[];
}

/**
 * Delivers the outbox to Odoo: claims the heads of many keys, sends them with
 * bounded concurrency and rate (one load() per batch where the type allows),
 * and records each outcome. Order within a key holds because only a key's
 * head is ever claimed, and a head stays claimed until its request settled.
 */
export class SyncWorker {
  private readonly outbox: Outbox;
  private readonly client: OdooClient;
  private readonly ops: OperationRegistry;
  private readonly cfg: SyncWorkerConfig;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly skippable: Set<string>;
  private readonly limiter: RateLimiter;
  private readonly idlePollMs: number;
  /** Types whose operation sends a key's consecutive events in one ordered call. */
  private readonly runs: RunPolicy | undefined;
  readonly circuit: Circuit;

  private running = false;
  private server: OdooServerInfo | null = null;
  private ready: Unit[] = [];
  /** Units whose request is out. */
  private readonly inFlight = new Set<Unit>();
  /** The next events of an in-flight unit's keys, claimed while it is out (see prefetch). */
  private readonly successors = new Map<Unit, Unit>();
  private active = 0;
  private pumping = false;
  private probing = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private timerAt = Infinity;
  private idleWaiters: Array<() => void> = [];
  private stats = { sent: 0, parked: 0, retried: 0, requests: 0 };
  private lastSuccessAt: number | null = null;
  private lastError: { message: string; at: number } | null = null;

  constructor(private readonly opts: SyncWorkerOptions) {
    this.outbox = opts.outbox;
    this.client = opts.client;
    this.ops = opts.operations;
    this.cfg = opts.config;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.skippable = new Set(opts.config.skippableTypes);
    this.limiter = new RateLimiter(opts.config.maxRequestsPerSecond, Math.max(1, opts.config.concurrency), this.now);
    this.circuit = new Circuit(opts.config.circuit);
    this.idlePollMs = opts.idlePollMs ?? 1000;
    const batched = [...opts.operations.values()].filter((op) => op.executeBatch).map((op) => op.type as string);
    this.runs = opts.config.batchSize > 1 && batched.length ? { types: new Set(batched), max: opts.config.batchSize } : undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Not connected yet: the first probe connects.
    this.circuit.state = 'open';
    this.circuit.nextProbeAt = 0;
    this.wake();
  }

  /** Stop taking work; wait for requests in flight (at most timeoutMs); hand unstarted claims back. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.running = false;
    this.clearTimer();
    this.releaseReady();
    if (this.active > 0) {
      await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]);
    }
  }

  /** New work may be there (an enqueue, a retry by a person). */
  wake(): void {
    this.schedule(0);
  }

  status(): SyncStatus {
    return {
      running: this.running,
      circuit: this.circuit.state,
      circuitOpenedAt: this.circuit.openedAt,
      server: this.server,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      ...this.stats,
      inFlight: this.active,
    };
  }

  /** Resolves when nothing is claimed, queued or in flight (tests, demo). */
  async idle(): Promise<void> {
    while (this.active > 0 || this.ready.length > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (delayMs <= 0) {
      // Now: on the next loop turn (a 0 ms timer waits at least 1 ms, once per event on a busy key).
      if (this.immediate) return;
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.pump();
      });
      return;
    }
    if (this.immediate) return; // a pump sooner than this one is already due
    const at = this.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.max(0, delayMs),
    );
  }

  private clearTimer(): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private pump(): void {
    if (!this.running || this.pumping) return;
    this.pumping = true;
    try {
      this.pumpOnce();
    } catch (err) {
      this.log.error({ err }, 'sync loop failed; trying again in a second');
      this.schedule(1000);
    } finally {
      this.pumping = false;
    }
  }

  private pumpOnce(): void {
    if (this.circuit.state !== 'closed') {
      if (this.active > 0) return; // the last answers decide first
      const wait = this.circuit.nextProbeAt - this.now();
      if (wait > 0) return this.schedule(wait);
      if (!this.probing) void this.probe();
      return;
    }
    while (this.active < this.cfg.concurrency) {
      if (this.ready.length === 0) this.fill();
      const unit = this.ready.shift();
      if (!unit) break;
      const wait = this.limiter.tryTake();
      if (wait > 0) {
        this.ready.unshift(unit);
        return this.schedule(wait);
      }
      this.active++;
      void this.run(unit);
      // Once the request has left (undici writes it on the loop turn after the call), claim its keys' next events.
      if (this.runs && unit.op.executeBatch && this.runs.types.has(unit.op.type)) setImmediate(() => setImmediate(() => this.prefetch(unit)));
    }
    if (this.active === 0 && this.ready.length === 0) {
      this.notifyIdle();
      const next = this.outbox.nextRetryAt();
      const wait = next === null ? this.idlePollMs : Math.min(this.idlePollMs, Math.max(0, next - this.now()));
      this.schedule(wait);
    }
  }

  /** How many events to claim now: enough to fill the free request slots. */
  private claimRoom(active = this.active): number {
    const free = this.cfg.concurrency - active - this.ready.length;
    if (free <= 0) return 0;
    return Math.min(this.cfg.claimLimit, free * this.cfg.batchSize);
  }

  /** Claim heads and group them into units. */
  private fill(): void {
    const room = this.claimRoom();
    if (room <= 0) return;
    this.addUnits(this.outbox.claim(room, this.now(), this.runs));
  }

  /**
   * Group claimed heads into units: batches of one type where the operation
   * batches. Heads are spread over the free request slots, so that as one
   * batch comes back its keys' next events can go while the others are out.
   */
  private addUnits(records: OutboxRecord[]): void {
    if (records.length === 0) return;
    const free = Math.max(1, this.cfg.concurrency - this.active - this.ready.length);
    const byType = new Map<EventType, OutboxRecord[]>();
    const units: Array<Unit & { seq: number }> = [];
    const settlements: Settlement[] = [];
    for (const r of records) {
      const op = this.ops.get(r.type);
      if (!op) {
        settlements.push({
          seq: r.seq,
          outcome: 'park',
          reason: `no operation for event type ${r.type} (check sync.mappings)`,
          code: 'NO_OPERATION',
          blocking: !this.skippable.has(r.type),
        });
        continue;
      }
      if (op.executeBatch && this.cfg.batchSize > 1) {
        const list = byType.get(r.type) ?? [];
        list.push(r);
        byType.set(r.type, list);
      } else units.push({ op, records: [r], seq: r.seq });
    }
    if (settlements.length) this.outbox.settle(settlements, this.now());
    for (const [type, list] of byType) {
      const op = this.ops.get(type)!;
      const size = Math.min(this.cfg.batchSize, Math.ceil(list.length / free));
      // A key's run stays whole in one unit: two units of one key could be in flight at once.
      let chunk: OutboxRecord[] = [];
      for (const run of runsOf(list)) {
        if (chunk.length > 0 && chunk.length + run.length > size) {
          units.push({ op, records: chunk, seq: chunk[0]!.seq });
          chunk = [];
        }
        chunk.push(...run);
      }
      if (chunk.length > 0) units.push({ op, records: chunk, seq: chunk[0]!.seq });
    }
    // Oldest first across keys.
    units.sort((a, b) => a.seq - b.seq);
    this.ready.push(...units.map(({ op, records }) => ({ op, records })));
  }

  /**
   * While a unit of a batchable type is out, claim the events right behind
   * each of its keys (same type, the batch size shared among the keys). They
   * are sent only after the unit settled with every event of their key done,
   * and handed back otherwise, so order per key is the same as without this;
   * but the claim's commit happens while Odoo works on the request instead of
   * between two requests of the key.
   */
  private prefetch(unit: Unit): void {
    if (!this.running || this.circuit.state !== 'closed' || !this.inFlight.has(unit) || this.successors.has(unit)) return;
    const tails = new Map<string, number>();
    for (const r of unit.records) tails.set(r.sequenceKey, r.seq);
    // One event per key, many keys: the claim found no runs, there is likely nothing behind them.
    if (tails.size > 1 && tails.size === unit.records.length) return;
    const perKey = Math.max(1, Math.floor(this.cfg.batchSize / tails.size));
    try {
      const records = this.outbox.claimFollowing(
        unit.op.type,
        [...tails].map(([sequenceKey, afterSeq]) => ({ sequenceKey, afterSeq })),
        perKey,
        this.now(),
      );
      if (records.length > 0) this.successors.set(unit, { op: unit.op, records });
    } catch (err) {
      this.log.warn({ err }, 'claiming the next events of keys in flight failed; they go with a later claim');
    }
  }

  /**
   * The successor of a unit that came back: the part whose keys had every
   * event done goes next (returned), unless an older event of another key
   * waits; the rest is handed back in `settlements`.
   */
  private takeSuccessor(unit: Unit, results: Array<OperationOutcome | Error>, settlements: Settlement[], keep: boolean): Unit | undefined {
    const next = this.successors.get(unit);
    if (!next) return undefined;
    this.successors.delete(unit);
    const failed = new Set<string>();
    unit.records.forEach((r, i) => {
      if (results[i] instanceof Error) failed.add(r.sequenceKey);
    });
    let kept = keep ? next.records.filter((r) => !failed.has(r.sequenceKey)) : [];
    if (kept.length > 0) {
      const older = this.outbox.oldestReadySeq(this.now());
      if (older !== null && older < kept[0]!.seq) kept = [];
    }
    const keptSeqs = new Set(kept.map((r) => r.seq));
    for (const r of next.records) if (!keptSeqs.has(r.seq)) settlements.push({ seq: r.seq, outcome: 'release' });
    return kept.length > 0 ? { op: next.op, records: kept } : undefined;
  }

  private context(): OperationContext {
    return { odoo: this.client, server: this.server!, xmlidModule: this.opts.xmlidModule, log: this.log };
  }

  private async run(unit: Unit): Promise<void> {
    const started = this.now();
    this.inFlight.add(unit);
    let results: Array<OperationOutcome | Error>;
    try {
      if (unit.records.length === 1 || !unit.op.executeBatch) {
        results = [await unit.op.execute(unit.records[0]!.event as never, this.context())];
      } else {
        results = await unit.op.executeBatch(unit.records.map((r) => r.event) as never, this.context());
        if (results.length !== unit.records.length)
          throw new Error(`operation ${unit.op.type} returned ${results.length} results for ${unit.records.length} events`);
      }
    } catch (err) {
      results = unit.records.map(() => asError(err));
    }
    this.inFlight.delete(unit);
    try {
      this.settleUnit(unit, results, started);
    } catch (err) {
      this.log.error({ err }, 'recording outcomes in the outbox failed');
    } finally {
      this.active--;
      this.stats.requests++;
      if (this.active === 0 && this.ready.length === 0) this.notifyIdle();
      this.schedule(0);
    }
  }

  private settleUnit(unit: Unit, results: Array<OperationOutcome | Error>, started: number): void {
    const now = this.now();
    const errors = results.filter((r): r is Error => r instanceof Error);
    // A batch where every row parks: maybe one bad row failed the whole load(). Split it and send the halves.
    if (unit.records.length > 1 && errors.length === results.length && errors.every((e) => actionOf(e) === 'park')) {
      const back: Settlement[] = [];
      this.takeSuccessor(unit, results, back, false);
      this.split(unit, back);
      this.observe(unit, started, 'split', errors[0]);
      return;
    }
    const settlements: Settlement[] = [];
    let stopError: Error | undefined;
    unit.records.forEach((rec, i) => {
      const r = results[i]!;
      if (!(r instanceof Error)) {
        settlements.push({ seq: rec.seq, outcome: 'done', odooIds: r.odooIds });
        this.stats.sent++;
        return;
      }
      const action = actionOf(r);
      const reason = describe(r);
      if (action === 'release') {
        settlements.push({ seq: rec.seq, outcome: 'release' });
      } else if (action === 'stop') {
        stopError = r;
        settlements.push({ seq: rec.seq, outcome: 'release' });
      } else if (action === 'retry') {
        const delay = backoffDelay(rec.attempts + 1, this.cfg.backoff, { retryAfterMs: (r as OdooError).retryAfterMs, random: this.random });
        settlements.push({ seq: rec.seq, outcome: 'retry', nextAttemptAt: now + delay, error: reason, code: codeOf(r) });
        this.stats.retried++;
      } else {
        settlements.push({ seq: rec.seq, outcome: 'park', reason, code: codeOf(r), blocking: !this.skippable.has(rec.type) });
        this.stats.parked++;
        this.log.warn({ id: rec.id, type: rec.type, key: rec.sequenceKey, reason }, 'event parked: a person must retry, edit or skip it');
      }
    });
    const sending = this.running && this.circuit.state === 'closed' && !stopError;
    const successor = this.takeSuccessor(unit, results, settlements, sending);
    // When all went well, claim the next heads in the same transaction (one commit, not two).
    const room = errors.length === 0 && sending ? this.claimRoom(this.active - 1) - (successor ? 1 : 0) : 0;
    if (room > 0) this.addUnits(this.outbox.settleAndClaim(settlements, room, now, this.runs));
    else this.outbox.settle(settlements, now);
    // The successor is older than anything just claimed: it goes first.
    if (successor) this.ready.unshift(successor);

    const firstError = errors.find((e) => actionOf(e) !== 'release');
    if (errors.length < results.length) {
      this.lastSuccessAt = now;
      this.circuit.success();
    }
    if (stopError) {
      this.lastError = { message: describe(stopError), at: now };
      this.circuit.authFailure(now, describe(stopError));
      this.releaseReady();
      this.log.error({ reason: describe(stopError) }, "Odoo refused the agent's credentials: sending stopped until a probe with the key succeeds");
      this.observe(unit, started, 'stop', stopError);
      return;
    }
    if (firstError) {
      this.lastError = { message: describe(firstError), at: now };
      if (actionOf(firstError) === 'retry' && errors.length === results.length) {
        if (this.circuit.transientFailure(now, describe(firstError))) {
          this.releaseReady();
          this.log.warn({ reason: describe(firstError) }, 'Odoo unreachable: circuit open, sending paused, probing');
        }
      }
      this.observe(unit, started, actionOf(firstError) === 'retry' ? 'retry' : errors.length === results.length ? 'park' : 'done', firstError);
    } else this.observe(unit, started, 'done');
  }

  private observe(unit: Unit, started: number, result: RequestObservation['result'], err?: Error): void {
    this.opts.observe?.({
      type: unit.op.type,
      events: unit.records.length,
      durationMs: this.now() - started,
      result,
      errorClass: err ? codeOf(err) : undefined,
    });
  }

  /**
   * Send the halves of a batch that failed as a whole, to find the bad row.
   * Later events of a key whose run is in the first half go back to the
   * outbox (with `back`, events already handed back, in one settlement):
   * they must not be in flight beside it.
   */
  private split(unit: Unit, back: Settlement[]): void {
    const mid = Math.ceil(unit.records.length / 2);
    const first = unit.records.slice(0, mid);
    const firstKeys = new Set(first.map((r) => r.sequenceKey));
    const second = unit.records.slice(mid).filter((r) => !firstKeys.has(r.sequenceKey));
    for (const r of unit.records.slice(mid)) if (firstKeys.has(r.sequenceKey)) back.push({ seq: r.seq, outcome: 'release' });
    if (back.length) this.outbox.settle(back, this.now());
    this.ready.unshift({ op: unit.op, records: first }, ...(second.length ? [{ op: unit.op, records: second }] : []));
  }

  /** Hand claimed but unsent events back (no attempt counted). */
  private releaseReady(): void {
    const units = this.ready;
    this.ready = [];
    const settlements = units.flatMap((u) => u.records.map((r) => ({ seq: r.seq, outcome: 'release' as const })));
    if (settlements.length) this.outbox.settle(settlements, this.now());
  }

  private async probe(): Promise<void> {
    this.probing = true;
    try {
      if (!this.server) this.server = await this.client.connect();
      else await this.client.probe();
      if (this.circuit.state !== 'closed') this.log.info({ server: this.server }, 'Odoo answers: sending resumes, oldest first');
      this.circuit.probeSucceeded();
    } catch (err) {
      const e = asError(err);
      const auth = actionOf(e) === 'stop';
      this.circuit.probeFailed(this.now(), describe(e), auth);
      this.lastError = { message: describe(e), at: this.now() };
      this.log.warn(
        { reason: describe(e), nextProbeInMs: this.circuit.nextProbeAt - this.now() },
        auth ? 'Odoo still refuses the credentials' : 'Odoo probe failed',
      );
    } finally {
      this.probing = false;
      this.schedule(this.circuit.state === 'closed' ? 0 : this.circuit.nextProbeAt - this.now());
    }
  }

  private notifyIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** A claim's records cut into runs: consecutive records of one key (claims list a head's followers right after it). */
function runsOf(records: OutboxRecord[]): OutboxRecord[][] {
  const out: OutboxRecord[][] = [];
  for (const r of records) {
    const last = out[out.length - 1];
    if (last && last[0]!.sequenceKey === r.sequenceKey) last.push(r);
    else out.push([r]);
  }
  return out;
}

function actionOf(err: Error): 'retry' | 'park' | 'stop' | 'release' {
  const a = (err as { action?: unknown }).action;
  if (a === 'retry' || a === 'park' || a === 'stop' || a === 'release') return a;
  return 'park';
}

function codeOf(err: Error): string {
  if (err instanceof OdooError) return err.odooName?.split('.').pop() ?? err.code;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' ? c : err.name;
}

function describe(err: Error): string {
  if (err instanceof OdooError && err.odooName) return `${err.odooName.split('.').pop()}: ${err.message}`;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && !err.message.startsWith(c) ? `${c}: ${err.message}` : err.message;
}
