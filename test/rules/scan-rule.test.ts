import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalEventSchema, type CanonicalEvent } from '../../agent/model/event';
import type { Signal } from '../../agent/model/signal';
import { ScanRule, scanRuleConfigSchema, type ScanRuleInput, type ScanRuleState } from '../../agent/rules/kinds/scan';
import type { FactStore, MasterDataLookup, RuleContext } from '../../agent/rules/types';
import { GS } from '../../agent/rules/kinds/scan-gs1';
import { fakeMasterData } from './fake-master-data';

const GTIN14 = '09506000134352'; // product 1 (lot tracked), stored as EAN-13 9506000134352
const EAN13 = '4006381333931'; // product 2 (not tracked), stored as GTIN-14

const baseConfig: ScanRuleInput = {
  kind: 'scan',
  name: 'station-1',
  source: 'scanner-1',
  classify: [
    { as: 'order', prefix: 'WH/MO/' },
    { as: 'badge', prefix: 'EMP', stripPrefix: true },
    { as: 'location', prefix: 'LOC:', stripPrefix: true },
    { as: 'product', prefix: 'P:', stripPrefix: true },
    { as: 'lot', prefix: 'LOT:', stripPrefix: true },
    { as: 'quantity', prefix: 'QTY', stripPrefix: true },
    { as: 'clear', prefix: 'CLEAR' },
    { as: 'lot', pattern: '^INT:(?<product>[^|]+)\\|(?<lot>[^|]+)(\\|(?<quantity>[0-9.]+))?$' },
  ],
  moveFrom: 'WH/Stock',
};

type Step =
  | { scan: string; at?: string; events: Array<{ type: CanonicalEvent['type']; sequenceKey?: string; payload: Record<string, unknown> }> }
  | { scan: string; at?: string; invalid: RegExp };

interface Scenario {
  name: string;
  config?: Partial<ScanRuleInput>;
  /** Default: master data available. */
  offline?: boolean;
  steps: Step[];
}

const none: [] = [];

