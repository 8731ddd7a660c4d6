import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentError } from '../../agent/errors';
import type { Signal } from '../../agent/model/signal';
import { rulesConfigSchema } from '../../agent/rules/config';
import { RuleEngine } from '../../agent/rules/engine';
import type { Rule } from '../../agent/rules/types';
import { CTX, engineOf, feed, sig } from './helpers';

const plant = [
  { kind: 'order', name: 'press1-order', source: 'mes', tag: 'press1/order', workcenter: 'Press 1', emitStarted: true, emitFinished: true },
  { kind: 'counter', name: 'press1-count', source: 'plc1', tag: 'Press1.Count', workcenter: 'Press 1', max: 65535, minIncrement: 3 },
  {
    kind: 'state',
    name: 'press1-state',
    source: 'plc1',
    tag: 'Press1.State',
    workcenter: 'Press 1',
    runningCodes: [1],
    codes: { '3': { reason: 'Material Availability' } },
    minDuration: 2,
  },
  { kind: 'threshold', name: 'press1-oil', source: 'plc1', tag: 'Press1.OilTemp', equipment: 'Press 1 hydraulics', above: 80, hysteresis: 5 },
  {
    kind: 'capture',
    name: 'press1-cycle',
    source: 'plc1',
    tag: 'Press1.CycleDone',
    workcenter: 'Press 1',
    tags: { lot: 'Press1.Lot' },
    event: 'production.reported',
    fields: { production: '{{production}}', totalQuantity: '{{tags.good|default:0|number}}', lot: '{{tags.lot}}' },
  },
];

function stream(): Signal[] {
  const s: Signal[] = [];
  const order = (v: string, t: number) => s.push(sig('press1/order', v, t, { source: 'mes' }));
  order('WH/MO/00001', 0);
  s.push(sig('Press1.State', 1, 0), sig('Press1.OilTemp', 60, 0), sig('Press1.CycleDone', false, 0), sig('Press1.Lot', 'L-1', 0));
  let count = 65520;
  for (let t = 1; t <= 40; t++) {
    count = (count + (t % 4)) % 65536; // rolls over around t = 12
    s.push(sig('Press1.Count', count, t));
    if (t % 7 === 0) s.push(sig('Press1.State', 3, t));
    if (t % 7 === 3) s.push(sig('Press1.State', 1, t));
    s.push(sig('Press1.OilTemp', 70 + ((t * 13) % 20), t));
    s.push(sig('Press1.CycleDone', t % 2 === 0, t));
    if (t === 20) order('WH/MO/00002', t);
    if (t === 30) s.push(sig('Press1.Lot', 'L-2', t));
  }
  s.push(sig('Unknown.Tag', 1, 41));
  return s;
}

describe('RuleEngine: state restore', () => {
  it('half, restore into a fresh engine, the rest = the same events as one run', () => {
    const all = stream();
    const whole = engineOf(plant).process(all, CTX);
    assert.ok(whole.events.length > 10, `the stream should produce events, got ${whole.events.length}`);
    const types = new Set(whole.events.map((e) => e.type));
    for (const t of ['production.reported', 'downtime.started', 'downtime.ended', 'maintenance.requested', 'workorder.started', 'workorder.finished']) {
      assert.ok(types.has(t as never), `expected some ${t}`);
    }

    for (const cut of [1, 37, Math.floor(all.length / 2), all.length - 3]) {
      const first = engineOf(plant);
      const persisted = new Map<string, unknown>();
      const a = feed(first, all.slice(0, cut));
      for (const [k, v] of a.stateChanges) persisted.set(k, JSON.parse(JSON.stringify(v)));

      const second = engineOf(plant);
      const report = second.loadState(persisted);
      assert.deepEqual(report.discarded, []);
      const b = second.process(all.slice(cut), CTX);
      assert.deepEqual([...a.events, ...b.events], whole.events, `cut at ${cut}`);
      assert.deepEqual([...a.invalid, ...b.invalid], whole.invalid);
    }
  });

  it('without restore the second half differs (the test can fail)', () => {
    const all = stream();
    const whole = engineOf(plant).process(all, CTX);
    const cut = Math.floor(all.length / 2);
    const a = engineOf(plant).process(all.slice(0, cut), CTX);
    const b = engineOf(plant).process(all.slice(cut), CTX);
    assert.notDeepEqual([...a.events, ...b.events], whole.events);
  });

  it('snapshot round-trips, and loadState replaces everything', () => {
    const engine = engineOf(plant);
    engine.process(stream().slice(0, 30), CTX);
    const snap = engine.snapshot();
    assert.equal(snap.get('workcenter:Press 1:production'), 'WH/MO/00001');
    const other = engineOf(plant);
    other.process([sig('press1/order', 'WH/MO/00099', 0, { source: 'mes' })], CTX);
    other.loadState(snap);
    assert.deepEqual(other.snapshot(), snap);
    other.loadState([]);
    assert.equal(other.fact('workcenter:Press 1:production'), undefined);
    assert.deepEqual(other.snapshot().get('press1-count'), { readings: {}, production: null, orders: [] });
  });

  it('discards state of unknown rules and state that no longer fits', () => {
    const engine = engineOf(plant);
    const report = engine.loadState([
      ['gone-rule', { x: 1 }],
      ['press1-count', { readings: 'not a map' }],
      ['press1-oil', { tags: { 'Press1.OilTemp': { armed: false, at: '2025-03-03T06:00:00.000Z' } } }],
      ['workcenter:Press 1:production', 'WH/MO/00005'],
    ]);
    assert.deepEqual(
      report.discarded.map((d) => d.key),
      ['gone-rule', 'press1-count'],
    );
    assert.deepEqual(report.restored, ['press1-oil', 'workcenter:Press 1:production']);
    assert.equal(engine.fact('workcenter:Press 1:production'), 'WH/MO/00005');
    // The restored threshold state is disarmed: a high value does not fire.
    const r = engine.process([sig('Press1.OilTemp', 99, 1)], CTX);
    assert.equal(r.events.length, 0);
  });
});

