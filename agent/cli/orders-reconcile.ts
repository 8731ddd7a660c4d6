import { Agent, request } from 'undici';
import { loadConfigFile } from '../config/load';
import type { AgentConfig } from '../config/schema';
import { AgentError } from '../errors';
import { formatAge } from '../http/format';
import { componentLogger } from '../log';
import { toOdooError } from '../odoo/classify';
import { createOdooClient } from '../odoo/client';
import { OrderSync } from '../sync/order-sync';
import type { OrderSyncRow, OrderSyncView } from '../sync/order-view';
import { runReconcileJob } from '../sync/reconcile/job';
import { checkTypes, formatReport, replayCommand, totals } from '../sync/reconcile/reconcile';
import { withOutbox } from './open-outbox';

/** Exit codes these commands use (main.ts's EXIT, plus 3: reconcile found records that are missing, duplicated or differ). */
const CODE = { ok: 0, discrepancies: 3, unavailable: 69, configInvalid: 78 } as const;

/**
 * `edge-agent orders`: the running agent's per-order sync view (/api/orders),
 * or, when it does not answer, the same view made from the outbox file and
 * Odoo's side as last read (saying how old that is).
 */
export async function printOrders(config: AgentConfig, json: boolean, all: boolean): Promise<number> {
  let view = !all && config.http.enabled ? await askAgentOrders(config.http) : undefined;
  const live = view !== undefined;
  view ??= await withOutbox(config, (outbox) => new OrderSync({ store: outbox.orderSync }).offline(all));
  process.stdout.write(json ? `${JSON.stringify({ live, ...view }, null, 2)}\n` : `${formatOrders(view, live, Date.now())}\n`);
  return CODE.ok;
}

async function askAgentOrders(http: AgentConfig['http']): Promise<OrderSyncView | undefined> {
  const dispatcher = http.tls ? new Agent({ connect: { rejectUnauthorized: false } }) : undefined;
  try {
    const res = await request(`${http.tls ? 'https' : 'http'}://127.0.0.1:${http.port}/api/orders`, { headersTimeout: 2000, bodyTimeout: 5000, dispatcher });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return undefined;
    }
    return (await res.body.json()) as OrderSyncView;
  } catch {
    return undefined;
  } finally {
    await dispatcher?.close();
  }
}

export function formatOrders(v: OrderSyncView, live: boolean, now: number): string {
  const head = `${live ? 'from the running agent' : 'agent not running: from the outbox file'}; Odoo's side ${v.odooReadAt === null ? 'never read' : `read ${formatAge(v.odooReadAt, now)}`}`;
  const counts = Object.entries(v.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  if (v.orders.length === 0) return `${head}\nno open orders with events from this plant`;
  return [head, `${v.orders.length} orders: ${counts}`, ...v.orders.map((r) => orderLine(r, now))].join('\n');
}

function orderLine(r: OrderSyncRow, now: number): string {
  const o = r.odoo;
  const odoo = o
    ? `Odoo ${o.state}, ${o.state === 'done' ? o.qtyProduced : o.qtyProducing}/${o.productQty} produced, ${o.scrapped} scrapped (read ${formatAge(o.readAt, now)})`
    : 'Odoo not read';
  const plant = `plant ${r.plant.produced ?? '-'} produced; events ${r.plant.done} done, ${r.plant.pending} to send, ${r.plant.parked} parked`;
  return `${r.order.padEnd(16)} ${r.verdict.padEnd(8)} ${r.text}\n  ${odoo}\n  ${plant}`;
}

export interface ReconcileArgs {
  configPath: string;
  since?: string;
  until?: string;
  type?: string;
  json: boolean;
  actor: string;
  /** ` --config FILE` for the replay line, when not the default file. */
  configArg: string;
}

/** A time given on the command line: ISO 8601; anything else is a usage error naming the option. */
export function parseTime(option: string, value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new AgentError('USAGE', `${option}: ${JSON.stringify(value)} is not a time (ISO 8601, e.g. 2026-11-01T00:00:00Z or 2026-11-01)`);
  return ms;
}

/**
 * `edge-agent reconcile`: read back from Odoo what the events delivered in a
 * window wrote, report what is missing, duplicated or differs, and print the
 * `outbox replay` line for the missing ones. Exit 0 when everything was found
 * as sent, 3 when not, 69 when Odoo does not answer, 78 without an odoo section.
 */
export async function reconcileCommand(a: ReconcileArgs): Promise<number> {
  // The window and types are checked before anything is opened or asked.
  const types = a.type
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (types) checkTypes(types);
  const until = a.until !== undefined ? parseTime('--until', a.until) : Date.now();
  const config = loadConfigFile(a.configPath).config;
  const since = a.since !== undefined ? parseTime('--since', a.since) : until - config.reconcile.windowHours * 3_600_000;
  if (since > until) throw new AgentError('USAGE', `--since (${new Date(since).toISOString()}) is after --until (${new Date(until).toISOString()})`);
  if (!config.odoo) {
    process.stderr.write(`${a.configPath}: no odoo section, so nothing to reconcile against\n`);
    return CODE.configInvalid;
  }
  const client = createOdooClient(config.odoo, componentLogger('reconcile').child({}, { level: 'warn' }));
  try {
    return await withOutbox(config, async (outbox) => {
      let report;
      try {
        report = await runReconcileJob({ store: outbox.orderSync, client, config, since, until, types, by: a.actor });
      } catch (err) {
        const e = toOdooError(err);
        if (e.action === 'down' || e.action === 'retry') {
          process.stderr.write(`edge-agent: cannot reach Odoo at ${config.odoo!.url}: ${e.message}\n`);
          return CODE.unavailable;
        }
        throw err;
      }
      const replay = replayCommand(report, a.configArg);
      process.stdout.write(
        a.json ? `${JSON.stringify({ ...report, totals: totals(report), replay: replay ?? null }, null, 2)}\n` : `${formatReport(report, a.configArg)}\n`,
      );
      const t = totals(report);
      return t.missing || t.duplicated || t.differs ? CODE.discrepancies : CODE.ok;
    });
  } finally {
    await client.close();
  }
}