const scenarios: Scenario[] = [
  {
    name: 'order, badge, then GS1 component labels: each becomes material.consumed for the order',
    steps: [
      { scan: 'WH/MO/00042', events: none },
      { scan: 'EMP0042', events: none },
      {
        scan: `]d201${GTIN14}3012${GS}10L-100`,
        events: [
          {
            type: 'material.consumed',
            sequenceKey: 'WH/MO/00042',
            payload: { production: 'WH/MO/00042', product: '9506000134352', quantity: 12, lot: 'L-100', operator: '0042' },
          },
        ],
      },
      {
        scan: `]C101${GTIN14}3102000250` + '10L-101',
        events: [
          {
            type: 'material.consumed',
            payload: { production: 'WH/MO/00042', product: '9506000134352', quantity: 2.5, uom: 'kg', lot: 'L-101', operator: '0042' },
          },
        ],
      },
    ],
  },
  {
    name: 'offline before the first pull: GTIN as scanned, default quantity, no checks',
    offline: true,
    steps: [
      { scan: 'WH/MO/00099', events: none },
      { scan: `]d201${GTIN14}10LX`, events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00099', product: GTIN14, quantity: 1, lot: 'LX' } }] },
    ],
  },
  {
    name: 'location then products: inventory.moved to that location',
    steps: [
      { scan: 'LOC:WH/Stock/Shelf 2', events: none },
      {
        scan: EAN13,
        events: [
          {
            type: 'inventory.moved',
            sequenceKey: 'scanner:scanner-1',
            payload: { kind: 'transfer', product: '04006381333931', quantity: 1, fromLocation: 'WH/Stock', toLocation: 'WH/Stock/Shelf 2' },
          },
        ],
      },
      {
        scan: 'P:WASHER',
        events: [
          { type: 'inventory.moved', payload: { kind: 'transfer', product: 'WASHER', quantity: 1, toLocation: 'WH/Stock/Shelf 2', fromLocation: 'WH/Stock' } },
        ],
      },
    ],
  },
  {
    name: 'with an order, a location scan is where the material was taken from',
    steps: [
      { scan: 'WH/MO/00042', events: none },
      { scan: 'LOC:WH/Stock/Line 1', events: none },
      {
        scan: 'P:WASHER',
        events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: 'WASHER', quantity: 1, location: 'WH/Stock/Line 1' } }],
      },
    ],
  },
  {
    name: 'item without order or location is invalid',
    steps: [{ scan: EAN13, invalid: /scan a manufacturing order or a location first/ }],
  },
  {
    name: 'lot-tracked product waits for its lot scan',
    steps: [
      { scan: 'WH/MO/00042', events: none },
      { scan: 'P:RESIN-A', events: none },
      { scan: 'P:WASHER', invalid: /"RESIN-A" is waiting for its lot/ },
      { scan: 'LOT:R-77', events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: 'RESIN-A', quantity: 1, lot: 'R-77' } }] },
      { scan: 'LOT:R-78', invalid: /lot "R-78" scanned without a product/ },
    ],
  },
  {
    name: 'serial-tracked product: the next code is its serial number',
    steps: [
      { scan: 'WH/MO/00042', events: none },
      { scan: 'P:CTRL-1', events: none },
      {
        scan: 'LOT:SN-0001',
        events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: 'CTRL-1', quantity: 1, serial: 'SN-0001' } }],
      },
    ],
  },
  {
    name: 'lotRequired never: a tracked product is sent at once',
    config: { lotRequired: 'never' },
    steps: [
      { scan: 'WH/MO/00042', events: none },
      { scan: 'P:RESIN-A', events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: 'RESIN-A', quantity: 1 } }] },
    ],
  },
  {
    name: 'a scanned quantity applies to the next item only',
    config: { uom: 'Units' },
    steps: [
      { scan: 'WH/MO/00042', events: none },
      { scan: 'QTY5', events: none },
      { scan: 'P:WASHER', events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: 'WASHER', quantity: 5, uom: 'Units' } }] },
      { scan: 'P:WASHER', events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: 'WASHER', quantity: 1, uom: 'Units' } }] },
      { scan: 'QTY0', invalid: /quantity "0" is not a positive number/ },
    ],
  },
  {
    name: 'internal label with product, lot and quantity in named groups',
    steps: [
      { scan: 'WH/MO/00042', events: none },
      {
        scan: 'INT:RESIN-A|R-9|2.5',
        events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: 'RESIN-A', quantity: 2.5, lot: 'R-9' } }],
      },
    ],
  },
  {
    name: 'unknown codes are invalid, with the reason',
    steps: [
      { scan: 'WH/MO/00042', events: none },
      { scan: 'HELLO', invalid: /unknown scan "HELLO": it matches no configured prefix or pattern and no product in Odoo/ },
      { scan: 'P:NOPE', invalid: /product "NOPE" is not known in Odoo/ },
      { scan: `]C101${GTIN14.slice(0, 13)}9`, invalid: /GS1 label not readable: .*check digit/ },
      { scan: 'WH/MO/99999', invalid: /manufacturing order "WH\/MO\/99999" is not known or not open/ },
      { scan: ']C100106141411234567897', invalid: /GS1 label has no product \(AI 01\/02\) nor lot/ },
    ],
  },
  {
    name: 'GTIN unknown to Odoo is invalid',
    steps: [
      { scan: 'WH/MO/00042', events: none },
      { scan: ']C10100614141123452', invalid: /product with GTIN 00614141123452 is not known in Odoo/ },
    ],
  },
  {
    name: 'unknown scans offline say that no master data was there',
    offline: true,
    steps: [{ scan: 'HELLO', invalid: /no master data yet to look it up/ }],
  },
  {
    name: 'unmatched: product takes any plain code as a product',
    config: { unmatched: 'product', checkMasterData: false },
    steps: [
      { scan: 'WH/MO/12345', events: none },
      { scan: 'ANYTHING', events: [{ type: 'material.consumed', payload: { production: 'WH/MO/12345', product: 'ANYTHING', quantity: 1 } }] },
    ],
  },
  {
    name: 'unmatched: invalid rejects plain codes even when Odoo knows them',
    config: { unmatched: 'invalid' },
    steps: [
      { scan: 'WH/MO/00042', events: none },
      { scan: 'WASHER', invalid: /matches no configured prefix or pattern$/ },
    ],
  },
  {
    name: 'clear forgets the order but keeps the operator',
    steps: [
      { scan: 'EMP7', events: none },
      { scan: 'WH/MO/00042', events: none },
      { scan: 'CLEAR', events: none },
      { scan: 'P:WASHER', invalid: /scan a manufacturing order or a location first/ },
      { scan: 'LOC:Bin 4', events: none },
      {
        scan: 'P:WASHER',
        events: [
          {
            type: 'inventory.moved',
            payload: { kind: 'transfer', product: 'WASHER', quantity: 1, toLocation: 'Bin 4', fromLocation: 'WH/Stock', operator: '7' },
          },
        ],
      },
    ],
  },
  {
    name: 'order scan can start the work order',
    config: { orderEvent: 'workorder.started', workcenter: 'Assembly 1' },
    steps: [
      { scan: 'EMP9', events: none },
      {
        scan: 'WH/MO/00042',
        events: [{ type: 'workorder.started', sequenceKey: 'WH/MO/00042', payload: { production: 'WH/MO/00042', workcenter: 'Assembly 1', operator: '9' } }],
      },
    ],
  },
  {
    name: 'context forgotten after contextTimeoutMinutes without a scan',
    config: { contextTimeoutMinutes: 10 },
    steps: [
      { scan: 'WH/MO/00042', at: '2025-06-01T08:00:00.000Z', events: none },
      {
        scan: 'P:WASHER',
        at: '2025-06-01T08:09:00.000Z',
        events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: 'WASHER', quantity: 1 } }],
      },
      { scan: 'P:WASHER', at: '2025-06-01T08:20:00.000Z', invalid: /scan a manufacturing order or a location first/ },
    ],
  },
  {
    name: 'itemEvent inventory.moved: the order becomes the reference',
    config: { itemEvent: 'inventory.moved' },
    steps: [
      { scan: 'WH/MO/00042', events: none },
      { scan: 'P:WASHER', invalid: /scan the destination location first/ },
      { scan: 'LOC:Line 1', events: none },
      {
        scan: 'P:WASHER',
        events: [
          {
            type: 'inventory.moved',
            payload: { kind: 'transfer', product: 'WASHER', quantity: 1, toLocation: 'Line 1', fromLocation: 'WH/Stock', reference: 'WH/MO/00042' },
          },
        ],
      },
    ],
  },
  {
    name: 'bare GS1 strings when allowed; an EAN-13 starting with 400 stays a product',
    config: { gs1: { bareElementStrings: true } },
    steps: [
      { scan: 'WH/MO/00042', events: none },
      {
        scan: `01${GTIN14}10L-100`,
        events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: '9506000134352', quantity: 1, lot: 'L-100' } }],
      },
      { scan: EAN13, events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: '04006381333931', quantity: 1 } }] },
    ],
  },
  {
    name: 'scanner set to "~" for FNC1',
    config: { gs1: { groupSeparator: '~' } },
    steps: [
      { scan: 'WH/MO/00042', events: none },
      {
        scan: `]C101${GTIN14}10L-100~305`,
        events: [{ type: 'material.consumed', payload: { production: 'WH/MO/00042', product: '9506000134352', quantity: 5, lot: 'L-100' } }],
      },
    ],
  },
];

