import { mkdirSync } from 'node:fs';
import { SqliteOutbox } from '../buffer/sqlite-outbox';
import { checkStructure, OutboxDamagedError } from '../buffer/store';
import { eventTimeOptions, plantTimeZone } from '../config/clocks';
import { registerBuiltins } from './builtins';
import type { AgentConfig } from '../config/schema';
import { AgentError, errorMessage } from '../errors';
import { rootLogger, setLogLevel, type Logger } from '../log';
import { createOdooClient } from '../odoo/client';
import type { OdooClient } from '../odoo/types';
import { Pipeline } from './pipeline';
import type { SourceAdapter } from '../protocols/types';
import { RuleEngine } from '../rules/engine';
import { startSchedules, type Schedules } from './schedules';
import { MqttStatusPublisher } from '../protocols/mqtt/publisher';
import { CLOSED_PERIOD, closedPeriodHold, postAtFirstOpenDate, postingDay } from '../sync/closed-period';
import { edgeCheckOf } from '../sync/edge-check';
import { MasterDataCache } from '../sync/master-data';
import { OrderRelease } from '../release/release';
import { AGENT_VERSION } from '../version';
import { createOperationRegistry } from '../sync/operations/index';
import { SyncWorker, type RequestObservation } from '../sync/worker';
import { OrderSync } from '../sync/order-sync';
import { RateLimiter, takeAll } from '../sync/rate-limit';
import { runReconcileJob, type StoredRun } from '../sync/reconcile/job';
import { SourceSet } from './sources';
import { StorageWatch } from './storage-watch';
import { ClockWatch } from './clock-watch';
import type { AgentActions, AgentView } from './view';

/**
 * A running agent. The status page, /metrics and the CLI get `view` and
 * `actions` only; the parts themselves are for the demo and tests in the
 * same process.
 */
export interface RunningAgent {
  readonly view: AgentView;
  readonly actions: AgentActions;
  readonly config: AgentConfig;
  readonly outbox: SqliteOutbox;
  readonly pipeline: Pipeline;
  readonly worker: SyncWorker | undefined;
  readonly client: OdooClient | undefined;
  readonly adapters: SourceAdapter[];
  readonly masterData: MasterDataCache;
  /** Order release, when configured. */
  readonly release: OrderRelease | undefined;
  /** The per-order sync view (Odoo's side read every orders.refreshSeconds). */
  readonly orderSync: OrderSync;
  readonly schedules: Schedules;
  readonly startedAt: number;
  /** Settles when the look at the outbox file's structure (in the background, from the start) is over; rejects with OutboxDamagedError on damage. */
  readonly structureChecked: Promise<void>;
  /** Apply a new configuration without a restart (SIGHUP). Throws RELOAD_NEEDS_RESTART, leaving everything as it was, for sections that change only at a start. */
  reload(config: AgentConfig): Promise<ReloadResult>;
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Use this Odoo client instead of building one from config (tests, demo). */
  client?: OdooClient;
  /** Do not start the adapters (tests that feed the pipeline directly). */
  withoutSources?: boolean;
}

/** Open the outbox, start the rules, adapters, sync worker and schedules. */
export async function startAgent(config: AgentConfig, opts: StartOptions = {}): Promise<RunningAgent> {
  registerBuiltins();
  const agent = new Agent(config, opts);
  await agent.start();
  return agent;
}

/** Config sections that take effect only at a start (a reload refuses to change them). */
/** How often clocks are judged. */
const CLOCK_CHECK_MS = 10_000;

const RESTART_ONLY = ['plant', 'stateDir', 'outbox', 'http', 'clocks'] as const;

