import type { EventOf } from '../../model/event';
import { formatPlantTime, plantDay } from '../../model/plant-time';
import { lookupsFor } from './lookup';
import { externalId, keyedLoad, odooDatetime } from './odoo-calls';
import { KeyOrderGuard, type Operation, type OperationContext, type OperationOptions, type OperationOutcome } from './types';

type Requested = EventOf<'maintenance.requested'>;

const MODEL = 'maintenance.request';
const FIELDS = ['id', 'name', 'equipment_id/.id', 'maintenance_type', 'priority', 'description', 'request_date'];

/** The request's description with the time of the request in the plant's zone and in UTC (request_date keeps only the day). */
export function requestDescription(e: Requested, timeZone = 'UTC'): string {
  const utc = `${odooDatetime(e.occurredAt)} UTC`;
  const when = timeZone === 'UTC' ? `Requested at ${utc}.` : `Requested at ${formatPlantTime(Date.parse(e.occurredAt), timeZone, true)} ${timeZone} (${utc}).`;
  return e.payload.description ? `${e.payload.description}\n\n${when}` : when;
}

/**
 * maintenance.requested: a maintenance.request (17/18/19) keyed
 * `<module>.maintenance_<event id>`, with name, equipment (by name or serial
 * number), maintenance_type, priority, description, and the plant's time:
 * request_date is the plant's day of occurredAt (OperationContext.timeZone,
 * UTC when unset) and the description ends with the full time, in the
 * plant's zone and in UTC. Created once: a replay
 * returns the existing request and never overwrites what the maintenance team
 * changed since (stage, priority, notes). Batchable: one load() for many.
 */
export function maintenanceRequested(opts: OperationOptions = {}): Operation<Requested> {
  async function send(events: Requested[], ctx: OperationContext): Promise<Array<OperationOutcome | Error>> {
    const look = lookupsFor(ctx.odoo, opts.lookupTtlMs);
    const out: Array<OperationOutcome | Error | undefined> = new Array(events.length);
    const rows: string[][] = [];
    /** Event index -> row index (the same event twice in a batch is one row). */
    const rowOf = new Map<number, number>();
    const byXmlid = new Map<string, number>();
    const guard = new KeyOrderGuard();
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const held = guard.heldBack(e);
      if (held) {
        out[i] = held;
        continue;
      }
      try {
        const equipment = await look.equipment(e.payload.equipment);
        const xmlid = externalId(ctx.xmlidModule, 'maintenance', e.id);
        const seen = byXmlid.get(xmlid);
        if (seen !== undefined) {
          rowOf.set(i, seen);
          continue;
        }
        byXmlid.set(xmlid, rows.length);
        rowOf.set(i, rows.length);
        rows.push([
          xmlid,
          e.payload.name,
          String(equipment),
          e.payload.maintenanceType,
          e.payload.priority,
          requestDescription(e, ctx.timeZone),
          plantDay(Date.parse(e.occurredAt), ctx.timeZone ?? 'UTC'),
        ]);
      } catch (err) {
        out[i] = err instanceof Error ? err : new Error(String(err));
        guard.failed(e);
      }
    }
    if (rows.length > 0) {
      try {
        const ids = await keyedLoad(ctx, MODEL, FIELDS, rows, 'create');
        for (const [i, k] of rowOf) out[i] = { odooIds: { [MODEL]: ids[k]! } };
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        for (const i of rowOf.keys()) out[i] = e;
      }
    }
    return out.map((o) => o ?? new Error('maintenance request was not sent'));
  }
  return {
    type: 'maintenance.requested',
    models: () => [MODEL],
    async execute(event, ctx) {
      const [r] = await send([event], ctx);
      if (r instanceof Error) throw r;
      return r!;
    },
    executeBatch: send,
  };
}