const PLANT = 'p1';
const NOW = '2025-06-01T12:00:00.000Z';

function facts(): FactStore {
  const m = new Map<string, unknown>();
  return { get: (k) => m.get(k), set: (k, v) => void m.set(k, v) };
}

function signal(code: string, source: string, at: string): Signal {
  return { source, tag: 'scan', value: code, quality: 'good', sourceTime: at, receivedAt: at, meta: { port: '/dev/ttyACM0' } };
}

function makeRule(config: Partial<ScanRuleInput> = {}) {
  return new ScanRule(scanRuleConfigSchema.parse({ ...baseConfig, ...config }));
}

describe('scan rule: operator context', () => {
  for (const sc of scenarios) {
    test(sc.name, () => {
      const rule = makeRule(sc.config);
      const md: MasterDataLookup | undefined = sc.offline ? undefined : fakeMasterData();
      const ctx: RuleContext = { plant: PLANT, now: NOW, facts: facts(), ...(md ? { masterData: md } : {}) };
      let state: ScanRuleState = rule.initialState();
      let t = Date.parse('2025-06-01T08:00:00.000Z');
      sc.steps.forEach((step, i) => {
        const at = step.at ?? new Date((t += 1000)).toISOString();
        const out = rule.apply(state, signal(step.scan, 'scanner-1', at), ctx);
        const label = `step ${i} (${JSON.stringify(step.scan)})`;
        if ('invalid' in step) {
          assert.ok(out.invalid, `${label}: expected invalid, got ${JSON.stringify(out.events)}`);
          assert.match(out.invalid, step.invalid, label);
          assert.equal(out.events.length, 0, label);
          assert.deepEqual(out.state, state, `${label}: an invalid scan leaves the context as it was`);
        } else {
          assert.equal(out.invalid, undefined, `${label}: ${out.invalid}`);
          assert.equal(out.events.length, step.events.length, `${label}: ${JSON.stringify(out.events)}`);
          step.events.forEach((e, j) => {
            const ev = out.events[j]!;
            assert.equal(canonicalEventSchema.safeParse(ev).success, true, `${label}: schema`);
            assert.equal(ev.type, e.type, label);
            assert.deepEqual(ev.payload, e.payload, label);
            if (e.sequenceKey) assert.equal(ev.sequenceKey, e.sequenceKey, label);
            assert.equal(ev.occurredAt, at);
            assert.equal(ev.receivedAt, NOW);
            assert.equal(ev.source, 'scanner-1');
          });
        }
        // The engine persists the state as JSON: it must survive that.
        state = JSON.parse(JSON.stringify(out.state)) as ScanRuleState;
      });
    });
  }
});

