import type { OrderSyncStore } from '../../buffer/order-sync-store';
import type { OutboxRecord } from '../../buffer/outbox';
import { AgentError } from '../../errors';
import { EVENT_TYPES } from '../../model/event';
import type { OdooClient } from '../../odoo/types';
import { findExternalId, m2oId } from '../operations/odoo-calls';
import type { OperationContext } from '../operations/types';
import { CHECKS, fieldsOf, mappedCheck, type FieldDifference, type Row, type TypeCheck } from './checks';

/**
 * Reconciliation against Odoo: every event the outbox calls done in a window
 * is read back from Odoo (by the record ids stored with it; by its external id
 * where none were stored) and checked: the record exists, once, and holds
 * what the event says. Reads are batched (`idsPerCall` ids per search_read)
 * and each request waits for `beforeRequest` (the shared rate limit).
 */

export interface ReconcileOptions {
  since: number;
  until: number;
  /** Only these event types (default all). */
  types?: string[];
  /** Events read from the outbox per page (default 2000): the downtime stops of a page are searched for duplicates in one request. */
  pageSize?: number;
  /** Record ids per search_read (default 500). */
  idsPerCall?: number;
  /** External-id module of this plant (`edge_<plant>`), for events stored without ids. */
  xmlidModule: string;
  /** Generic mappings: event type -> model (their events are checked for existence). */
  mappedModels?: ReadonlyMap<string, string>;
  beforeRequest?: () => Promise<void>;
  /** How many events of each list the report keeps (the counts stay exact). Default 1000. */
  keep?: number;
  now?: () => number;
}

export interface ReconcileEntry {
  id: string;
  type: string;
  model: string | null;
  recordId: number | null;
  what?: string;
  differences?: FieldDifference[];
}

export interface TypeCounts {
  checked: number;
  ok: number;
  missing: number;
  duplicated: number;
  differs: number;
  unverifiable: number;
}

export interface ReconcileReport {
  since: string;
  until: string;
  types: string[] | null;
  startedAt: string;
  finishedAt: string;
  checked: number;
  requests: number;
  byType: Record<string, TypeCounts>;
  missing: ReconcileEntry[];
  duplicated: ReconcileEntry[];
  differs: ReconcileEntry[];
  /** Ids of the missing events (all of them): what `outbox replay` re-sends. */
  replayIds: string[];
}

/** Check a `--type` list: every name must be an event type. Throws USAGE naming the unknown ones. */
export function checkTypes(types: readonly string[]): void {
  const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length)
    throw new AgentError('USAGE', `unknown event type ${unknown.map((t) => JSON.stringify(t)).join(', ')} (types: ${EVENT_TYPES.join(', ')})`);
}