describe('RuleEngine: stateChanges', () => {
  it('reports only what changed, and a cleared fact as null', () => {
    const engine = engineOf(plant);
    const r1 = engine.process([sig('press1/order', 'WH/MO/00001', 0, { source: 'mes' })], CTX);
    assert.deepEqual([...r1.stateChanges.keys()].sort(), ['press1-order', 'workcenter:Press 1:production', 'workcenter:Press 1:production-claim']);
    const r2 = engine.process([sig('Press1.OilTemp', 50, 1)], CTX);
    assert.equal(r2.stateChanges.size, 0, 'an armed threshold below its limit changes nothing');
    const r3 = engine.process([sig('press1/order', '', 2, { source: 'mes' })], CTX);
    assert.equal(r3.stateChanges.get('workcenter:Press 1:production'), null);
    assert.equal(r3.unmatched, 0);
    const r4 = engine.process([sig('Nobody.Reads', 1, 3)], CTX);
    assert.equal(r4.unmatched, 1);
    assert.equal(r4.events.length + r4.invalid.length + r4.stateChanges.size, 0);
  });

  it('values are copies: changing them does not touch the engine', () => {
    const engine = engineOf(plant);
    const r = engine.process([sig('press1/order', 'WH/MO/00001', 0, { source: 'mes' })], CTX);
    (r.stateChanges.get('press1-order') as { production: string }).production = 'tampered';
    assert.equal((engine.snapshot().get('press1-order') as { production: string }).production, 'WH/MO/00001');
  });
});

