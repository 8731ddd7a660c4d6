import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { thresholdStep } from '../../agent/rules/kinds/threshold';
import { CTX, engineOf, feed, sig, configProblems } from './helpers';

const high = {
  kind: 'threshold',
  name: 'press1-oil',
  source: 'plc1',
  tag: 'Press1.OilTemp',
  equipment: 'Press 1 hydraulics',
  above: 80,
  hysteresis: 5,
  title: 'Oil temperature {{value|fixed:1}} °C on {{equipment}}',
};

describe('thresholdStep', () => {
  const table: Array<[armed: boolean, value: number, limit: { above?: number; below?: number; hysteresis: number }, expected: string]> = [
    [true, 81, { above: 80, hysteresis: 5 }, 'fire'],
    [true, 80, { above: 80, hysteresis: 5 }, 'none'],
    [false, 79, { above: 80, hysteresis: 5 }, 'none'],
    [false, 75, { above: 80, hysteresis: 5 }, 'rearm'],
    [false, 90, { above: 80, hysteresis: 5 }, 'none'],
    [true, 9, { below: 10, hysteresis: 2 }, 'fire'],
    [false, 11, { below: 10, hysteresis: 2 }, 'none'],
    [false, 12, { below: 10, hysteresis: 2 }, 'rearm'],
    [false, 80, { above: 80, hysteresis: 0 }, 'rearm'],
  ];
  for (const [armed, value, limit, expected] of table) {
    it(`${armed ? 'armed' : 'fired'} ${value} ${JSON.stringify(limit)} -> ${expected}`, () => {
      assert.equal(thresholdStep(armed, value, limit), expected);
    });
  }
});

describe('threshold rule', () => {
  const table: Array<{ name: string; config?: Record<string, unknown>; values: unknown[]; fired: number[] }> = [
    { name: 'fires once when crossing the limit', values: [70, 79, 81, 85, 90], fired: [81] },
    { name: 'no chatter around the limit', values: [70, 81, 79, 81, 78, 82, 76, 81], fired: [81] },
    { name: 're-arms only past the hysteresis', values: [81, 75, 81, 74, 90], fired: [81, 81, 90] },
    { name: 'a low limit', config: { above: undefined, below: 10, hysteresis: 2 }, values: [15, 9, 11, 8, 12, 9], fired: [9, 9] },
    { name: 'without hysteresis it re-arms at the limit', config: { hysteresis: 0 }, values: [81, 80, 81], fired: [81, 81] },
    { name: 'a high first reading fires', values: [95], fired: [95] },
    { name: 'numeric text', values: ['70', '85.5'], fired: [85.5] },
  ];
  for (const c of table) {
    it(c.name, () => {
      const engine = engineOf([{ ...high, ...c.config }]);
      const r = feed(
        engine,
        c.values.map((v, i) => sig('Press1.OilTemp', v as never, i)),
      );
      const values = r.events.map((e) => Number(/Oil temperature ([\d.]+)/.exec((e.payload as { name: string }).name)![1]));
      assert.deepEqual(values, c.fired);
      assert.equal(r.invalid.length, 0);
    });
  }

  it('builds the maintenance request', () => {
    const engine = engineOf([{ ...high, description: 'Measured {{value}} (limit {{limit}}) at {{tag}}', priority: 3 }]);
    const r = feed(engine, [sig('Press1.OilTemp', 70, 0), sig('Press1.OilTemp', 83.25, 1)]);
    assert.equal(r.events.length, 1);
    const e = r.events[0]!;
    assert.equal(e.type, 'maintenance.requested');
    assert.equal(e.sequenceKey, 'equipment:Press 1 hydraulics');
    assert.deepEqual(e.payload, {
      equipment: 'Press 1 hydraulics',
      name: 'Oil temperature 83.3 °C on Press 1 hydraulics',
      description: 'Measured 83.25 (limit 80) at Press1.OilTemp',
      maintenanceType: 'corrective',
      priority: '3',
    });
  });

  it('watches each matching tag on its own', () => {
    const engine = engineOf([{ ...high, tag: 'Press1.*Temp' }]);
    const r = feed(engine, [sig('Press1.OilTemp', 85, 0), sig('Press1.MotorTemp', 85, 0), sig('Press1.OilTemp', 86, 1)]);
    assert.deepEqual(
      r.events.map((e) => (e.payload as { name: string }).name),
      ['Oil temperature 85.0 °C on Press 1 hydraulics', 'Oil temperature 85.0 °C on Press 1 hydraulics'],
    );
    assert.notEqual(r.events[0]!.id, r.events[1]!.id);
  });

  it('the same reading read twice gives the same id', () => {
    const s = [sig('Press1.OilTemp', 85, 0)];
    assert.equal(engineOf([high]).process(s, CTX).events[0]!.id, engineOf([high]).process(s, CTX).events[0]!.id);
  });

  it('text that is not a number is invalid and changes nothing', () => {
    const engine = engineOf([high]);
    const r = feed(engine, [sig('Press1.OilTemp', 'hot', 0), sig('Press1.OilTemp', 85, 1)]);
    assert.equal(r.invalid.length, 1);
    assert.match(r.invalid[0]!.reason, /not a number/);
    assert.equal(r.events.length, 1);
  });
});

describe('threshold config', () => {
  const table: Array<[config: Record<string, unknown>, problem: RegExp | null]> = [
    [high, null],
    [{ ...high, above: undefined }, /exactly one of `above` or `below`/],
    [{ ...high, below: 10 }, /exactly one of `above` or `below`/],
    [{ ...high, hysteresis: -1 }, /hysteresis/],
    [{ ...high, priority: 5 }, /priority/],
    [{ ...high, priority: '2' }, null],
    [{ ...high, title: 'Oil {{value' }, /unclosed/],
  ];
  for (const [config, problem] of table) {
    it(`${problem ?? 'valid'} ${JSON.stringify(config).slice(0, 60)}`, () => {
      const problems = configProblems(config);
      if (!problem) assert.equal(problems, '');
      else assert.match(problems, problem);
    });
  }
});
