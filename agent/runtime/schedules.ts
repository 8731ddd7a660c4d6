import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { SqliteOutbox } from '../buffer/sqlite-outbox';
import { AT_SHIFT_CHANGE, plantTimeZone } from '../config/clocks';
import type { AgentConfig } from '../config/schema';
import { dayStart, nextShiftChange, plantDay } from '../model/plant-time';
import { AgentError, errorMessage } from '../errors';
import type { Logger } from '../log';
import type { OdooClient } from '../odoo/types';
import type { MasterDataCache } from '../sync/master-data';

/** The fixed jobs, and one `flow:<name>` per configured batch or roll-up flow. */
export type JobName = 'retention' | 'masterData' | 'reconciliation' | 'release' | 'reconcile' | `flow:${string}`;

export interface Schedules {
  stop(): void;
  /** Run one job now (the CLI, tests, and the first master-data pull). Rejects with UNKNOWN_JOB for a name that is not scheduled. */
  run(name: JobName): Promise<unknown>;
  /** When a job fires next (ms), or null when it is not scheduled. */
  nextRun(name: JobName): number | null;
}

export interface ScheduleDeps {
  outbox: SqliteOutbox;
  log: Logger;
  /** The Odoo link, when delivery is configured. */
  odoo?: { client: OdooClient; connected(): boolean };
  masterData: MasterDataCache;
  /** The order release's full read of Odoo, when the release is configured. */
  release?: { cron: string; resync(): Promise<unknown> };
  /** Reconciliation against Odoo over the configured window (reconcile.schedule; skipped while Odoo does not answer). */
  reconcile?: () => Promise<unknown>;
  /** The per-order sync view, refreshed every orders.refreshSeconds. */
  orders?: { refresh(): Promise<unknown> };
  /** Called after a flow put events in the queue (wakes the sync worker). */
  released?: () => void;
  /** Called after master data was refreshed from Odoo (the edge check looks again at what waits). */
  refreshed?: () => void;
  now?: () => number;
}

const DAY = 86_400_000;

/** A timer for `@shift-change` never waits longer than this before looking again (a clock that was set, a long shift). */
const SHIFT_TIMER_MAX_MS = 3_600_000;

/** One scheduled job: stop it, and when it fires next. */
interface Task {
  stop(): void;
  next(): number | null;
}

/**
 * The scheduled jobs, from config (cron expressions, in plant time):
 * retention, master-data refresh, daily reconciliation report, the order
 * release's full read, and each batch or roll-up flow (on its cron, or at
 * each shift change).
 */
export function startSchedules(config: AgentConfig, deps: ScheduleDeps): Schedules {
  const now = deps.now ?? Date.now;
  const jobs = new Map<JobName, { cron: string; run: () => Promise<unknown> }>();
  const fixed: Record<'retention' | 'masterData' | 'reconciliation', () => Promise<unknown>> = {
    retention: async () => {
      const t = now();
      const r = deps.outbox.prune(t - config.outbox.retention.doneDays * DAY, t - config.outbox.retention.invalidDays * DAY);
      deps.log.info(r, 'retention: pruned finished events, released flow members and old invalid input');
      return r;
    },
    masterData: async () => {
      if (!deps.odoo) return undefined;
      if (!deps.odoo.connected()) {
        deps.log.info('master data refresh skipped: Odoo is not reachable now; the cached data stays in use');
        return undefined;
      }
      const counts = await deps.masterData.refresh(deps.odoo.client);
      deps.refreshed?.();
      return counts;
    },
    reconciliation: async () => writeReconciliation(config, deps.outbox, now(), deps.log),
  };
  for (const name of Object.keys(fixed) as Array<keyof typeof fixed>) jobs.set(name, { cron: config.schedules[name], run: fixed[name] });
  if (deps.release) jobs.set('release', { cron: deps.release.cron, run: () => deps.release!.resync() });
  if (deps.odoo && deps.reconcile && config.reconcile.schedule !== 'off') {
    const run = deps.reconcile;
    const odoo = deps.odoo;
    jobs.set('reconcile', {
      cron: config.reconcile.schedule,
      run: async () => {
        if (odoo.connected()) return run();
        deps.log.info('reconcile skipped: Odoo is not reachable now');
        return undefined;
      },
    });
  }
  for (const flow of config.schedules.flows) {
    jobs.set(`flow:${flow.name}`, { cron: flow.cron, run: async () => flushFlow(deps, flow.name) });
  }
  const timezone = plantTimeZone(config);
  const tasks = new Map<JobName, Task>();
  for (const [name, job] of jobs) {
    const fire = () => job.run().catch((err: unknown) => deps.log.error({ err, job: name }, `scheduled job ${name} failed: ${errorMessage(err)}`));
    if (job.cron === AT_SHIFT_CHANGE) {
      tasks.set(name, atShiftChanges(config, timezone, fire, now));
      continue;
    }
    // The promise goes back to node-cron, so noOverlap can skip a fire while the last run is still busy.
    const task: ScheduledTask = cron.schedule(job.cron, fire, { name, noOverlap: true, timezone });
    tasks.set(name, { stop: () => void task.stop(), next: () => task.getNextRun()?.getTime() ?? null });
  }
  const masterData = fixed.masterData;
  // Master data: pull once as soon as Odoo answers, then on the schedule.
  let first: NodeJS.Timeout | undefined;
  if (deps.odoo) {
    const tryFirst = () => {
      first = undefined;
      if (deps.odoo!.connected()) {
        masterData().catch((err: unknown) => deps.log.warn({ err }, `first master data pull failed: ${errorMessage(err)}`));
      } else first = setTimeout(tryFirst, 2000);
    };
    first = setTimeout(tryFirst, 500);
  }
  // The per-order view: Odoo's side read every refreshSeconds (one refresh at a time; a failed read keeps the cache).
  let ordersTimer: NodeJS.Timeout | undefined;
  let ordersFirst: NodeJS.Timeout | undefined;
  if (deps.orders && config.orders.refreshSeconds > 0) {
    const orders = deps.orders;
    const tick = () => orders.refresh().catch((err: unknown) => deps.log.warn({ err }, `orders view refresh failed: ${errorMessage(err)}`));
    ordersTimer = setInterval(tick, config.orders.refreshSeconds * 1000);
    ordersTimer.unref();
    ordersFirst = setTimeout(tick, 1000);
    ordersFirst.unref();
  }
  return {
    stop: () => {
      if (ordersTimer) clearInterval(ordersTimer);
      if (ordersFirst) clearTimeout(ordersFirst);
      if (first) clearTimeout(first);
      for (const t of tasks.values()) t.stop();
    },
    run: (name) => {
      const job = jobs.get(name);
      if (!job) return Promise.reject(new AgentError('UNKNOWN_JOB', `no scheduled job ${name} (jobs: ${[...jobs.keys()].join(', ')})`));
      return job.run();
    },
    nextRun: (name) => tasks.get(name)?.next() ?? null,
  };
}

