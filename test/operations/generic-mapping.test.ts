import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EVENT_TYPES } from '../../agent/model/event';
import { genericMappingOperation, genericMappingSchema, mappingRow, renderTemplate } from '../../agent/sync/operations/generic-mapping';
import { createOperationRegistry } from '../../agent/sync/operations/index';
import { Fixtures, m2o, read, readId } from './fixtures';
import { ev, onEveryOdoo } from './harness';

describe('generic mapping config', () => {
  const base = { eventType: 'downtime.started', model: 'x_machine_log', fields: { x_name: '{{payload.workcenter}}', x_when: '{{occurredAt}}' } };

  test('defaults: key is the event id, a replay updates', () => {
    const m = genericMappingSchema.parse(base);
    assert.equal(m.key, '{{id}}');
    assert.equal(m.onReplay, 'update');
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['unknown option', { ...base, modle: 'x' }, /modle/],
    ['unknown event type', { ...base, eventType: 'machine.exploded' }, /eventType/],
    ['payload field the type does not have', { ...base, fields: { x_name: '{{payload.machine}}' } }, /no payload field .*machine/],
    ['not an event field', { ...base, fields: { x_name: '{{operator}}' } }, /not an event field/],
    ['bad Odoo field name', { ...base, fields: { 'x name': '{{id}}' } }, /Odoo field name/],
    ['id set as a field', { ...base, fields: { id: '{{id}}' } }, /external id/],
    ['key without placeholder', { ...base, key: 'always-the-same' }, /placeholder/],
    ['no fields', { ...base, fields: {} }, /at least one field/],
    ['bad model name', { ...base, model: 'X Machine' }, /model name/],
  ];
  for (const [what, input, message] of bad) {
    test(`rejects ${what}`, () => {
      const r = genericMappingSchema.safeParse(input);
      assert.equal(r.success, false);
      assert.match(JSON.stringify(r.error?.issues), message);
    });
  }

  test('templates: values as load() reads them, times in naive UTC', () => {
    const e = ev('downtime.started', { downtimeId: 'd1', workcenter: 'Press 1', reason: 'Jam' }, { occurredAt: '2026-11-26T09:15:30.250+01:00' });
    assert.equal(renderTemplate('{{occurredAt}}', e), '2026-11-26 08:15:30');
    assert.equal(renderTemplate('{{payload.workcenter}} / {{payload.reason}}', e), 'Press 1 / Jam');
    assert.equal(renderTemplate('{{payload.description}}', e), '', 'a missing value is empty (False in Odoo)');
    const q = ev('quality.recorded', { test: 'Diameter', result: 'pass', measure: 12.5 });
    assert.equal(renderTemplate('{{ payload.measure }}', q), '12.5');
  });

  test('row: external id from the key, columns in field order', () => {
    const m = genericMappingSchema.parse({ ...base, key: '{{payload.downtimeId}}' });
    const e = ev('downtime.started', { downtimeId: 'WC 1/stop 7', workcenter: 'Press 1', reason: 'Jam' });
    const r = mappingRow(m, e, 'edge_plant1');
    assert.deepEqual(r.fields, ['id', 'x_name', 'x_when']);
    assert.match(r.row[0]!, /^edge_plant1\.x_machine_log_WC_1_stop_7_[0-9a-f]{10}$/);
    assert.equal(r.row[1], 'Press 1');
  });

  test('registry: one operation per event type; a mapping takes its type over', () => {
    const plain = createOperationRegistry();
    assert.deepEqual([...plain.keys()].sort(), [...EVENT_TYPES].sort());
    const mapping = genericMappingSchema.parse(base);
    const mapped = createOperationRegistry({ genericMappings: [mapping] });
    assert.deepEqual(mapped.get('downtime.started')!.models(19), ['x_machine_log']);
    assert.notDeepEqual(plain.get('downtime.started')!.models(19), ['x_machine_log']);
    assert.throws(() => createOperationRegistry({ genericMappings: [mapping, mapping] }), /two generic mappings/);
  });
});

onEveryOdoo('generic mapping into an Odoo model', (s) => {
  test('keyed load: one record per key, a replay updates it, relations by name', async () => {
    const fx = new Fixtures(s.t);
    const eq = await fx.equipment();
    // maintenance.request stands in for a plant's own x_ model: any model the agent may write.
    const op = genericMappingOperation(
      genericMappingSchema.parse({
        eventType: 'maintenance.requested',
        model: 'maintenance.request',
        fields: { name: '{{payload.name}} ({{source}})', equipment_id: '{{payload.equipment}}', description: '{{payload.description}}' },
        key: '{{payload.equipment}}-{{payload.name}}',
      }),
    );
    const e1 = ev('maintenance.requested', { equipment: eq.name, name: 'Check belt', description: 'first' });
    const e2 = ev('maintenance.requested', { equipment: eq.name, name: 'Check belt', description: 'second' });
    const [r1, r2] = await op.executeBatch!([e1], s.t.ctx).then(async (a) => [a[0], (await op.executeBatch!([e2], s.t.ctx))[0]]);
    assert.ok(r1 && !(r1 instanceof Error) && r2 && !(r2 instanceof Error), String(r1) + String(r2));
    assert.equal(r2.odooIds['maintenance.request'], r1.odooIds['maintenance.request'], 'same key, same record');
    const row = await readId(s.t.odoo, 'maintenance.request', r1.odooIds['maintenance.request'] as number, ['name', 'equipment_id', 'description']);
    assert.equal(row.name, 'Check belt (ops-test)');
    assert.equal(m2o(row.equipment_id), eq.id);
    assert.match(String(row.description), /second/);
    assert.equal((await read(s.t.odoo, 'maintenance.request', [['equipment_id', '=', eq.id]], ['id'])).length, 1);
  });
});
