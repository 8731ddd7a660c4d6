import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { compile, NO } from '../../agent/model/event-check';
import { canonicalEventSchema, EVENT_TYPES, isValidatedEvent, parseEvent, payloadSchemas, type EventType } from '../../agent/model/event';
import { seededRandom } from '../helpers/seed';

/**
 * The quick check must never pass what zod refuses, and what it passes must
 * come out exactly as zod's output (values, defaults, key order: the outbox
 * stores it as JSON). Checked over every event type, a list of edge values per
 * field, and seeded random combinations of them.
 */

const at = '2026-11-26T08:00:00.000Z';

const payloads: Record<EventType, Record<string, unknown>> = {
  'production.reported': { production: 'WH/MO/00042', totalQuantity: 120, workcenter: 'Press 1', lot: 'L-7', uom: 'Units' },
  'production.completed': { production: 42, workcenter: 'Press 1' },
  'material.consumed': {
    production: 'WH/MO/00042',
    product: 'STEEL-2MM',
    quantity: 2.5,
    uom: 'kg',
    lot: 'L1',
    serial: 'S1',
    location: 'WH/Stock',
    operator: 'Ann',
  },
  'inventory.moved': { kind: 'transfer', product: 'P-1', quantity: 3, fromLocation: 'WH/Stock', toLocation: 'WH/Line', reference: 'R1' },
  'scrap.reported': { product: 'P-1', quantity: 1, production: 'WH/MO/00042', reason: 'Scratched' },
  'downtime.started': { downtimeId: 'd-1', workcenter: 'Press 1', reason: 'Material shortage', description: 'no coil' },
  'downtime.ended': { downtimeId: 'd-1', workcenter: 'Press 1', startedAt: '2026-11-26T07:00:00+01:00' },
  'quality.recorded': { test: 'Thickness', result: 'pass', measure: 2.01, product: 'P-1', note: 'ok' },
  'maintenance.requested': { equipment: 'Press 1', name: 'Oil leak' },
  'workorder.started': { production: 'WH/MO/00042', workorder: 7, operator: 'Ann' },
  'workorder.finished': { production: 'WH/MO/00042', workorder: 'Cutting' },
};

function base(type: EventType): Record<string, unknown> {
  return { id: `ev-${type}`, type, sequenceKey: 'WH/MO/00042', occurredAt: at, receivedAt: at, source: 'press-1', payload: { ...payloads[type] } };
}

const MISSING = Symbol('missing');

/** Values worth trying in any field. */
const EDGES: unknown[] = [
  MISSING,
  undefined,
  null,
  '',
  ' ',
  'x',
  ' padded ',
  '\tTabbed\n',
  'x'.repeat(200),
  'x'.repeat(201),
  'x'.repeat(256),
  'x'.repeat(257),
  ` ${'x'.repeat(256)} `,
  'x'.repeat(2000),
  'x'.repeat(2001),
  0,
  -0,
  1,
  -1,
  1.5,
  42,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  NaN,
  Infinity,
  -Infinity,
  '1',
  true,
  {},
  [],
  ['a'],
  'pass',
  'fail',
  'transfer',
  'count',
  'corrective',
  'preventive',
  '0',
  '3',
  '4',
  'production.reported',
  'downtime.started',
  'unknown.type',
  at,
  '2026-11-26T08:00:00Z',
  '2026-11-26T08:00:00+01:00',
  '2026-11-26T08:00:00.123456+05:30',
  '2026-11-26T08:00:00',
  '2026-11-26 08:00:00Z',
  '2026-11-26T08:00:00z',
  '2024-02-29T00:00:00Z',
  '2026-02-29T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2026-11-26T24:00:00Z',
  '2026-11-26',
];

function set(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out = { ...obj };
  if (value === MISSING) delete out[key];
  else out[key] = value;
  return out;
}

function variants(type: EventType): Array<Record<string, unknown>> {
  const b = base(type);
  const out: Array<Record<string, unknown>> = [b];
  const payloadKeys = [...Object.keys((payloadSchemas[type] as unknown as { shape: Record<string, unknown> }).shape), 'extra'];
  for (const key of [...Object.keys(b), 'extra']) {
    for (const v of EDGES) out.push(set(b, key, v));
  }
  for (const key of payloadKeys) {
    for (const v of EDGES) out.push({ ...b, payload: set(b.payload as Record<string, unknown>, key, v) });
  }
  return out;
}

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

