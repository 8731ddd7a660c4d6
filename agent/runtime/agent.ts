import { mkdirSync } from 'node:fs';
import { SqliteOutbox } from '../buffer/sqlite-outbox';
import { registerBuiltins } from './builtins';
import type { AgentConfig } from '../config/schema';
import { errorMessage } from '../errors';
import { rootLogger, type Logger } from '../log';
import { createOdooClient } from '../odoo/client';
import type { OdooClient } from '../odoo/types';
import { Pipeline } from './pipeline';
import { adapterKind } from '../protocols/registry';
import type { AdapterHealth, SourceAdapter } from '../protocols/types';
import { RuleEngine } from '../rules/engine';
import { startSchedules, type Schedules } from './schedules';
import { MqttStatusPublisher } from '../protocols/mqtt/publisher';
import { MasterDataCache } from '../sync/master-data';
import { AGENT_VERSION } from '../version';
import { createOperationRegistry } from '../sync/operations/index';
import { SyncWorker, type RequestObservation } from '../sync/worker';
import { StorageWatch } from './storage-watch';
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
  readonly schedules: Schedules;
  readonly startedAt: number;
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
  // Each part logs with its own `component` (a child of a child would repeat the key in every line).
  const base = opts.log ?? rootLogger();
  const log = base.child({ component: 'agent' });
  const part = (component: string, fields: Record<string, unknown> = {}) => base.child({ component, ...fields });
  mkdirSync(config.stateDir, { recursive: true });
  const started = Date.now();
  const outbox = new SqliteOutbox({
    path: config.outbox.path,
    synchronous: config.outbox.synchronous,
    windowMs: config.outbox.groupCommit.windowMs,
    maxBatch: config.outbox.groupCommit.maxBatch,
    maxEvents: config.outbox.maxEvents,
    log: part('outbox'),
    flows: config.schedules.flows,
  });
  // Events held for a flow the config no longer has (or no longer holds their type in) go into the queue now.
  for (const r of outbox.releaseUnscheduledFlows()) {
    log.warn(r, `flow ${r.flow} is no longer configured for ${r.members} held events: they went into the queue as ${r.events} events`);
  }
  const listeners: Array<(o: RequestObservation) => void> = [];

  const engine = new RuleEngine(config.rules);
  engine.loadState(outbox.loadRuleState());

  let worker: SyncWorker | undefined;
  let client: OdooClient | undefined = opts.client;
  if (config.sync.enabled && (config.odoo || client)) {
    client ??= createOdooClient(config.odoo!, part('odoo'));
    worker = new SyncWorker({
      outbox,
      client,
      operations: createOperationRegistry({ genericMappings: config.sync.mappings }),
      config: config.sync,
      xmlidModule: `edge_${config.plant.id}`,
      log: part('sync'),
      observe: (o) => listeners.forEach((l) => l(o)),
    });
  } else {
    log.warn('no odoo section in the config (or sync disabled): events are buffered, not sent');
  }

  const masterData = new MasterDataCache(outbox.masterData, part('master-data'));
  const pipeline = new Pipeline(outbox, engine, {
    plant: config.plant.id,
    log: part('pipeline'),
    masterData: () => (masterData.filled ? masterData : undefined),
    committed: () => worker?.wake(),
  });

  const adapters: SourceAdapter[] = [];
  const sourceConfigs = config.sources as Array<{ name: string; type: string; enabled: boolean }>;
  if (!opts.withoutSources) {
    for (const sc of sourceConfigs) {
      if (!sc.enabled) continue;
      const kind = adapterKind(sc.type)!;
      const slog = part(sc.type, { source: sc.name });
      const adapter = kind.factory.create(sc, {
        log: slog,
        stateDir: config.stateDir,
        plant: config.plant.id,
        emit: (signals) => pipeline.emit(signals),
        reject: (input) => pipeline.reject(input),
      });
      adapters.push(adapter);
    }
  }
  worker?.start();
  for (const a of adapters) {
    // A source that cannot connect now keeps trying in the background; it shows on the status page.
    await a.start().catch((err: unknown) => log.error({ err, source: a.name }, `source ${a.name} did not start: ${errorMessage(err)}`));
  }
  let mqttOut: MqttStatusPublisher | undefined;
  if (config.mqttOut?.enabled) {
    mqttOut = new MqttStatusPublisher({
      config: config.mqttOut,
      plant: config.plant.id,
      version: AGENT_VERSION,
      stateDir: config.stateDir,
      log: part('mqtt-out'),
    });
    await mqttOut.start().catch((err: unknown) => log.error({ err }, `MQTT status publisher did not start: ${errorMessage(err)}`));
  }
  const schedules: Schedules = startSchedules(config, {
    outbox,
    log: part('schedules'),
    masterData,
    released: () => worker?.wake(),
    odoo: worker && client ? { client, connected: () => worker!.status().circuit === 'closed' } : undefined,
  });
  log.info({ plant: config.plant.id, sources: adapters.map((a) => a.name), outbox: config.outbox.path, sync: Boolean(worker) }, 'agent started');

  const storage = new StorageWatch({
    outboxPath: config.outbox.path,
    maxEvents: config.outbox.maxEvents,
    lowDiskMb: config.outbox.warnings.lowDiskMb,
    highWater: config.outbox.warnings.highWater,
    stored: () => outbox.counts().unfinished + outbox.heldEvents,
    write: () => outbox.writeHealth(),
    log: part('storage'),
  });
  let stopped = false;
  const view: AgentView = {
    config,
    startedAt: started,
    sources: () =>
      sourceConfigs.map((sc) => {
        const a = adapters.find((x) => x.name === sc.name);
        const h: AdapterHealth = a ? a.health() : { connected: false, lastDataAt: null, lastError: null };
        return { name: sc.name, type: sc.type, enabled: sc.enabled, ...h };
      }),
    sync: () => worker?.status(),
    outbox,
    flows: () => outbox.flowStatus().map((f) => ({ ...f, nextFlushAt: schedules.nextRun(`flow:${f.name}`) })),
    intake: () => ({ ...pipeline.counters, bySource: pipeline.bySource }),
    storage: () => storage.status(),
    onRequest: (l) => listeners.push(l),
  };
  // A person's change may make events sendable: the worker looks at once.
  const woken = <T>(n: T): T => {
    if (n) worker?.wake();
    return n;
  };
  const actions: AgentActions = {
    retry: (filter, actor) => woken(outbox.retry(filter, actor)),
    skip: (filter, actor, reason) => woken(outbox.skip(filter, actor, reason)),
    edit: (id, field, value, actor) => woken(outbox.edit(id, field, value, actor)),
    releaseFlow: (name, actor) => {
      const r = outbox.flushFlow(name);
      outbox.audit(actor, 'flush', r);
      woken(r.events);
      return r;
    },
    audit: (actor, action, detail) => outbox.audit(actor, action, detail),
  };
  return {
    view,
    actions,
    config,
    outbox,
    pipeline,
    worker,
    client,
    adapters,
    masterData,
    schedules,
    startedAt: started,
    async stop() {
      if (stopped) return;
      stopped = true;
      storage.stop();
      schedules.stop();
      await mqttOut?.stop().catch(() => undefined);
      for (const a of adapters) await a.stop().catch((err: unknown) => log.warn({ err, source: a.name }, 'source did not stop cleanly'));
      await worker?.stop();
      await client?.close().catch(() => undefined);
      await outbox.close();
      log.info('agent stopped');
    },
  };
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