export async function reconcile(store: OrderSyncStore, odoo: OdooClient, opts: ReconcileOptions): Promise<ReconcileReport> {
  const now = opts.now ?? Date.now;
  const started = now();
  if (opts.types) checkTypes(opts.types);
  const major = odoo.info?.major ?? (await odoo.connect()).major;
  const pageSize = opts.pageSize ?? 2000;
  const idsPerCall = opts.idsPerCall ?? 500;
  const keep = opts.keep ?? 1000;
  const report: ReconcileReport = {
    since: new Date(opts.since).toISOString(),
    until: new Date(opts.until).toISOString(),
    types: opts.types ?? null,
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
    checked: 0,
    requests: 0,
    byType: {},
    missing: [],
    duplicated: [],
    differs: [],
    replayIds: [],
  };
  const call = async <T>(model: string, method: string, kwargs: Record<string, unknown>): Promise<T> => {
    await opts.beforeRequest?.();
    report.requests++;
    return odoo.call<T>(model, method, { kwargs, context: { active_test: false } });
  };
  const searchRead = async (model: string, domain: unknown[], fields: string[]) => (await call<Row[]>(model, 'search_read', { domain, fields })) ?? [];
  const latestTotal = store.latestDone('production.reported');
  const checkOf = (type: string): TypeCheck | undefined => {
    const mapped = opts.mappedModels?.get(type);
    return mapped ? mappedCheck(mapped) : CHECKS[type];
  };
  const count = (type: string): TypeCounts => (report.byType[type] ??= { checked: 0, ok: 0, missing: 0, duplicated: 0, differs: 0, unverifiable: 0 });
  const ctxForXmlid = {
    odoo: { call: (m: string, meth: string, p?: { kwargs?: Record<string, unknown> }) => call(m, meth, p?.kwargs ?? {}) },
  } as unknown as OperationContext;

  let after: { at: number; seq: number } | undefined;
  for (;;) {
    const page = store.doneBetween(opts.since, opts.until, opts.types, after, pageSize);
    if (page.length === 0) break;
    const last = page[page.length - 1]!;
    after = { at: last.updatedAt, seq: last.seq };

    // Which records to read back, per model.
    const wanted = new Map<string, Set<number>>();
    const want = (model: string, id: number) => (wanted.get(model) ?? wanted.set(model, new Set()).get(model)!).add(id);
    const recs: OutboxRecord[] = [];
    for (const rec of page) {
      const check = checkOf(rec.type);
      if (!check) continue;
      let targets = check.targets(rec);
      if (!targets) {
        // Stored without ids: find its record by external id (one request per event: the slow path).
        const key = check.externalId?.(rec.event, opts.xmlidModule);
        const id = key ? await findExternalId(ctxForXmlid, key.xmlid) : undefined;
        if (key && id !== undefined) {
          const ids = { [key.model]: id };
          rec.odooIds = ids;
          targets = [{ model: key.model, id }];
        } else if (key) {
          rec.odooIds = { [key.model]: [] };
        }
      }
      for (const t of targets ?? []) want(t.model, t.id);
      recs.push(rec);
    }
    const rows = new Map<string, Map<number, Row>>();
    const readAll = async (model: string, ids: Iterable<number>, fields: string[]) => {
      const list = [...ids];
      const into = rows.get(model) ?? rows.set(model, new Map()).get(model)!;
      for (let i = 0; i < list.length; i += idsPerCall) {
        for (const r of await searchRead(model, [['id', 'in', list.slice(i, i + idsPerCall)]], fields)) into.set(r.id as number, r);
      }
    };
    for (const [model, ids] of wanted) await readAll(model, ids, fieldsOf(model, major));

    // Downtime records: their work centers and loss reasons by id, and other records of the same stop (duplicates).
    const downtime = [...(rows.get('mrp.workcenter.productivity')?.values() ?? [])];
    const duplicatesOf = new Map<number, number[]>();
    if (downtime.length) {
      const wcs = new Set(downtime.map((r) => m2oId(r.workcenter_id)).filter((x): x is number => x !== undefined));
      const losses = new Set(downtime.map((r) => m2oId(r.loss_id)).filter((x): x is number => x !== undefined));
      await readAll('mrp.workcenter', wcs, ['id', 'name', 'code']);
      await readAll('mrp.workcenter.productivity.loss', losses, ['id', 'name']);
      const starts = [...new Set(downtime.map((r) => r.date_start).filter((x): x is string => typeof x === 'string'))];
      for (let i = 0; i < starts.length; i += pageSize) {
        const same = await searchRead(
          'mrp.workcenter.productivity',
          [
            ['workcenter_id', 'in', [...wcs]],
            ['date_start', 'in', starts.slice(i, i + pageSize)],
          ],
          ['id', 'workcenter_id', 'date_start'],
        );
        const byStop = new Map<string, number[]>();
        for (const r of same) {
          const k = `${m2oId(r.workcenter_id)}|${String(r.date_start)}`;
          byStop.set(k, [...(byStop.get(k) ?? []), r.id as number]);
        }
        for (const ids of byStop.values()) if (ids.length > 1) for (const id of ids) duplicatesOf.set(id, ids);
      }
    }

    const ctx = { major, latestTotal, read: (model: string, id: number) => rows.get(model)?.get(id) };
    for (const rec of recs) {
      const c = count(rec.type);
      c.checked++;
      report.checked++;
      const f = checkOf(rec.type)!.verify(rec, ctx);
      const dupIds = f.status !== 'missing' ? duplicateOf(rec, duplicatesOf) : undefined;
      if (dupIds) {
        c.duplicated++;
        if (report.duplicated.length < keep)
          report.duplicated.push({
            id: rec.id,
            type: rec.type,
            model: 'mrp.workcenter.productivity',
            recordId: dupIds[0]!,
            what: `${dupIds.length} records of one stop: ${dupIds.join(', ')}`,
          });
      } else if (f.status === 'ok') c.ok++;
      else if (f.status === 'unverifiable') c.unverifiable++;
      else if (f.status === 'missing') {
        c.missing++;
        report.replayIds.push(rec.id);
        if (report.missing.length < keep) report.missing.push({ id: rec.id, type: rec.type, model: f.model, recordId: f.recordId, what: f.what });
      } else {
        c.differs++;
        if (report.differs.length < keep) report.differs.push({ id: rec.id, type: rec.type, model: f.model, recordId: f.recordId, differences: f.differences });
      }
    }
  }
  report.finishedAt = new Date(now()).toISOString();
  return report;
}

