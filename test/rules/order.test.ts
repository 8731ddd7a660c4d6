import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MasterDataLookup } from '../../agent/rules/types';
import { CTX, engineOf, feed, sig } from './helpers';

const base = { kind: 'order', name: 'press1-order', source: 'mes', tag: 'press1/order', workcenter: 'Press 1' };
const FACT = 'workcenter:Press 1:production';
const order = (value: unknown, s: number) => sig('press1/order', value as never, s, { source: 'mes' });

describe('order rule', () => {
  const table: Array<{
    name: string;
    config?: Record<string, unknown>;
    values: unknown[];
    events: string[];
    fact: string | undefined;
    invalid?: number;
  }> = [
    { name: 'sets the fact without events by default', values: ['WH/MO/00001'], events: [], fact: 'WH/MO/00001' },
    {
      name: 'started and finished on each change',
      config: { emitStarted: true, emitFinished: true },
      values: ['WH/MO/00001', 'WH/MO/00001', 'WH/MO/00002'],
      events: ['workorder.started:WH/MO/00001', 'workorder.finished:WH/MO/00001', 'workorder.started:WH/MO/00002'],
      fact: 'WH/MO/00002',
    },
    {
      name: 'going idle finishes the order and clears the fact',
      config: { emitStarted: true, emitFinished: true },
      values: ['WH/MO/00001', '', null],
      events: ['workorder.started:WH/MO/00001', 'workorder.finished:WH/MO/00001'],
      fact: undefined,
    },
    { name: 'only started', config: { emitStarted: true }, values: ['A', 'B'], events: ['workorder.started:A', 'workorder.started:B'], fact: 'B' },
    { name: 'only finished', config: { emitFinished: true }, values: ['A', 'B'], events: ['workorder.finished:A'], fact: 'B' },
    { name: 'whitespace is trimmed', values: ['  WH/MO/00001 \n'], events: [], fact: 'WH/MO/00001' },
    {
      name: 'a PLC number formatted into an order name',
      config: { format: 'WH/MO/{{value|pad:5}}', emitStarted: true },
      values: [42, 0, 43],
      events: ['workorder.started:WH/MO/00042', 'workorder.started:WH/MO/00043'],
      fact: 'WH/MO/00043',
    },
    { name: 'a field of a JSON payload', config: { path: 'order.name' }, values: [{ order: { name: 'WH/MO/00009' } }], events: [], fact: 'WH/MO/00009' },
    { name: 'JSON text with a path', config: { path: 'mo' }, values: ['{"mo":"WH/MO/00010"}'], events: [], fact: 'WH/MO/00010' },
    { name: 'configured idle values', config: { idleValues: ['NONE'] }, values: ['A', 'NONE'], events: [], fact: undefined },
    { name: 'an object without a path is invalid', values: ['A', { order: 'B' }], events: [], fact: 'A', invalid: 1 },
    { name: 'a boolean is invalid', values: [true], events: [], fact: undefined, invalid: 1 },
  ];
  for (const c of table) {
    it(c.name, () => {
      const engine = engineOf([{ ...base, ...c.config }]);
      const r = feed(
        engine,
        c.values.map((v, i) => order(v, i)),
      );
      assert.deepEqual(
        r.events.map((e) => `${e.type}:${(e.payload as { production: string }).production}`),
        c.events,
      );
      assert.equal(engine.fact(FACT), c.fact);
      assert.equal(r.invalid.length, c.invalid ?? 0, JSON.stringify(r.invalid.map((i) => i.reason)));
    });
  }

  it('events carry the work center, work order, sequence key and source time', () => {
    const engine = engineOf([{ ...base, emitStarted: true, emitFinished: true, workorder: 'Pressing' }]);
    const r = feed(engine, [order('A', 0), order('B', 10)]);
    const [started, finished, startedB] = r.events;
    assert.deepEqual(started!.payload, { production: 'A', workcenter: 'Press 1', workorder: 'Pressing' });
    assert.equal(started!.sequenceKey, 'A');
    assert.equal(finished!.sequenceKey, 'A');
    assert.equal(startedB!.sequenceKey, 'B');
    assert.equal(finished!.occurredAt, '2025-03-03T06:00:10.000Z');
  });

  it('the same change read twice (replay) gives the same ids', () => {
    const signals = [order('A', 0), order('B', 10)];
    const config = [{ ...base, emitStarted: true, emitFinished: true }];
    const a = engineOf(config).process(signals, CTX);
    const b = engineOf(config).process(signals, CTX);
    assert.deepEqual(
      a.events.map((e) => e.id),
      b.events.map((e) => e.id),
    );
    assert.equal(new Set(a.events.map((e) => e.id)).size, 3);
  });

  it('ignores a value already taken (a replay), even after a newer one', () => {
    const engine = engineOf([base]);
    feed(engine, [order('A', 5), order('B', 10), order('A', 5)]);
    assert.equal(engine.fact(FACT), 'B');
  });

  it('stateChanges carry the fact and the rule state', () => {
    const engine = engineOf([base]);
    const r = engine.process([order('A', 0)], CTX);
    assert.equal(r.stateChanges.get(FACT), 'A');
    assert.deepEqual(r.stateChanges.get('press1-order'), { production: 'A', at: '2025-03-03T06:00:00.000Z', recent: ['press1/order|1740981600000|A'] });
    const idle = engine.process([order('', 1)], CTX);
    assert.equal(idle.stateChanges.get(FACT), null);
    const again = engine.process([order('', 2)], CTX);
    assert.equal(again.stateChanges.size, 0);
  });

  it('requireKnownOrder refuses orders missing from the cache, once the cache is filled', () => {
    const known = new Set(['WH/MO/00001']);
    const masterData: MasterDataLookup = {
      product: () => undefined,
      lot: () => undefined,
      production: (name) => (known.has(name) ? { id: 1, name, state: 'confirmed', productId: 7 } : undefined),
    };
    const engine = engineOf([{ ...base, requireKnownOrder: true }]);
    const r1 = engine.process([order('WH/MO/00099', 0)], { ...CTX, masterData });
    assert.equal(r1.invalid.length, 1);
    assert.match(r1.invalid[0]!.reason, /is not known or not open in Odoo/);
    assert.equal(engine.fact(FACT), undefined);
    engine.process([order('WH/MO/00001', 1)], { ...CTX, masterData });
    assert.equal(engine.fact(FACT), 'WH/MO/00001');
    // Offline before the first pull: no cache, no check.
    engine.process([order('WH/MO/00099', 2)], CTX);
    assert.equal(engine.fact(FACT), 'WH/MO/00099');
  });
});
