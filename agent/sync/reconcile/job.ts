import type { OrderSyncStore } from '../../buffer/order-sync-store';
import type { AgentConfig } from '../../config/schema';
import type { Logger } from '../../log';
import type { OdooClient } from '../../odoo/types';
import { RateLimiter, takeAll } from '../rate-limit';
import { reconcile, totals, type ReconcileReport } from './reconcile';

export interface ReconcileJobInput {
  store: OrderSyncStore;
  client: OdooClient;
  config: AgentConfig;
  since: number;
  until: number;
  types?: string[];
  /** Limiters besides reconcile's own (the sync worker's, inside the agent). */
  shared?: readonly RateLimiter[];
  log?: Logger;
  /** Who started it: `schedule`, or `cli:<user>`. */
  by: string;
}

/** Run one reconciliation within reconcile.maxRequestsPerSecond (and the shared limiters), keep its result in the outbox file, log it. */
export async function runReconcileJob(input: ReconcileJobInput): Promise<ReconcileReport> {
  const c = input.config.reconcile;
  const own = new RateLimiter(c.maxRequestsPerSecond, 1);
  const limiters = [own, ...(input.shared ?? [])];
  const started = Date.now();
  const report = await reconcile(input.store, input.client, {
    since: input.since,
    until: input.until,
    types: input.types,
    idsPerCall: c.idsPerCall,
    xmlidModule: `edge_${input.config.plant.id}`,
    mappedModels: new Map(input.config.sync.mappings.map((m) => [m.eventType, m.model])),
    beforeRequest: () => takeAll(limiters),
  });
  input.store.saveRun(started, Date.now(), { ...report, by: input.by });
  const t = totals(report);
  const fields = { by: input.by, since: report.since, until: report.until, ...t, requests: report.requests };
  if (t.missing || t.duplicated || t.differs)
    input.log?.warn(fields, `reconcile: ${t.missing} missing, ${t.duplicated} duplicated, ${t.differs} differing in Odoo`);
  else input.log?.info(fields, `reconcile: all ${t.checked} delivered events found as sent`);
  return report;
}

/** The last run as the page and metrics read it. */
export type StoredRun = { startedAt: number; finishedAt: number; result: ReconcileReport & { by?: string } };