function duplicateOf(rec: OutboxRecord, duplicatesOf: ReadonlyMap<number, number[]>): number[] | undefined {
  if (rec.type !== 'downtime.started' && rec.type !== 'downtime.ended') return undefined;
  const id = rec.odooIds?.['mrp.workcenter.productivity'];
  return typeof id === 'number' ? duplicatesOf.get(id) : undefined;
}

/** The totals of a report: events per result over all types. */
export function totals(r: Pick<ReconcileReport, 'byType'>): TypeCounts {
  const t: TypeCounts = { checked: 0, ok: 0, missing: 0, duplicated: 0, differs: 0, unverifiable: 0 };
  for (const c of Object.values(r.byType)) for (const k of Object.keys(t) as Array<keyof TypeCounts>) t[k] += c[k];
  return t;
}

/** The command that re-sends the missing events (safe: every operation is idempotent), or undefined when none is missing. */
export function replayCommand(r: Pick<ReconcileReport, 'replayIds'>, configArg = ''): string | undefined {
  if (r.replayIds.length === 0) return undefined;
  return `edge-agent outbox replay${configArg} ${r.replayIds.join(' ')}`;
}

/** The report as lines for a person. */
export function formatReport(r: ReconcileReport, configArg = '', shown = 20): string {
  const t = totals(r);
  const lines = [
    `reconciled ${r.checked} done events delivered ${r.since} .. ${r.until}${r.types ? ` (${r.types.join(', ')})` : ''} in ${r.requests} Odoo requests: ` +
      `${t.ok} as sent, ${t.missing} missing, ${t.duplicated} duplicated, ${t.differs} differing, ${t.unverifiable} not verifiable`,
  ];
  for (const [type, c] of Object.entries(r.byType).sort())
    lines.push(
      `  ${type.padEnd(22)} ${c.checked} checked, ${c.missing} missing, ${c.duplicated} duplicated, ${c.differs} differing, ${c.unverifiable} not verifiable`,
    );
  const list = (title: string, entries: ReconcileEntry[], text: (e: ReconcileEntry) => string) => {
    if (!entries.length) return;
    lines.push(`${title}:`);
    for (const e of entries.slice(0, shown)) lines.push(`  ${e.id}  ${e.type}  ${e.model ?? ''}${e.recordId ? ` ${e.recordId}` : ''}  ${text(e)}`);
    if (entries.length > shown) lines.push(`  ... and ${entries.length - shown} more (--json lists them)`);
  };
  list('missing', r.missing, (e) => e.what ?? '');
  list('duplicated', r.duplicated, (e) => e.what ?? '');
  list('differing', r.differs, (e) =>
    (e.differences ?? []).map((d) => `${d.field}: event ${JSON.stringify(d.event)}, Odoo ${JSON.stringify(d.odoo)}`).join('; '),
  );
  const replay = replayCommand(r, configArg);
  if (replay) lines.push(`re-send the missing events (safe: each is idempotent):`, `  ${replay}`);
  return lines.join('\n');
}
