import type { Outbox, OutboxRecord, RunPolicy, Settlement } from '../buffer/outbox';
import type { Logger } from '../log';
import { OdooError, type OdooClient, type OdooServerInfo } from '../odoo/types';
import type { BackoffPolicy } from '../retry';
import { Circuit, type CircuitOptions, type CircuitState } from './circuit';
import type { OperationContext, OperationRegistry } from './operations/types';
import { actionOf, asError, errorClass, mapOutcomes, reasonOf, type Result } from './outcome';
import { Prefetch } from './prefetch';
import { RateLimiter } from './rate-limit';
import { failedAsWhole, splitBatch } from './split';
import { buildUnits, runPolicy, type Unit, type UnitOptions } from './units';

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
  /** The plant's time zone, for the operations (OperationContext.timeZone). Unset: UTC. */
  timeZone?: string;
  log: Logger;
  /** Called after every settled request (metrics). */
  observe?: (o: RequestObservation) => void;
  now?: () => number;
  random?: () => number;
  /** How often to look for work when nothing woke the worker (ms). */
  idlePollMs?: number;
  /** Events to hold for a person before sending (an event dated in a locked period: closed-period.ts). */
  hold?: UnitOptions['hold'];
}

export interface RequestObservation {
  type: string;
  events: number;
  durationMs: number;
  result: 'done' | 'retry' | 'park' | 'stop' | 'down' | 'split';
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

/**
 * Delivers the outbox to Odoo: claims the heads of many keys, sends them with
 * bounded concurrency and rate (one load() per batch where the type allows),
 * and records each outcome. Order within a key holds because only a key's
 * head is ever claimed, and a head stays claimed until its request settled.
 *
 * The flow: pump() claims and groups events into units (units.ts), sends each
 * (run), and settles its results (outcome.ts); a batch that failed as a whole
 * is split (split.ts); the events behind a key in flight are claimed while
 * its request is out (prefetch.ts). The circuit decides whether to send or probe.
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
  /** Requests per second to Odoo; readers of Odoo in the same agent (orders view, reconciliation) wait for it too. */
  readonly limiter: RateLimiter;
  private readonly idlePollMs: number;
  /** Types whose operation sends a key's consecutive events in one ordered call. */
  private readonly runs: RunPolicy | undefined;
  private readonly prefetch: Prefetch;
  readonly circuit: Circuit;

  private running = false;
  private server: OdooServerInfo | null = null;
  private ready: Unit[] = [];
  /** Units whose request is out. */
  private readonly inFlight = new Set<Unit>();
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
  /** The last probe failure logged as a warning: the same one again within a minute is not repeated. */
  private probeWarned: { reason: string; at: number } | null = null;

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
    this.runs = runPolicy(opts.operations, opts.config.batchSize);
    this.prefetch = new Prefetch(opts.outbox, opts.config.batchSize, this.now, opts.log);
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
      if (this.runs && unit.op.executeBatch && this.runs.types.has(unit.op.type)) setImmediate(() => setImmediate(() => this.claimBehind(unit)));
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

  /** Group claimed events into units ready to send; an event of a type with no operation, or one to hold, parks. */
  private addUnits(records: OutboxRecord[]): void {
    if (records.length === 0) return;
    const free = Math.max(1, this.cfg.concurrency - this.active - this.ready.length);
    const { units, parked } = buildUnits(records, {
      operations: this.ops,
      batchSize: this.cfg.batchSize,
      free,
      skippable: this.skippable,
      hold: this.opts.hold,
    });
    if (parked.length) this.outbox.settle(parked, this.now());
    this.ready.push(...units);
  }

  /** While a batch is out, claim the events behind its keys (prefetch.ts). */
  private claimBehind(unit: Unit): void {
    if (this.running && this.circuit.state === 'closed' && this.inFlight.has(unit)) this.prefetch.claimBehind(unit);
  }

  private context(): OperationContext {
    return { odoo: this.client, server: this.server!, xmlidModule: this.opts.xmlidModule, log: this.log, timeZone: this.opts.timeZone };
  }

  private async run(unit: Unit): Promise<void> {
    const started = this.now();
    this.inFlight.add(unit);
    const results = await this.send(unit);
    this.inFlight.delete(unit);
    try {
      this.settle(unit, results, started);
    } catch (err) {
      this.log.error({ err }, 'recording outcomes in the outbox failed');
    } finally {
      this.active--;
      this.stats.requests++;
      if (this.active === 0 && this.ready.length === 0) this.notifyIdle();
      this.schedule(0);
    }
  }