describe('RuleEngine: failures stay with the signal', () => {
  function rule(name: string, apply: Rule<number>['apply'], matches: Rule<number>['matches'] = () => true): Rule<number> {
    return { name, matches, initialState: () => 0, apply };
  }
  const goodEvent = (n: number, s: Signal) => ({
    id: `e-${n}`,
    type: 'production.reported' as const,
    sequenceKey: 'WH/MO/1',
    occurredAt: s.sourceTime,
    receivedAt: CTX.now,
    source: s.source,
    payload: { production: 'WH/MO/1', totalQuantity: n },
  });

  it('a rule that throws makes the signal invalid; later rules and signals go on', () => {
    const counting = rule('counting', (n, s) => ({ state: n + 1, events: [goodEvent(n + 1, s)] }));
    const broken = rule('broken', (n, s) => {
      if (s.value === 'boom') throw new Error('cannot handle boom');
      return { state: n + 1, events: [] };
    });
    const engine = RuleEngine.fromRules([broken, counting]);
    const r = engine.process([sig('x', 1, 0), sig('x', 'boom', 1), sig('x', 2, 2)], CTX);
    assert.deepEqual(
      r.events.map((e) => (e.payload as { totalQuantity: number }).totalQuantity),
      [1, 2, 3],
    );
    assert.deepEqual(
      r.invalid.map((i) => [i.rule, i.reason, i.signal.value]),
      [['broken', 'rule failed: cannot handle boom', 'boom']],
    );
    assert.equal(r.stateChanges.get('broken'), 2, 'the failed call did not move its state');
  });

  it('a rule whose matches() throws is reported, not fatal', () => {
    const engine = RuleEngine.fromRules([
      rule(
        'picky',
        (n) => ({ state: n, events: [] }),
        () => {
          throw new Error('bad pattern');
        },
      ),
    ]);
    const r = engine.process([sig('x', 1, 0)], CTX);
    assert.match(r.invalid[0]!.reason, /rule failed while matching: bad pattern/);
  });

  it('an event that fails the canonical schema makes the signal invalid and keeps the old state and facts', () => {
    const sloppy = rule('sloppy', (n, s, ctx) => {
      ctx.facts.set('workcenter:X:production', `MO-${n + 1}`);
      const ev = goodEvent(n + 1, s);
      return { state: n + 1, events: s.value === 'bad' ? [{ ...ev, payload: { production: 'WH/MO/1', totalQuantity: -4 } }] : [ev] };
    });
    const engine = RuleEngine.fromRules([sloppy]);
    const r = engine.process([sig('x', 'ok', 0), sig('x', 'bad', 1)], CTX);
    assert.equal(r.events.length, 1);
    assert.equal(r.invalid.length, 1);
    assert.match(r.invalid[0]!.reason, /^production\.reported event is not valid: payload\.totalQuantity: /);
    assert.equal(engine.fact('workcenter:X:production'), 'MO-1');
    assert.equal(engine.snapshot().get('sloppy'), 1);
  });

  it('returned events are the parsed ones (defaults filled)', () => {
    const maint = rule('maint', (n, s) => ({
      state: n,
      events: [
        {
          id: 'm1',
          type: 'maintenance.requested',
          sequenceKey: 'equipment:E',
          occurredAt: s.sourceTime,
          receivedAt: CTX.now,
          source: 'plc1',
          payload: { equipment: 'E', name: 'Check' },
        } as never,
      ],
    }));
    const r = RuleEngine.fromRules([maint]).process([sig('x', 1, 0)], CTX);
    assert.deepEqual(r.events[0]!.payload, { equipment: 'E', name: 'Check', maintenanceType: 'corrective', priority: '1' });
  });

  it('a rule that sets a fact key without ":" fails that signal', () => {
    const engine = RuleEngine.fromRules([rule('facty', (n, _s, ctx) => (ctx.facts.set('plain', 1), { state: n + 1, events: [] }))]);
    const r = engine.process([sig('x', 1, 0)], CTX);
    assert.match(r.invalid[0]!.reason, /fact key "plain" must contain ":"/);
  });

  it('a rule-declared invalid keeps its new state and its events', () => {
    const half = rule('half', (n, s) => ({ state: n + 1, events: [goodEvent(n + 1, s)], invalid: 'partly understood' }));
    const r = RuleEngine.fromRules([half]).process([sig('x', 1, 0)], CTX);
    assert.equal(r.events.length, 1);
    assert.deepEqual(
      r.invalid.map((i) => i.reason),
      ['partly understood'],
    );
    assert.equal(r.stateChanges.get('half'), 1);
  });

  it('rules apply in config order and see facts set earlier in the same call', () => {
    const engine = engineOf([plant[1], plant[0]]); // counter listed before the order rule
    const r = engine.process([sig('Press1.Count', 0, 0), sig('press1/order', 'WH/MO/00001', 1, { source: 'mes' }), sig('Press1.Count', 5, 2)], CTX);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['workorder.started', 'production.reported'],
    );
  });
});

describe('RuleEngine: config', () => {
  it('rule names must be unique', () => {
    const r = rulesConfigSchema.safeParse([plant[0], plant[1], { ...plant[3], name: 'press1-order' }]);
    assert.equal(r.success, false);
    const issue = r.error!.issues[0]!;
    assert.deepEqual(issue.path, [2, 'name']);
    assert.match(issue.message, /rule name "press1-order" is already used by rule 1 of the list/);
    assert.throws(
      () => engineOf([plant[0], plant[0]]),
      (err: unknown) => err instanceof AgentError && err.code === 'RULE_CONFIG_INVALID' && /already used/.test(err.message),
    );
  });

  it('an unknown kind names the known ones', () => {
    const r = rulesConfigSchema.safeParse([{ kind: 'countr', name: 'x' }]);
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0]!.message, /kind must be one of counter, order, state, threshold, capture/);
    assert.throws(() => new RuleEngine([{ kind: 'countr', name: 'x' }]), /unknown kind "countr"/);
  });

  it('a disabled rule is not applied', () => {
    const engine = engineOf([{ ...plant[3], enabled: false }]);
    assert.deepEqual(engine.ruleNames, []);
    assert.equal(engine.process([sig('Press1.OilTemp', 99, 0)], CTX).events.length, 0);
  });

  it('builds every kind from parsed config, in order', () => {
    const parsed = rulesConfigSchema.parse(plant);
    assert.deepEqual(
      new RuleEngine(parsed).ruleNames,
      plant.map((p) => p.name),
    );
  });
});