describe('scan rule: ids, matching, config', () => {
  test('event id is deterministic from source, scan time and code', () => {
    const rule = makeRule();
    const ctx: RuleContext = { plant: PLANT, now: NOW, facts: facts(), masterData: fakeMasterData() };
    const s0 = rule.apply(rule.initialState(), signal('WH/MO/00042', 'scanner-1', '2025-06-01T08:00:00.000Z'), ctx).state;
    const a = rule.apply(s0, signal('P:WASHER', 'scanner-1', '2025-06-01T08:00:01.000Z'), ctx).events[0]!;
    const again = rule.apply(s0, signal('P:WASHER', 'scanner-1', '2025-06-01T08:00:01.000Z'), { ...ctx, now: '2025-06-02T00:00:00.000Z' }).events[0]!;
    const later = rule.apply(s0, signal('P:WASHER', 'scanner-1', '2025-06-01T08:00:01.001Z'), ctx).events[0]!;
    assert.equal(a.id, again.id);
    assert.notEqual(a.id, later.id);
    assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('matches only its source and tag', () => {
    const rule = makeRule();
    assert.equal(rule.matches(signal('X', 'scanner-1', NOW)), true);
    assert.equal(rule.matches(signal('X', 'scanner-9', NOW)), false);
    assert.equal(rule.matches({ ...signal('X', 'scanner-1', NOW), tag: 'temperature' }), false);
  });

  test('two scanners, two rules: each keeps its own context', () => {
    const r1 = makeRule({ name: 'station-1' });
    const r2 = makeRule({ name: 'station-2', source: 'scanner-2' });
    const ctx: RuleContext = { plant: PLANT, now: NOW, facts: facts(), masterData: fakeMasterData() };
    const s1 = r1.apply(r1.initialState(), signal('WH/MO/00042', 'scanner-1', NOW), ctx).state;
    assert.equal(r2.matches(signal('P:WASHER', 'scanner-2', NOW)), true);
    assert.match(r2.apply(r2.initialState(), signal('P:WASHER', 'scanner-2', NOW), ctx).invalid ?? '', /order or a location first/);
    assert.equal(r1.apply(s1, signal('P:WASHER', 'scanner-1', NOW), ctx).events.length, 1);
  });

  test('scans published as JSON (a networked scanner on MQTT) are read with path', () => {
    const rule = makeRule({ source: 'line1-mqtt', tag: 'plant/line1/scanner/+', path: 'code' });
    const ctx: RuleContext = { plant: PLANT, now: NOW, facts: facts(), masterData: fakeMasterData() };
    const msg = (code: string): Signal => ({ ...signal('', 'line1-mqtt', NOW), tag: 'plant/line1/scanner/3', value: JSON.stringify({ code }) });
    assert.equal(rule.matches(msg('x')), true);
    const s = rule.apply(rule.initialState(), msg('WH/MO/00042'), ctx).state;
    assert.equal(s.order, 'WH/MO/00042');
    assert.match(rule.apply(s, { ...msg('x'), value: '{"other":1}' }, ctx).invalid ?? '', /scan must be text, got nothing at path "code"/);
  });

  test('non-text value is invalid, bad quality is skipped', () => {
    const rule = makeRule();
    const ctx: RuleContext = { plant: PLANT, now: NOW, facts: facts() };
    const out = rule.apply(rule.initialState(), { ...signal('X', 'scanner-1', NOW), value: 42 }, ctx);
    assert.match(out.invalid ?? '', /scan must be text, got 42/);
    const bad = rule.apply(rule.initialState(), { ...signal('WH/MO/1', 'scanner-1', NOW), quality: 'bad' }, ctx);
    assert.deepEqual(bad, { state: {}, events: [] });
  });

  test('saved state is restored when it fits, refused otherwise', () => {
    const rule = makeRule();
    assert.deepEqual(rule.restoreState({ order: 'WH/MO/1', operator: '7' }), { order: 'WH/MO/1', operator: '7' });
    assert.equal(rule.restoreState({ order: 42 }), undefined);
    assert.equal(rule.restoreState('nonsense'), undefined);
  });

  test('config errors', () => {
    const bad = [
      { classify: [{ as: 'order' }] },
      { classify: [{ as: 'order', prefix: 'A', pattern: 'B' }] },
      { classify: [{ as: 'order', pattern: '(' }] },
      { classify: [{ as: 'order', pattern: 'A', stripPrefix: true }] },
      { classify: [{ as: 'pallet', prefix: 'X' }] },
      { source: '' },
      { tag: 'a#b/#/c' },
      { typo: true },
    ];
    for (const b of bad) {
      assert.equal(scanRuleConfigSchema.safeParse({ ...baseConfig, ...b }).success, false, JSON.stringify(b));
    }
  });

  test('defaults', () => {
    const c = scanRuleConfigSchema.parse({ kind: 'scan', name: 'r', source: 's' });
    assert.equal(c.enabled, true);
    assert.equal(c.tag, 'scan');
    assert.equal(c.itemEvent, 'auto');
    assert.equal(c.defaultQuantity, 1);
    assert.equal(c.lotRequired, 'tracked');
    assert.equal(c.unmatched, 'lookup');
    assert.equal(c.checkMasterData, true);
    assert.equal(c.gs1.bareElementStrings, false);
  });
});
