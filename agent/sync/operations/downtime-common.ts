import type { EventOf } from '../../model/event';
import { lookupsFor } from './lookup';
import { externalId, keyedLoad, odooDatetime, type KeyedLoadMode } from './odoo-calls';
import { KeyOrderGuard, type OperationContext, type OperationOptions, type OperationOutcome } from './types';

/**
 * One stop of a work center is ONE mrp.workcenter.productivity record, keyed
 * `<module>.downtime_<downtimeId>`, written by both events:
 *   start: upsert workcenter_id, loss_id, date_start, description (never date_end);
 *   end:   (1) create-if-missing with workcenter, loss, date_start = startedAt ?? occurredAt, date_end,
 *          (2) upsert date_end.
 * So an end that arrives before its start still makes a complete record, and
 * the late start then corrects date_start and keeps date_end. Every step is a
 * keyed load, so a replay changes nothing. Many events of the same kind go in
 * one load per step (executeBatch).
 */

export const PRODUCTIVITY_MODEL = 'mrp.workcenter.productivity';

type Started = EventOf<'downtime.started'>;
type Ended = EventOf<'downtime.ended'>;

export function downtimeXmlid(ctx: OperationContext, downtimeId: string): string {
  return externalId(ctx.xmlidModule, 'downtime', downtimeId);
}

interface Prepared<R> {
  index: number;
  xmlid: string;
  row: R;
}

/**
 * Resolve each event's names into a row; events whose names are unknown get
 * their OperationError and stay out of the load. Then one load per step; a
 * refused load gives its error to every event in it (the worker splits).
 */
async function runSteps<E extends { sequenceKey: string }>(
  events: E[],
  ctx: OperationContext,
  prepare: (e: E) => Promise<{ xmlid: string; steps: string[][] }>,
  steps: Array<{ fields: string[]; mode: KeyedLoadMode }>,
): Promise<Array<OperationOutcome | Error>> {
  const out: Array<OperationOutcome | Error | undefined> = new Array(events.length);
  const ready: Array<Prepared<string[][]>> = [];
  const guard = new KeyOrderGuard();
  for (let i = 0; i < events.length; i++) {
    const held = guard.heldBack(events[i]!);
    if (held) {
      out[i] = held;
      continue;
    }
    try {
      const p = await prepare(events[i]!);
      ready.push({ index: i, xmlid: p.xmlid, row: p.steps });
    } catch (err) {
      out[i] = err instanceof Error ? err : new Error(String(err));
      guard.failed(events[i]!);
    }
  }
  let alive = ready;
  for (let s = 0; s < steps.length && alive.length > 0; s++) {
    const step = steps[s]!;
    // The same downtime twice in one batch (a replayed fact) is one row.
    const firstOf = new Map<string, number>();
    const rows: string[][] = [];
    for (const r of alive) {
      if (!firstOf.has(r.xmlid)) {
        firstOf.set(r.xmlid, rows.length);
        rows.push(r.row[s]!);
      }
    }
    try {
      const ids = await keyedLoad(ctx, PRODUCTIVITY_MODEL, step.fields, rows, step.mode);
      for (const r of alive) out[r.index] = { odooIds: { [PRODUCTIVITY_MODEL]: ids[firstOf.get(r.xmlid)!]! } };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const r of alive) out[r.index] = e;
      alive = [];
    }
  }
  return out.map((o) => o ?? new Error('downtime event was not sent'));
}

const START_FIELDS = ['id', 'workcenter_id/.id', 'loss_id/.id', 'date_start', 'description'];
const END_CREATE_FIELDS = ['id', 'workcenter_id/.id', 'loss_id/.id', 'date_start', 'date_end'];
const END_FIELDS = ['id', 'date_end'];

export async function sendStarts(events: Started[], ctx: OperationContext, opts: OperationOptions): Promise<Array<OperationOutcome | Error>> {
  const look = lookupsFor(ctx.odoo, opts.lookupTtlMs);
  return runSteps(
    events,
    ctx,
    async (e) => {
      const p = e.payload;
      const [wc, loss] = await Promise.all([look.workcenter(p.workcenter), look.loss(p.reason)]);
      const xmlid = downtimeXmlid(ctx, p.downtimeId);
      return { xmlid, steps: [[xmlid, String(wc), String(loss), odooDatetime(e.occurredAt), p.description ?? '']] };
    },
    [{ fields: START_FIELDS, mode: 'upsert' }],
  );
}

export async function sendEnds(events: Ended[], ctx: OperationContext, opts: OperationOptions): Promise<Array<OperationOutcome | Error>> {
  const look = lookupsFor(ctx.odoo, opts.lookupTtlMs);
  return runSteps(
    events,
    ctx,
    async (e) => {
      const p = e.payload;
      // The reason is only needed when the start never arrived: an existing
      // record is left as it is by the create-if-missing step. Without one,
      // Odoo refuses to create the record (loss reason is required) and the
      // event parks with Odoo's message.
      const [wc, loss] = await Promise.all([look.workcenter(p.workcenter), p.reason === undefined ? undefined : look.loss(p.reason)]);
      const xmlid = downtimeXmlid(ctx, p.downtimeId);
      const end = odooDatetime(e.occurredAt);
      const start = odooDatetime(p.startedAt ?? e.occurredAt);
      return {
        xmlid,
        steps: [
          [xmlid, String(wc), loss === undefined ? '' : String(loss), start, end],
          [xmlid, end],
        ],
      };
    },
    [
      { fields: END_CREATE_FIELDS, mode: 'create' },
      { fields: END_FIELDS, mode: 'upsert' },
    ],
  );
}
