import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { SqliteOutbox } from './buffer/sqlite-outbox';
import type { AgentConfig } from './config/schema';
import { errorMessage } from './errors';
import type { Logger } from './log';
import type { OdooClient } from './odoo/types';
import type { MasterDataCache } from './sync/master-data';

export type JobName = 'retention' | 'masterData' | 'reconciliation';

export interface Schedules {
  stop(): void;
  /** Run one job now (the CLI, tests, and the first master-data pull). */
  run(name: JobName): Promise<unknown>;
}

export interface ScheduleDeps {
  outbox: SqliteOutbox;
  log: Logger;
  /** The Odoo link, when delivery is configured. */
  odoo?: { client: OdooClient; connected(): boolean };
  masterData: MasterDataCache;
  now?: () => number;
}

const DAY = 86_400_000;

/** The scheduled jobs, from config (cron expressions): retention, master-data refresh, daily reconciliation report. */
export function startSchedules(config: AgentConfig, deps: ScheduleDeps): Schedules {
  const now = deps.now ?? Date.now;
  const jobs: Record<JobName, () => Promise<unknown>> = {
    retention: async () => {
      const t = now();
      const r = deps.outbox.prune(t - config.outbox.retention.doneDays * DAY, t - config.outbox.retention.invalidDays * DAY);
      deps.log.info(r, 'retention: pruned finished events and old invalid input');
      return r;
    },
    masterData: async () => {
      if (!deps.odoo) return undefined;
      if (!deps.odoo.connected()) {
        deps.log.info('master data refresh skipped: Odoo is not reachable now; the cached data stays in use');
        return undefined;
      }
      return deps.masterData.refresh(deps.odoo.client);
    },
    reconciliation: async () => writeReconciliation(config, deps.outbox, now(), deps.log),
  };
  const tasks: ScheduledTask[] = [];
  for (const name of Object.keys(jobs) as JobName[]) {
    tasks.push(
      cron.schedule(
        config.schedules[name],
        () => {
          jobs[name]().catch((err: unknown) => deps.log.error({ err, job: name }, `scheduled job ${name} failed: ${errorMessage(err)}`));
        },
        { name, noOverlap: true },
      ),
    );
  }
  // Master data: pull once as soon as Odoo answers, then on the schedule.
  let first: NodeJS.Timeout | undefined;
  if (deps.odoo) {
    const tryFirst = () => {
      first = undefined;
      if (deps.odoo!.connected()) {
        jobs.masterData().catch((err: unknown) => deps.log.warn({ err }, `first master data pull failed: ${errorMessage(err)}`));
      } else first = setTimeout(tryFirst, 2000);
    };
    first = setTimeout(tryFirst, 500);
  }
  return {
    stop: () => {
      if (first) clearTimeout(first);
      for (const t of tasks) void t.stop();
    },
    run: (name) => jobs[name](),
  };
}

/**
 * The daily reconciliation report: for the day before `at` (UTC), how many
 * events of each type arrived and where they stand now (done, parked, ...).
 * Written as JSON under <stateDir>/reports and logged.
 */
export function writeReconciliation(config: AgentConfig, outbox: SqliteOutbox, at: number, log: Logger): { file: string; rows: unknown[] } {
  const end = Math.floor(at / DAY) * DAY;
  const start = end - DAY;
  const rows = outbox.database
    .prepare(`SELECT type, state, count(*) AS events FROM events WHERE created_at >= ? AND created_at < ? GROUP BY type, state ORDER BY type, state`)
    .all(start, end);
  const day = new Date(start).toISOString().slice(0, 10);
  const dir = join(config.stateDir, 'reports');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `reconciliation-${day}.json`);
  const counts = outbox.counts();
  writeFileSync(file, `${JSON.stringify({ plant: config.plant.id, day, received: rows, now: counts }, null, 2)}\n`);
  log.info({ day, file, rows, parked: counts.parked }, 'reconciliation report written');
  return { file, rows };
}