  /** One request: an outcome or error per event, in order; anything thrown fails every event of the unit. */
  private async send(unit: Unit): Promise<Result[]> {
    try {
      if (unit.records.length === 1 || !unit.op.executeBatch) return [await unit.op.execute(unit.records[0]!.event as never, this.context())];
      const results = await unit.op.executeBatch(unit.records.map((r) => r.event) as never, this.context());
      if (results.length !== unit.records.length)
        throw new Error(`operation ${unit.op.type} returned ${results.length} results for ${unit.records.length} events`);
      return results;
    } catch (err) {
      return unit.records.map(() => asError(err));
    }
  }

  /** Record a request's results in the outbox, then let them steer the circuit and the metrics. */
  private settle(unit: Unit, results: Result[], started: number): void {
    if (failedAsWhole(unit.records, results)) return this.split(unit, results, started);
    const now = this.now();
    const o = mapOutcomes(unit.records, results, { now, backoff: this.cfg.backoff, random: this.random, skippable: this.skippable });
    this.stats.sent += o.sent;
    this.stats.retried += o.retried;
    this.stats.parked += o.parked.length;
    for (const { record: r, reason } of o.parked)
      this.log.warn({ id: r.id, type: r.type, key: r.sequenceKey, reason }, 'event parked: a person must retry, edit or skip it');
    const sending = this.running && this.circuit.state === 'closed' && !o.stop && !o.down;
    const successor = this.prefetch.takeSuccessor(unit, results, o.settlements, sending);
    // When all went well, claim the next heads in the same transaction (one commit, not two).
    const room = o.failed === 0 && sending ? this.claimRoom(this.active - 1) - (successor ? 1 : 0) : 0;
    if (room > 0) this.addUnits(this.outbox.settleAndClaim(o.settlements, room, now, this.runs));
    else this.outbox.settle(o.settlements, now);
    // The successor is older than anything just claimed: it goes first.
    if (successor) this.ready.unshift(successor);

    if (o.failed < results.length) {
      this.lastSuccessAt = now;
      // A request that was out when the link went down came back done: Odoo answers.
      if (this.circuit.success()) this.log.info('Odoo answers: sending resumes, oldest first');
    }
    if (o.error) this.lastError = { message: reasonOf(o.error), at: now };
    if (o.stop) {
      this.circuit.authFailure(now, reasonOf(o.stop));
      this.releaseReady();
      this.log.error({ reason: reasonOf(o.stop) }, "Odoo refused the agent's credentials: sending stopped until a probe with the key succeeds");
    } else if (o.down) {
      // No answer says the link is down at once; the events lose nothing by it.
      const opened = this.circuit.unreachable(now, reasonOf(o.down));
      this.releaseReady();
      if (opened) this.log.warn({ reason: reasonOf(o.down) }, 'Odoo unreachable: circuit open, sending paused, probing');
    } else if (
      // Only Odoo's own failing answers speak about the link; an operation's retry (a state in Odoo, such as a blocked work center) does not.
      o.result === 'retry' &&
      o.failed === results.length &&
      o.error instanceof OdooError &&
      this.circuit.transientFailure(now, reasonOf(o.error))
    ) {
      this.releaseReady();
      this.log.warn({ reason: reasonOf(o.error!) }, 'Odoo unreachable: circuit open, sending paused, probing');
    }
    this.observe(unit, started, o.result, o.error);
  }

  /** Send the halves of a batch that failed as a whole, to find the bad row; what may not fly beside them goes back. */
  private split(unit: Unit, results: Result[], started: number): void {
    const back: Settlement[] = [];
    this.prefetch.takeSuccessor(unit, results, back, false);
    const { halves, back: later } = splitBatch(unit.records);
    back.push(...later);
    if (back.length) this.outbox.settle(back, this.now());
    this.ready.unshift(...halves.map((records) => ({ op: unit.op, records })));
    this.observe(unit, started, 'split', results[0] as Error);
  }

  private observe(unit: Unit, started: number, result: RequestObservation['result'], err?: Error): void {
    this.opts.observe?.({
      type: unit.op.type,
      events: unit.records.length,
      durationMs: this.now() - started,
      result,
      errorClass: err ? errorClass(err) : undefined,
    });
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
      this.probeWarned = null;
    } catch (err) {
      const e = asError(err);
      const action = actionOf(e);
      const now = this.now();
      const reason = reasonOf(e);
      this.circuit.probeFailed(now, reason, action === 'stop' ? 'auth' : action === 'down' ? 'no-answer' : 'answered');
      this.lastError = { message: reason, at: now };
      // Probes run every second while the link is down: say each new reason, the same one once a minute.
      const repeated = this.probeWarned?.reason === reason && now - this.probeWarned.at < 60_000;
      if (this.running && !repeated) {
        this.probeWarned = { reason, at: now };
        this.log.warn(
          { reason, nextProbeInMs: this.circuit.nextProbeAt - now },
          action === 'stop' ? 'Odoo still refuses the credentials' : 'Odoo probe failed',
        );
      }
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