/** Up to three fields changed at once, in the envelope or the payload. */
function randomCases(n: number): Array<Record<string, unknown>> {
  const rnd = seededRandom(20261127);
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const type = pick(rnd, EVENT_TYPES);
    let e = base(type);
    const changes = 1 + Math.floor(rnd() * 3);
    for (let c = 0; c < changes; c++) {
      const shape = Object.keys((payloadSchemas[type] as unknown as { shape: Record<string, unknown> }).shape);
      if (rnd() < 0.5) e = set(e, pick(rnd, [...Object.keys(e), 'extra']), pick(rnd, EDGES));
      else if (e.payload !== null && typeof e.payload === 'object' && !Array.isArray(e.payload)) {
        e = { ...e, payload: set(e.payload as Record<string, unknown>, pick(rnd, [...shape, 'extra']), pick(rnd, EDGES)) };
      }
    }
    out.push(e);
  }
  return out;
}

/** Checks one input; returns whether the quick check passed it. */
function agrees(quick: (v: unknown) => unknown, schema: z.ZodType, input: unknown): boolean {
  const q = quick(input);
  const r = schema.safeParse(input);
  if (q === NO) return false;
  assert.ok(r.success, `the quick check passed what zod refuses: ${JSON.stringify(input)} (zod: ${r.success ? '' : r.error.message})`);
  assert.deepStrictEqual(q, r.data, `different output for ${JSON.stringify(input)}`);
  assert.equal(JSON.stringify(q), JSON.stringify(r.data), `different key order for ${JSON.stringify(input)}`);
  return true;
}

describe('quick event check (built from the zod schema)', () => {
  const quick = compile(canonicalEventSchema);

  it('is built for the canonical event schema and for every payload schema', () => {
    assert.ok(quick, 'the event schema uses only what the quick check knows');
    for (const type of EVENT_TYPES) assert.ok(compile(payloadSchemas[type]), type);
  });

  it('passes a valid event of every type, with the same output as zod', () => {
    for (const type of EVENT_TYPES) assert.ok(agrees(quick!, canonicalEventSchema, base(type)), `${type} went to zod`);
  });

  it('agrees with zod on edge values in every field of every event type', () => {
    let passed = 0;
    let refused = 0;
    for (const type of EVENT_TYPES) {
      for (const v of variants(type)) {
        if (agrees(quick!, canonicalEventSchema, v)) passed++;
        else refused++;
      }
    }
    // Both sides are exercised: many pass the quick check, many are left to zod.
    assert.ok(passed > 500 && refused > 2000, `passed ${passed}, refused ${refused}`);
  });

  it('agrees with zod on 20,000 seeded random combinations', () => {
    let passed = 0;
    for (const v of randomCases(20_000)) if (agrees(quick!, canonicalEventSchema, v)) passed++;
    assert.ok(passed > 1000, `passed ${passed}`);
  });

  it('trims text and fills defaults as zod does', () => {
    const e = base('maintenance.requested');
    (e.payload as Record<string, unknown>).name = '  Oil leak  ';
    const out = quick!(e) as { payload: Record<string, unknown> };
    assert.equal(out.payload.name, 'Oil leak');
    assert.equal(out.payload.maintenanceType, 'corrective');
    assert.equal(out.payload.priority, '1');
  });

  it('is not built for a schema with something it does not know (zod then checks everything)', () => {
    assert.equal(compile(z.string().refine((s) => s.startsWith('A'))), undefined, 'refinement');
    assert.equal(compile(z.string().transform((s) => s.length)), undefined, 'transform');
    assert.equal(compile(z.object({ a: z.string() })), undefined, 'object that strips unknown keys');
    assert.equal(compile(z.string().email()), undefined, 'a format that is more than a pattern');
    assert.equal(compile(z.number().multipleOf(5)), undefined, 'number check');
    assert.equal(compile(z.strictObject({ a: z.array(z.string()) })), undefined, 'array');
    assert.equal(compile(z.strictObject({ a: z.array(z.string()).default([]) })), undefined, 'default that is an object');
  });

  it("parseEvent: a passed event is frozen and known as validated; a refused one gets zod's reason", () => {
    const ok = parseEvent(base('downtime.started'));
    assert.ok(ok.ok);
    assert.ok(Object.isFrozen(ok.event) && Object.isFrozen(ok.event.payload));
    assert.ok(isValidatedEvent(ok.event));
    const bad = parseEvent({ ...base('downtime.started'), occurredAt: '2026-02-30T00:00:00Z' });
    assert.equal(bad.ok, false);
    assert.match((bad as { reason: string }).reason, /occurredAt/);
  });
});