class Agent implements RunningAgent {
  readonly outbox: SqliteOutbox;
  readonly pipeline: Pipeline;
  readonly masterData: MasterDataCache;
  readonly orderSync: OrderSync;
  readonly startedAt = Date.now();
  readonly structureChecked: Promise<void>;
  readonly view: AgentView;
  readonly actions: AgentActions;
  private current: AgentConfig;
  private readonly base: Logger;
  private readonly log: Logger;
  private readonly sourceSet: SourceSet;
  private readonly storage: StorageWatch;
  private readonly clocks: ClockWatch;
  private clockTimer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(o: RequestObservation) => void> = [];
  private link: { client: OdooClient; worker: SyncWorker } | undefined;
  private mqttOut: MqttStatusPublisher | undefined;
  private orderRelease: OrderRelease | undefined;
  private jobs: Schedules | undefined;
  private stopped = false;
  /** One reload at a time; a stop waits for it. */
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    config: AgentConfig,
    private readonly opts: StartOptions,
  ) {
    this.current = config;
    // Each part logs with its own `component` (a child of a child would repeat the key in every line).
    this.base = opts.log ?? rootLogger();
    this.log = this.part('agent');
    mkdirSync(config.stateDir, { recursive: true });
    this.outbox = new SqliteOutbox({
      path: config.outbox.path,
      synchronous: config.outbox.synchronous,
      windowMs: config.outbox.groupCommit.windowMs,
      maxBatch: config.outbox.groupCommit.maxBatch,
      maxEvents: config.outbox.maxEvents,
      log: this.part('outbox'),
      flows: config.schedules.flows,
      eventTime: eventTimeOptions(config),
    });
    this.structureChecked = this.checkOutboxFile(config.outbox.path);
    this.structureChecked.catch(() => undefined); // the caller of run decides what damage ends
    this.clocks = new ClockWatch({ warnOffsetMs: config.clocks.warnOffsetS * 1000 }, this.part('clocks'));
    const engine = new RuleEngine(config.rules);
    engine.loadState(this.outbox.loadRuleState());
    this.masterData = new MasterDataCache(this.outbox.masterData, this.part('master-data'));
    this.pipeline = new Pipeline(this.outbox, engine, {
      plant: config.plant.id,
      log: this.part('pipeline'),
      plantTime: { timeZone: plantTimeZone(config), shifts: config.plant.shifts },
      masterData: () => (this.masterData.filled ? this.masterData : undefined),
      committed: () => this.worker?.wake(),
      observe: (signal) => this.clocks.observe(signal),
    });
    this.sourceSet = new SourceSet(
      (c) => ({
        log: this.part(c.type, { source: c.name }),
        stateDir: this.current.stateDir,
        plant: this.current.plant.id,
        emit: (signals) => this.pipeline.emit(signals),
        reject: (input) => this.pipeline.reject(input),
      }),
      this.log,
    );
    this.storage = new StorageWatch({
      outboxPath: config.outbox.path,
      maxEvents: config.outbox.maxEvents,
      lowDiskMb: config.outbox.warnings.lowDiskMb,
      highWater: config.outbox.warnings.highWater,
      stored: () => this.outbox.counts().unfinished + this.outbox.heldEvents,
      write: () => this.outbox.writeHealth(),
      log: this.part('storage'),
    });
    // Reading Odoo for the view waits for the sync worker's limit too, and for its own (2 requests a second).
    const ordersLimit = new RateLimiter(2, 1);
    this.orderSync = new OrderSync({
      store: this.outbox.orderSync,
      odoo: () => {
        const link = this.link;
        return link ? { client: link.client, connected: () => link.worker.status().circuit === 'closed' } : undefined;
      },
      beforeRequest: () => takeAll([ordersLimit, ...(this.worker ? [this.worker.limiter] : [])]),
      log: this.part('orders'),
    });
    this.view = this.makeView();
    this.actions = this.makeActions();
  }

  get config(): AgentConfig {
    return this.current;
  }
  get worker(): SyncWorker | undefined {
    return this.link?.worker;
  }
  get client(): OdooClient | undefined {
    return this.link?.client;
  }
  get adapters(): SourceAdapter[] {
    return this.sourceSet.adapters;
  }
  get schedules(): Schedules {
    return this.jobs!;
  }

  async start(): Promise<void> {
    const config = this.current;
    // Events held for a flow the config no longer has (or no longer holds their type in) go into the queue now.
    for (const r of this.outbox.releaseUnscheduledFlows()) {
      this.log.warn(r, `flow ${r.flow} is no longer configured for ${r.members} held events: they went into the queue as ${r.events} events`);
    }
    this.startLink(config);
    this.setEdgeCheck(config);
    if (this.opts.withoutSources) this.sourceSet.describe(config.sources);
    else await this.sourceSet.apply(config.sources);
    await this.startMqttOut(config);
    await this.startRelease(config);
    this.startJobs(config);
    // Clocks are judged (and a crossing logged) every 10 s, whether anyone looks at the page or not.
    this.clockTimer = setInterval(() => this.readClocks(), CLOCK_CHECK_MS);
    this.clockTimer.unref();
    this.log.info({ plant: config.plant.id, sources: this.adapters.map((a) => a.name), outbox: config.outbox.path, sync: Boolean(this.link) }, 'agent started');
  }

  private async checkOutboxFile(path: string): Promise<void> {
    const t0 = Date.now();
    try {
      await checkStructure(path);
      this.log.info({ ms: Date.now() - t0 }, 'outbox file structure checked');
    } catch (err) {
      if (err instanceof OutboxDamagedError) {
        this.log.error({ file: path }, err.message);
        throw err;
      }
      this.log.warn({ err }, `the outbox file's structure could not be checked: ${errorMessage(err)}`);
    }
  }

  /**
   * Apply a new configuration (SIGHUP): sources that are added, removed or
   * changed are stopped and started, the rules are rebuilt with their state,
   * the Odoo link is rebuilt when its settings (or its key) changed, and the
   * schedules follow. Sections that take effect only at a start are refused
   * and nothing changes.
   */
  reload(next: AgentConfig): Promise<ReloadResult> {
    const run = this.busy.then(() => this.apply(next));
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async apply(next: AgentConfig): Promise<ReloadResult> {
    if (this.stopped) throw new AgentError('STOPPED', 'the agent is stopping');
    const prev = this.current;
    const restartOnly = RESTART_ONLY.filter((k) => !same(prev[k], next[k]));
    if (!same(prev.schedules.flows, next.schedules.flows)) restartOnly.push('schedules.flows' as never);
    if (restartOnly.length) {
      throw new AgentError('RELOAD_NEEDS_RESTART', `${restartOnly.join(', ')} change only with a restart (systemctl restart edge-agent); nothing was changed`);
    }
    const changed: string[] = [];
    this.current = next;
    setLogLevel(next.log.level);
    if (!same(prev.rules, next.rules)) {
      const engine = new RuleEngine(next.rules);
      this.pipeline.replaceRules(engine, this.outbox.loadRuleState());
      changed.push('rules');
    }
    if (!same(prev.odoo, next.odoo) || !same(prev.sync, next.sync)) {
      await this.stopLink();
      this.startLink(next);
      this.setEdgeCheck(next);
      changed.push('odoo');
    }
    const sources = this.opts.withoutSources ? (this.sourceSet.describe(next.sources), { started: [], stopped: [] }) : await this.sourceSet.apply(next.sources);
    const mqttChanged = !same(prev.mqttOut, next.mqttOut);
    if (mqttChanged || changed.includes('odoo') || !same(prev.release, next.release)) {
      await this.orderRelease?.stop();
      this.orderRelease = undefined;
    }
    if (mqttChanged) {
      await this.mqttOut?.stop().catch(() => undefined);
      await this.startMqttOut(next);
      changed.push('mqttOut');
    }
    if (!this.orderRelease && next.release?.enabled) {
      await this.startRelease(next);
      changed.push('release');
    }
    if (
      changed.includes('odoo') ||
      changed.includes('release') ||
      !same(prev.schedules, next.schedules) ||
      !same(prev.reconcile, next.reconcile) ||
      !same(prev.orders, next.orders)
    ) {
      this.jobs?.stop();
      this.startJobs(next);
      changed.push('schedules');
    }
    const result = { changed, sourcesStarted: sources.started, sourcesStopped: sources.stopped };
    this.log.info(result, 'configuration reloaded');
    return result;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.busy;
    this.storage.stop();
    clearInterval(this.clockTimer);
    this.jobs?.stop();
    await this.orderRelease?.stop();
    await this.mqttOut?.stop().catch(() => undefined);
    await this.sourceSet.stopAll();
    await this.stopLink();
    await this.outbox.close();
    this.log.info('agent stopped');
  }

  private readClocks() {
    this.clocks.observeOdoo(this.client?.serverClock?.());
    return this.clocks.readings();
  }

  private part(component: string, fields: Record<string, unknown> = {}): Logger {
    return this.base.child({ component, ...fields });
  }

  private startLink(config: AgentConfig): void {
    if (!config.sync.enabled || (!config.odoo && !this.opts.client)) {
      this.log.warn('no odoo section in the config (or sync disabled): events are buffered, not sent');
      this.link = undefined;
      return;
    }
    const client = this.opts.client ?? createOdooClient(config.odoo!, this.part('odoo'));
    const timeZone = plantTimeZone(config);
    const worker = new SyncWorker({
      outbox: this.outbox,
      client,
      operations: createOperationRegistry({ genericMappings: config.sync.mappings, blockedStartWaitMs: config.sync.blockedStartWaitMs }),
      config: config.sync,
      xmlidModule: `edge_${config.plant.id}`,
      timeZone,
      log: this.part('sync'),
      observe: (o) => this.listeners.forEach((l) => l(o)),
      hold: (r) => {
        const major = client.info?.major ?? 19;
        const reason = closedPeriodHold(r, this.masterData.closedUntil(), (iso) => postingDay(iso, major, timeZone));
        return reason === undefined ? undefined : { reason, code: CLOSED_PERIOD };
      },
    });
    this.link = { client, worker };
    worker.start();
  }

  /** The edge check of every queued event, while events are delivered to Odoo and config does not turn it off. */
  private setEdgeCheck(config: AgentConfig): void {
    this.outbox.setEventCheck(this.link ? edgeCheckOf(config, this.masterData, this.opts.client !== undefined) : undefined);
  }

  /** Master data arrived: events queued before any, and flagged events, are checked (again). */
  private recheck(): void {
    const r = this.outbox.recheck();
    if (r.flagged || r.released) this.log.info(r, 'edge check after the master data refresh');
    if (r.released) this.worker?.wake();
  }

  private async stopLink(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    if (!link) return;
    await link.worker.stop();
    // A client handed in from outside (tests, the demo) is closed by whoever made it.
    if (!this.opts.client) await link.client.close().catch(() => undefined);
  }

  private async startMqttOut(config: AgentConfig): Promise<void> {
    this.mqttOut = undefined;
    if (!config.mqttOut?.enabled) return;
    this.mqttOut = new MqttStatusPublisher({
      config: config.mqttOut,
      plant: config.plant.id,
      version: AGENT_VERSION,
      stateDir: config.stateDir,
      log: this.part('mqtt-out'),
    });
    await this.mqttOut.start().catch((err: unknown) => this.log.error({ err }, `MQTT status publisher did not start: ${errorMessage(err)}`));
  }

  private async startRelease(config: AgentConfig): Promise<void> {
    this.orderRelease = undefined;
    if (!config.release?.enabled) return;
    this.orderRelease = new OrderRelease({
      config: config.release,
      plant: config.plant.id,
      store: this.outbox.release,
      log: this.part('release'),
      odoo: () => (this.link ? { client: this.link.client, connected: () => this.link!.worker.status().circuit === 'closed' } : undefined),
      mqtt: () => this.mqttOut,
      adapters: () => this.adapters,
      claim: (workcenter, claim) => this.pipeline.claimCurrentOrder(workcenter, claim),
      currentClaim: (workcenter) => this.pipeline.currentOrderClaim(workcenter),
    });
    await this.orderRelease.start().catch((err: unknown) => this.log.error({ err }, `order release did not start: ${errorMessage(err)}`));
  }

  /** The order release, when configured (tests, the demo). */
  get release(): OrderRelease | undefined {
    return this.orderRelease;
  }

  private startJobs(config: AgentConfig): void {
    const link = this.link;
    const release = this.orderRelease;
    this.jobs = startSchedules(config, {
      outbox: this.outbox,
      log: this.part('schedules'),
      masterData: this.masterData,
      released: () => this.worker?.wake(),
      release: release && config.release ? { cron: config.release.resync, resync: () => release.read('full') } : undefined,
      refreshed: () => this.recheck(),
      odoo: link ? { client: link.client, connected: () => link.worker.status().circuit === 'closed' } : undefined,
      orders: this.orderSync,
      reconcile: link
        ? () => {
            const until = Date.now();
            return runReconcileJob({
              store: this.outbox.orderSync,
              client: link.client,
              config: this.current,
              since: until - this.current.reconcile.windowHours * 3_600_000,
              until,
              shared: [link.worker.limiter],
              log: this.part('reconcile'),
              by: 'schedule',
            });
          }
        : undefined,
    });
  }

  private makeView(): AgentView {
    const view: Omit<AgentView, 'config'> = {
      startedAt: this.startedAt,
      sources: () => this.sourceSet.statuses(),
      sync: () => this.worker?.status(),
      outbox: this.outbox,
      flows: () => this.outbox.flowStatus().map((f) => ({ ...f, nextFlushAt: this.jobs?.nextRun(`flow:${f.name}`) ?? null })),
      intake: () => ({ ...this.pipeline.counters, bySource: this.pipeline.bySource }),
      storage: () => this.storage.status(),
      release: () => this.orderRelease?.status(),
      clocks: () => ({ readings: this.readClocks(), gatewayStamped: this.clocks.gatewayStamped(), warnOffsetMs: this.current.clocks.warnOffsetS * 1000 }),
      onRequest: (l) => this.listeners.push(l),
      orders: () => this.orderSync.view(),
      lastReconcile: () => this.outbox.orderSync.lastRun<StoredRun['result']>(),
      closedUntil: () => this.masterData.closedUntil(),
      masterDataAt: () => this.masterData.refreshedAt,
    };
    // The configuration the agent runs with now (a reload replaces it).
    return Object.defineProperty(view, 'config', { get: () => this.current, enumerable: true }) as AgentView;
  }

  private makeActions(): AgentActions {
    const outbox = this.outbox;
    // A person's change may make events sendable: the worker looks at once.
    const woken = <T>(n: T): T => {
      if (n) this.worker?.wake();
      return n;
    };
    return {
      retry: (filter, actor) => woken(outbox.retry(filter, actor)),
      skip: (filter, actor, reason) => woken(outbox.skip(filter, actor, reason)),
      edit: (id, field, value, actor) => woken(outbox.edit(id, field, value, actor)),
      postAtOpenDate: (filter, actor) => woken(postAtFirstOpenDate(outbox, this.masterData.closedUntil(), filter, actor)),
      releaseFlow: (name, actor) => {
        const r = outbox.flushFlow(name);
        outbox.audit(actor, 'flush', r);
        woken(r.events);
        return r;
      },
      audit: (actor, action, detail) => outbox.audit(actor, action, detail),
    };
  }
}

export interface ReloadResult {
  /** Parts rebuilt: rules, odoo, mqttOut, release, schedules. */
  changed: string[];
  sourcesStarted: string[];
  sourcesStopped: string[];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });
}