/** Fire at every shift change of plant.shifts, in plant time (a shift change is an instant, DST included). */
function atShiftChanges(config: AgentConfig, timezone: string, fire: () => Promise<unknown>, now: () => number): Task {
  let timer: NodeJS.Timeout | undefined;
  let due = nextShiftChange(now(), timezone, config.plant.shifts);
  let running: Promise<unknown> | undefined;
  const arm = () => {
    timer = setTimeout(
      () => {
        const t = now();
        if (t >= due) {
          due = nextShiftChange(t, timezone, config.plant.shifts);
          if (!running) running = fire().finally(() => (running = undefined));
        }
        arm();
      },
      Math.min(Math.max(0, due - now()), SHIFT_TIMER_MAX_MS),
    );
    timer.unref();
  };
  arm();
  return { stop: () => clearTimeout(timer), next: () => due };
}

/** A flow's schedule fired: its held events go into the queue in one transaction, then the sync worker is woken. */
function flushFlow(deps: ScheduleDeps, name: string) {
  const r = deps.outbox.flushFlow(name);
  if (r.events) deps.released?.();
  if (r.members) deps.log.info(r, `flow ${name}: ${r.members} held events went into the queue as ${r.events} events (${r.keys} keys)`);
  else deps.log.debug(r, `flow ${name}: nothing held`);
  return r;
}

/**
 * The daily reconciliation report: for the plant's day before `at` (plant
 * time: 23 or 25 hours over a DST change), how many events of each type
 * arrived and where they stand now (done, parked, ...). Written as JSON under
 * <stateDir>/reports and logged.
 */
export function writeReconciliation(config: AgentConfig, outbox: SqliteOutbox, at: number, log: Logger): { file: string; rows: unknown[] } {
  const timezone = plantTimeZone(config);
  const end = dayStart(plantDay(at, timezone), timezone);
  const day = plantDay(end - 1, timezone);
  const start = dayStart(day, timezone);
  // Events held by batch and roll-up flows are received too: what arrived that day, and whether it is still held.
  const { received: rows, flows } = outbox.arrivals(start, end);
  const dir = join(config.stateDir, 'reports');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `reconciliation-${day}.json`);
  const counts = outbox.counts();
  const window = { timezone, from: new Date(start).toISOString(), to: new Date(end).toISOString() };
  writeFileSync(file, `${JSON.stringify({ plant: config.plant.id, day, ...window, received: rows, flows, now: counts }, null, 2)}\n`);
  log.info({ day, file, rows, flows, parked: counts.parked }, 'reconciliation report written');
  return { file, rows };
}
