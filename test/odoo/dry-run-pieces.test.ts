/**
 * The pure parts of the Odoo dry run: "closest name" ranking, Odoo's clock
 * from Date headers, what a config names and sends, and the table of rights
 * per event type kept in step with the operations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../agent/config/load';
import { closestNames, editDistance } from '../../agent/odoo/dry-run/closest';
import { needsOf, type QualityApp } from '../../agent/odoo/dry-run/needs';
import { planQuestions } from '../../agent/odoo/dry-run/plan';
import { configDemands } from '../../agent/odoo/dry-run/references';
import { ServerClock } from '../../agent/odoo/server-clock';
import { builtinOperations } from '../../agent/sync/operations';
import { LINE_SOURCE } from '../helpers/dry-run-config';

describe('closest names', () => {
  it('edit distance', () => {
    for (const [a, b, d] of [
      ['', '', 0],
      ['press', 'press', 0],
      ['press', 'pres', 1],
      ['kitten', 'sitting', 3],
      ['', 'abc', 3],
    ] as const) {
      assert.equal(editDistance(a, b), d, `${a} / ${b}`);
    }
  });

  it('ranks typos, case, missing words and contained names; leaves out the rest', () => {
    const names = ['Assembly Line 1', 'Assembly Line 2', 'Drill Station 1', 'CNC Machining', 'Test Bench'];
    const table: Array<[string, string[]]> = [
      ['Asembly Line 1', ['Assembly Line 1', 'Assembly Line 2']],
      ['assembly line 1', ['Assembly Line 1']],
      ['Drill 1', ['Drill Station 1']],
      ['Asembly 1', ['Assembly Line 1']],
      ['CNC', ['CNC Machining']],
      ['Paint Shop', []],
    ];
    for (const [name, want] of table) assert.deepEqual(closestNames(name, names), want, name);
    assert.deepEqual(closestNames('Materal Availability', ['Material Availability', 'Equipment Failure', 'Reduced Speed']), ['Material Availability']);
    assert.equal(closestNames('x', ['a', 'b', 'c', 'd', 'e'], 2).length, 2, 'at most `limit`');
  });
});

describe("Odoo's clock from Date headers", () => {
  const at = (ms: number) => new Date(ms).toUTCString();

  it('one answer places the offset within a second plus the round trip', () => {
    const c = new ServerClock();
    assert.equal(c.estimate(), undefined);
    // Odoo is 30.4 s ahead; the request left at t=1000.2 s and came back 40 ms later.
    const sent = 1_000_200;
    c.add(at(sent + 20 + 30_400), sent, sent + 40);
    const e = c.estimate()!;
    assert.ok(Math.abs(e.offsetMs - 30_400) <= e.uncertaintyMs, JSON.stringify(e));
    assert.ok(e.uncertaintyMs <= 520);
  });

  it('answers across second boundaries narrow the window; a stepped clock starts it again', () => {
    const c = new ServerClock();
    const offset = -2_345;
    for (let t = 5_000_000; t < 5_003_000; t += 97) c.add(at(t + 5 + offset), t, t + 10);
    const e = c.estimate()!;
    assert.ok(Math.abs(e.offsetMs - offset) <= e.uncertaintyMs && e.uncertaintyMs <= 20, JSON.stringify(e));
    c.add(at(6_000_000 + 60_000), 6_000_000, 6_000_010);
    assert.equal(c.estimate()!.samples, 1, 'a window that no longer overlaps starts again');
    assert.ok(Math.abs(c.estimate()!.offsetMs - 60_000) < 1000);
    c.add(undefined, 1, 2);
    c.add('not a date', 1, 2);
    assert.equal(c.estimate()!.samples, 1, 'no header, no sample');
  });
});

const BASE = `plant:
  id: dry
${LINE_SOURCE}`;

describe('what a config names in Odoo and sends to it', () => {
  it('names at their paths, constants of templates, event types per rule', () => {
    const config = parseConfigText(
      `${BASE}rules:
  - { kind: state, name: s, source: line, tag: st, workcenter: Press 1, runningCodes: [1], codes: { "12": { reason: Setup } } }
  - { kind: counter, name: c, source: line, tag: ct, production: WH/MO/00042, uom: Units }
  - { kind: order, name: o, source: line, tag: ot, workcenter: Press 1, emitStarted: true, workorder: Pressing }
  - { kind: threshold, name: t, source: line, tag: oil, equipment: Press P-10, above: 80 }
  - kind: template
    name: tp
    source: line
    tag: scrap
    type: scrap.reported
    payload: { product: "{{value.code}}", quantity: "{{value.qty}}", location: WH/Scrap Bin, lot: LOT-7 }
  - { kind: capture, name: cp, source: line, tag: q, event: quality.recorded, fields: { test: Leak test, result: pass } }
  - { kind: template, name: any, source: line, tag: any, type: "{{value.type}}", payload: {} }
  - { kind: event, name: mes, source: line, tag: mes, types: [inventory.moved] }
  - { kind: state, name: off, enabled: false, source: line, tag: x, workcenter: Nowhere, edge: rising }
`,
      'plant.yaml',
    );
    const d = configDemands(config);
    const refs = d.references.map((r) => `${r.kind} ${r.name} @${r.path.join('.')}${r.isDefault ? ' (default)' : ''}`);
    assert.deepEqual(refs, [
      'workcenter Press 1 @rules.0.workcenter',
      'loss Setup @rules.0.codes.12.reason',
      'loss Equipment Failure @rules.0.reason (default)',
      'production WH/MO/00042 @rules.1.production',
      'uom Units @rules.1.uom',
      'workcenter Press 1 @rules.2.workcenter',
      'operation Pressing @rules.2.workorder',
      'equipment Press P-10 @rules.3.equipment',
      'location WH/Scrap Bin @rules.4.payload.location',
      'lot LOT-7 @rules.4.payload.lot',
      'qualityTest Leak test @rules.5.fields.test',
    ]);
    const certain = d.uses.filter((u) => u.certain).map((u) => `${u.type}${u.variant ? `:${u.variant}` : ''} @${u.path.join('.')}`);
    assert.deepEqual(certain, [
      'downtime.started @rules.0',
      'downtime.ended @rules.0',
      'production.reported @rules.1',
      'workorder.started @rules.2',
      'maintenance.requested @rules.3',
      'scrap.reported @rules.4',
      'quality.recorded @rules.5',
      'inventory.moved @rules.7',
    ]);
    assert.equal(d.uses.filter((u) => !u.certain && u.path[1] === 6).length, 11, 'a templated type may be any type');
    assert.ok(!d.references.some((r) => r.name === 'Nowhere'), 'a disabled rule asks nothing');
  });

  it('one question per model for all its names, rights once however many rules need them', () => {
    const config = parseConfigText(
      `${BASE}rules:
  - { kind: state, name: a, source: line, tag: a, workcenter: Press 1, edge: rising }
  - { kind: state, name: b, source: line, tag: b, workcenter: Press 2, edge: rising, reason: Setup }
sync:
  mappings:
    - { eventType: scrap.reported, model: x_scrap_log, fields: { x_name: "{{payload.product}}" }, onReplay: keep }
`,
      'plant.yaml',
    );
    const q = planQuestions(configDemands(config), 19, new Set(['stock', 'mrp', 'product', 'uom']));
    assert.deepEqual([...q.lookups.get('mrp.workcenter')!.names], ['Press 1', 'Press 2']);
    assert.deepEqual([...q.lookups.get('mrp.workcenter.productivity.loss')!.names], ['Equipment Failure', 'Setup']);
    assert.ok(q.rights.has('mrp.workcenter.productivity:create') && q.rights.has('mrp.workcenter.productivity:write'));
    assert.ok(q.rights.has('x_scrap_log:create') && !q.rights.has('x_scrap_log:write'), 'onReplay keep only creates');
    assert.ok(q.fieldModels.has('x_scrap_log'));
  });
});

describe('rights per event type', () => {
  it('name every model each operation writes, on every version and with either quality app', () => {
    for (const major of [17, 18, 19]) {
      for (const op of builtinOperations()) {
        const written = new Set<string>();
        for (const variant of ['count', 'transfer'] as const) {
          for (const quality of ['quality_control', 'quality_control_oca'] as QualityApp[]) {
            for (const m of needsOf(op.type, variant, major, quality).models) {
              if (m.rights.includes('create') || m.rights.includes('write')) written.add(m.model);
            }
          }
        }
        for (const model of op.models(major)) assert.ok(written.has(model), `${op.type} on ${major} writes ${model}: add it to needs.ts`);
      }
    }
  });

  it('inventory counts need a stock manager on Odoo 17 only', () => {
    assert.deepEqual(
      needsOf('inventory.moved', 'count', 17).groups.map((g) => g.group),
      ['stock.group_stock_manager'],
    );
    assert.deepEqual(needsOf('inventory.moved', 'count', 18).groups, []);
    assert.deepEqual(needsOf('inventory.moved', 'transfer', 17).groups, []);
  });
});
