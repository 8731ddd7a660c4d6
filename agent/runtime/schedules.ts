import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { SqliteOutbox } from '../buffer/sqlite-outbox';
import type { AgentConfig } from '../config/schema';
import { AgentError, errorMessage } from '../errors';
import type { Logger } from '../log';
import type { OdooClient } from '../odoo/types';
import type { MasterDataCache } from '../sync/master-data';

/** The fixed jobs, and one `flow:<name>` per configured batch or roll-up flow. */
export type JobName = 'retention' | 'masterData' | 'reconciliation' | `flow:${string}`;

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
  /** Called after a flow put events in the queue (wakes the sync worker). */
  released?: () => void;
  /** Called after master data was refreshed from Odoo (the edge check looks again at what waits). */
  refreshed?: () => void;
  now?: () => number;
}

const DAY = 86_400_000;

/**
 * The scheduled jobs, from config (cron expressions): retention, master-data
 * refresh, daily reconciliation report, and each batch or roll-up flow.
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
  for (const flow of config.schedules.flows) {
    jobs.set(`flow:${flow.name}`, { cron: flow.cron, run: async () => flushFlow(deps, flow.name) });
  }
  const tasks = new Map<JobName, ScheduledTask>();
  for (const [name, job] of jobs) {
    tasks.set(
      name,
      cron.schedule(
        job.cron,
        // The promise goes back to node-cron, so noOverlap can skip a fire while the last run is still busy.
        () => job.run().catch((err: unknown) => deps.log.error({ err, job: name }, `scheduled job ${name} failed: ${errorMessage(err)}`)),
        { name, noOverlap: true },
      ),
    );
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
  return {
    stop: () => {
      if (first) clearTimeout(first);
      for (const t of tasks.values()) void t.stop();
    },
    run: (name) => {
      const job = jobs.get(name);
      if (!job) return Promise.reject(new AgentError('UNKNOWN_JOB', `no scheduled job ${name} (jobs: ${[...jobs.keys()].join(', ')})`));
      return job.run();
    },
    nextRun: (name) => tasks.get(name)?.getNextRun()?.getTime() ?? null,
  };
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
 * The daily reconciliation report: for the day before `at` (UTC), how many
 * events of each type arrived and where they stand now (done, parked, ...).
 * Written as JSON under <stateDir>/reports and logged.
 */
export function writeReconciliation(config: AgentConfig, outbox: SqliteOutbox, at: number, log: Logger): { file: string; rows: unknown[] } {
  const end = Math.floor(at / DAY) * DAY;
  const start = end - DAY;
  // Events held by batch and roll-up flows are received too: what arrived that day, and whether it is still held.
  const { received: rows, flows } = outbox.arrivals(start, end);
  const day = new Date(start).toISOString().slice(0, 10);
  const dir = join(config.stateDir, 'reports');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `reconciliation-${day}.json`);
  const counts = outbox.counts();
  writeFileSync(file, `${JSON.stringify({ plant: config.plant.id, day, received: rows, flows, now: counts }, null, 2)}\n`);
  log.info({ day, file, rows, flows, parked: counts.parked }, 'reconciliation report written');
  return { file, rows };
}
