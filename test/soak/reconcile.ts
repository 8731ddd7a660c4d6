import Database from 'better-sqlite3';
import { eventOf } from '../../agent/buffer/store';
import type { OdooClient } from '../../agent/odoo/types';
import { sanitizeKey } from '../../agent/sync/operations/odoo-calls';
import type { MqttMessage } from './plant';

/**
 * The end of the soak: what was owed against what Odoo holds, read back from
 * Odoo through its API (the simulator or a real Odoo alike).
 *
 * Owed: every MQTT message the broker acknowledged, and every event the
 * agent's outbox committed (the polled values and scans it read). Each must be
 * in Odoo exactly once (one productivity record, found by its external id),
 * and per sequence key Odoo must have created them in the order they were
 * said (MQTT: publish order; the outbox: its sequence).
 */

export interface OutboxRow {
  seq: number;
  skey: string;
  state: string;
  downtimeId: string;
}

/** Every event of the outbox, oldest first. A plain read-only connection: the agent is stopped by then. */
export function readOutbox(path: string): OutboxRow[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 2000');
  try {
    const rows = db.prepare('SELECT seq, id, type, skey, state, body FROM events ORDER BY seq').all() as Array<{
      seq: number;
      id: string;
      type: string;
      skey: string;
      state: string;
      body: string;
    }>;
    return rows.map((r) => {
      const payload = eventOf(r).payload as { downtimeId?: unknown };
      return { seq: r.seq, skey: r.skey, state: r.state, downtimeId: String(payload.downtimeId ?? '') };
    });
  } finally {
    db.close();
  }
}

export interface Reconciliation {
  /** Owed and not in Odoo (or not delivered). */
  lost: number;
  /** Records in Odoo beyond one per owed fact. */
  doubled: number;
  /** Neighbours of one key that Odoo created in the wrong order. */
  reordered: number;
  eventsCommitted: number;
  eventsInOdoo: number;
  /** The first few of each problem, named. */
  problems: string[];
}

export async function reconcile(opts: {
  admin: OdooClient;
  module: string;
  workcenterIds: number[];
  outbox: OutboxRow[];
  acked: MqttMessage[];
}): Promise<Reconciliation> {
  const { admin, outbox } = opts;
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  const xml = await admin.call<Array<{ name: string; res_id: number }>>('ir.model.data', 'search_read', {
    kwargs: {
      domain: [
        ['module', '=', opts.module],
        ['model', '=', 'mrp.workcenter.productivity'],
      ],
      fields: ['name', 'res_id'],
    },
  });
  const recordOf = new Map(xml.map((x) => [x.name, x.res_id]));
  const records = await admin.call<Array<{ id: number }>>('mrp.workcenter.productivity', 'search_read', {
    kwargs: { domain: [['workcenter_id', 'in', opts.workcenterIds]], fields: ['id'] },
  });
  const inOdoo = (downtimeId: string) => recordOf.get(`downtime_${sanitizeKey(downtimeId)}`);

  let lost = 0;
  const byDowntime = new Map<string, OutboxRow>();
  for (const row of outbox) {
    byDowntime.set(row.downtimeId, row);
    if (row.state !== 'done') {
      lost++;
      note(`${row.downtimeId} (key ${row.skey}) is ${row.state} in the outbox, not delivered`);
    } else if (inOdoo(row.downtimeId) === undefined) {
      lost++;
      note(`${row.downtimeId} (key ${row.skey}) is done in the outbox but not in Odoo`);
    }
  }
  for (const m of opts.acked) {
    if (!byDowntime.has(m.id)) {
      lost++;
      note(`MQTT message ${m.id} was acknowledged by the broker but never committed by the agent`);
    }
  }

  // Order: per key, Odoo's record ids follow the outbox sequence; MQTT keys follow the publish order too.
  let reordered = 0;
  const keys = new Map<string, OutboxRow[]>();
  for (const row of outbox) keys.set(row.skey, [...(keys.get(row.skey) ?? []), row]);
  for (const [skey, rows] of keys) {
    const ids = rows.map((r) => inOdoo(r.downtimeId)).filter((id): id is number => id !== undefined);
    for (let i = 1; i < ids.length; i++) {
      if (ids[i]! < ids[i - 1]!) {
        reordered++;
        note(`key ${skey}: ${rows[i]!.downtimeId} was created in Odoo before the event ahead of it`);
      }
    }
  }
  const mqttKeys = new Map<number, MqttMessage[]>();
  for (const m of opts.acked) mqttKeys.set(m.key, [...(mqttKeys.get(m.key) ?? []), m]);
  for (const [key, msgs] of mqttKeys) {
    const seqs = msgs.map((m) => byDowntime.get(m.id)?.seq).filter((s): s is number => s !== undefined);
    const sorted = [...msgs].sort((a, b) => a.n - b.n);
    if (sorted.some((m, i) => m !== msgs[i])) note(`MQTT key ${key}: acknowledged out of publish order (broker)`);
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i]! < seqs[i - 1]!) {
        reordered++;
        note(`MQTT key ${key}: ${msgs[i]!.id} committed before the message published ahead of it`);
      }
    }
  }

  const owed = new Set(xml.map((x) => x.res_id));
  const doubled = Math.max(0, records.length - owed.size) + (xml.length - owed.size);
  if (doubled > 0) note(`${records.length} productivity records on the soak's work centers for ${owed.size} external ids (${xml.length} rows)`);
  return { lost, doubled, reordered, eventsCommitted: outbox.length, eventsInOdoo: records.length, problems };
}
