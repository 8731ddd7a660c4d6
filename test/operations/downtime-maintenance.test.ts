import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventOf } from '../../agent/model/event';
import { mapMessageAsync, templateRuleConfigSchema } from '../../agent/rules/kinds/template';
import { downtimeEnded } from '../../agent/sync/operations/downtime-ended';
import { downtimeStarted } from '../../agent/sync/operations/downtime-started';
import { maintenanceRequested } from '../../agent/sync/operations/maintenance-requested';
import { HeldBackError, OperationError } from '../../agent/sync/operations/types';
import { Fixtures, m2o, read, readId } from './fixtures';
import { ev, onEveryOdoo } from './harness';

const at = (hhmm: string) => `2026-11-26T${hhmm}:00.000Z`;
const odoo = (hhmm: string) => `2026-11-26 ${hhmm}:00`;

onEveryOdoo('downtime and maintenance operations', (s) => {
  const start = downtimeStarted();
  const end = downtimeEnded();
  const maint = maintenanceRequested();

  async function records(workcenterId: number) {
    return read(s.t.odoo, 'mrp.workcenter.productivity', [['workcenter_id', '=', workcenterId]], ['date_start', 'date_end', 'loss_id', 'description']);
  }

  test('start then end: one record; replays change nothing; the end keeps the start time', async () => {
    const fx = new Fixtures(s.t);
    const wc = await fx.workcenter();
    const reason = await fx.lossName();
    const d = `stop-${s.t.run}-1`;
    const e1 = ev('downtime.started', { downtimeId: d, workcenter: wc.name, reason, description: 'jam at infeed' }, { occurredAt: at('08:00') });
    const e2 = ev('downtime.ended', { downtimeId: d, workcenter: wc.code }, { occurredAt: at('08:12') });
    const r1 = await start.execute(e1, s.t.ctx);
    const r2 = await end.execute(e2, s.t.ctx);
    assert.equal(r2.odooIds['mrp.workcenter.productivity'], r1.odooIds['mrp.workcenter.productivity']);
    await start.execute(e1, s.t.ctx);
    await end.execute(e2, s.t.ctx);
    const rows = await records(wc.id);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0]!.date_start, odoo('08:00'));
    assert.equal(rows[0]!.date_end, odoo('08:12'));
    assert.equal(rows[0]!.description, 'jam at infeed');
  });

  test('end before start: the end creates the record, the late start keeps date_end', async () => {
    const fx = new Fixtures(s.t);
    const wc = await fx.workcenter();
    const reason = await fx.lossName();
    const d = `stop-${s.t.run}-2`;
    await end.execute(ev('downtime.ended', { downtimeId: d, workcenter: wc.name, reason, startedAt: at('09:01') }, { occurredAt: at('09:30') }), s.t.ctx);
    let rows = await records(wc.id);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.date_start, odoo('09:01'));
    assert.equal(rows[0]!.date_end, odoo('09:30'));
    await start.execute(ev('downtime.started', { downtimeId: d, workcenter: wc.name, reason }, { occurredAt: at('09:00') }), s.t.ctx);
    rows = await records(wc.id);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.date_start, odoo('09:00'));
    assert.equal(rows[0]!.date_end, odoo('09:30'));
  });

  test("a MES stop with duration_s, mapped by a template rule's expressions, is one closed downtime with Odoo's own loss reason (nothing renamed in Odoo)", async () => {
    const fx = new Fixtures(s.t);
    const wc = await fx.workcenter();
    const reason = await fx.lossName();
    const rule = templateRuleConfigSchema.parse({
      kind: 'template',
      name: 'mes-stops',
      source: 'mes',
      tag: 'mes/stops',
      type: 'downtime.ended',
      // The MES's own codes on the left, Odoo's loss reasons as Odoo names them on the right.
      maps: { lossReasons: { 'MAT-01': reason } },
      payload: {
        downtimeId: "= 'mes-' & value.stopId",
        workcenter: '= value.machine',
        reason: "= $lookup($maps.lossReasons, value.code) ?: 'Equipment Failure'",
        startedAt: '= $fromMillis($toMillis(value.time) - value.duration_s * 1000)',
      },
      occurredAt: '= value.time',
    });
    const message = { stopId: `${s.t.run}-9`, machine: wc.name, code: 'MAT-01', time: at('11:40'), duration_s: 1500 };
    const signal = { source: 'mes', tag: 'mes/stops', value: message, quality: 'good' as const, sourceTime: at('11:41'), receivedAt: at('11:41') };
    const mapped = await mapMessageAsync(rule, signal, { plant: 'p1', now: at('11:41'), facts: { get: () => undefined, set: () => undefined } });
    assert.ok(mapped.ok, mapped.ok ? '' : mapped.reason);
    await end.execute(mapped.event as EventOf<'downtime.ended'>, s.t.ctx);
    const rows = await records(wc.id);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0]!.date_start, odoo('11:15'));
    assert.equal(rows[0]!.date_end, odoo('11:40'));
    const [loss] = await read(s.t.odoo, 'mrp.workcenter.productivity.loss', [['name', '=', reason]], ['id']);
    assert.equal(m2o(rows[0]!.loss_id), loss!.id);
  });

  test('batch: one load for many starts; an unknown reason or work center fails only its own event (and holds back the rest of its key)', async () => {
    const fx = new Fixtures(s.t);
    const wc = await fx.workcenter();
    const reason = await fx.lossName();
    const events = [
      ev('downtime.started', { downtimeId: `b-${s.t.run}-1`, workcenter: wc.name, reason }, { occurredAt: at('10:00'), sequenceKey: 'k1' }),
      ev(
        'downtime.started',
        { downtimeId: `b-${s.t.run}-2`, workcenter: wc.name, reason: `No such reason ${s.t.run}` },
        { occurredAt: at('10:01'), sequenceKey: 'k2' },
      ),
      ev('downtime.started', { downtimeId: `b-${s.t.run}-3`, workcenter: `No such WC ${s.t.run}`, reason }, { occurredAt: at('10:02'), sequenceKey: 'k3' }),
      ev('downtime.started', { downtimeId: `b-${s.t.run}-4`, workcenter: wc.code, reason }, { occurredAt: at('10:03'), sequenceKey: 'k4' }),
      // Behind k3's bad event: must not go ahead of it.
      ev('downtime.started', { downtimeId: `b-${s.t.run}-5`, workcenter: wc.name, reason }, { occurredAt: at('10:04'), sequenceKey: 'k3' }),
    ];
    const out = await start.executeBatch!(events, s.t.ctx);
    assert.equal(out.length, 5);
    assert.ok(!(out[0] instanceof Error) && !(out[3] instanceof Error));
    assert.ok(out[4] instanceof HeldBackError, String(out[4]));
    assert.ok(out[1] instanceof OperationError && out[1].code === 'UNKNOWN_REFERENCE' && /No such reason/.test(out[1].message), String(out[1]));
    assert.ok(out[2] instanceof OperationError && /No such WC/.test(out[2].message), String(out[2]));
    const ends = await end.executeBatch!(
      [0, 3].map((i) => ev('downtime.ended', { downtimeId: `b-${s.t.run}-${i + 1}`, workcenter: wc.name }, { occurredAt: at('10:30') })),
      s.t.ctx,
    );
    assert.ok(
      ends.every((o) => !(o instanceof Error)),
      String(ends),
    );
    const rows = await records(wc.id);
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => r.date_end === odoo('10:30')));
  });

  test('a refused load fails every event in it (so the worker can split the batch)', async () => {
    const fx = new Fixtures(s.t);
    const wc = await fx.workcenter();
    // An end with no reason whose start never arrived cannot be created: Odoo refuses the row.
    const events = [
      ev('downtime.ended', { downtimeId: `r-${s.t.run}-1`, workcenter: wc.name, reason: await fx.lossName() }, { occurredAt: at('11:00') }),
      ev('downtime.ended', { downtimeId: `r-${s.t.run}-2`, workcenter: wc.name }, { occurredAt: at('11:00') }),
    ];
    const out = await end.executeBatch!(events, s.t.ctx);
    assert.ok(out[0] instanceof Error && out[1] instanceof Error, String(out));
    assert.equal((out[1] as { action?: string }).action, 'park');
    assert.equal((await records(wc.id)).length, 0, 'all or nothing');
    // Alone, the good one goes through.
    const alone = await end.executeBatch!([events[0]!], s.t.ctx);
    assert.ok(!(alone[0] instanceof Error), String(alone[0]));
  });

  test('maintenance.requested: created once; a replay keeps what the team changed', async () => {
    const fx = new Fixtures(s.t);
    const eq = await fx.equipment();
    const e = ev('maintenance.requested', { equipment: eq.name, name: 'Spindle vibration high', description: 'vibration 12 mm/s', priority: '2' });
    const r1 = await maint.execute(e, s.t.ctx);
    const id = r1.odooIds['maintenance.request'] as number;
    let row = await readId(s.t.odoo, 'maintenance.request', id, ['name', 'equipment_id', 'priority', 'maintenance_type']);
    assert.equal(m2o(row.equipment_id), eq.id);
    assert.equal(row.priority, '2');
    assert.equal(row.maintenance_type, 'corrective');
    await s.t.admin.call('maintenance.request', 'write', { ids: [id], kwargs: { vals: { priority: '3' } } });
    const r2 = await maint.execute(e, s.t.ctx);
    assert.equal(r2.odooIds['maintenance.request'], id);
    row = await readId(s.t.odoo, 'maintenance.request', id, ['priority']);
    assert.equal(row.priority, '3', "the replay did not overwrite the team's priority");
    const all = await read(s.t.odoo, 'maintenance.request', [['equipment_id', '=', eq.id]], ['id']);
    assert.equal(all.length, 1);
  });

  test('maintenance batch: unknown equipment parks alone', async () => {
    const fx = new Fixtures(s.t);
    const eq = await fx.equipment();
    const out = await maint.executeBatch!(
      [
        ev('maintenance.requested', { equipment: eq.name, name: 'Oil low' }, { sequenceKey: 'eq-1' }),
        ev('maintenance.requested', { equipment: `Ghost press ${s.t.run}`, name: 'Noise' }, { sequenceKey: 'eq-2' }),
        ev('maintenance.requested', { equipment: eq.name, name: 'Belt worn', maintenanceType: 'preventive' }, { sequenceKey: 'eq-3' }),
      ],
      s.t.ctx,
    );
    assert.ok(!(out[0] instanceof Error) && !(out[2] instanceof Error), String(out));
    assert.ok(out[1] instanceof OperationError && out[1].action === 'park' && /Ghost press/.test(out[1].message), String(out[1]));
    const all = await read(s.t.odoo, 'maintenance.request', [['equipment_id', '=', eq.id]], ['name', 'maintenance_type'], { order: 'id' });
    assert.deepEqual(
      all.map((r) => [r.name, r.maintenance_type]),
      [
        ['Oil low', 'corrective'],
        ['Belt worn', 'preventive'],
      ],
    );
  });
});
