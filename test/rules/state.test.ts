import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, CTX, engineOf, feed, sig, configProblems } from './helpers';

const codes = {
  kind: 'state',
  name: 'press1-state',
  source: 'plc1',
  tag: 'Press1.State',
  workcenter: 'Press 1',
  runningCodes: [1],
  idleCodes: [0],
  codes: { '3': { reason: 'Material Availability' }, '4': { reason: 'Equipment Failure', description: 'Breakdown (code {{code}})' } },
};
const bool = { kind: 'state', name: 'press1-fault', source: 'plc1', tag: 'Press1.Fault', workcenter: 'Press 1', edge: 'rising', reason: 'Equipment Failure' };

/** `type@seconds reason` per event, using the downtime id's start for both events of a stop. */
function summary(events: Array<{ type: string; occurredAt: string; payload: unknown }>): string[] {
  return events.map((e) => {
    const p = e.payload as { reason?: string; downtimeId: string };
    const secs = (Date.parse(e.occurredAt) - Date.parse(at(0))) / 1000;
    return `${e.type.replace('downtime.', '')}@${secs} ${p.reason ?? ''}`.trim();
  });
}

describe('state rule: codes', () => {
  const table: Array<{ name: string; config?: Record<string, unknown>; readings: Array<[unknown, number]>; expected: string[]; invalid?: number }> = [
    {
      name: 'running stays quiet',
      readings: [
        [1, 0],
        [1, 5],
      ],
      expected: [],
    },
    {
      name: 'a stop and its end',
      readings: [
        [1, 0],
        [3, 10],
        [3, 20],
        [1, 70],
      ],
      expected: ['started@10 Material Availability', 'ended@70 Material Availability'],
    },
    {
      name: 'string codes are the same codes',
      readings: [
        ['1', 0],
        ['3', 10],
        [' 1 ', 70],
      ],
      expected: ['started@10 Material Availability', 'ended@70 Material Availability'],
    },
    {
      name: 'an unlisted code uses the default reason',
      readings: [
        [1, 0],
        [9, 10],
        [1, 20],
      ],
      expected: ['started@10 Equipment Failure', 'ended@20 Equipment Failure'],
    },
    {
      name: 'a new reason ends one stop and starts the next',
      readings: [
        [1, 0],
        [3, 10],
        [4, 30],
        [1, 50],
      ],
      expected: ['started@10 Material Availability', 'ended@30 Material Availability', 'started@30 Equipment Failure', 'ended@50 Equipment Failure'],
    },
    {
      name: 'an idle code ends a stop and starts none',
      readings: [
        [3, 0],
        [0, 10],
        [1, 20],
      ],
      expected: ['started@0 Material Availability', 'ended@10 Material Availability'],
    },
    {
      name: 'idle is not a stop',
      readings: [
        [1, 0],
        [0, 10],
        [1, 20],
      ],
      expected: [],
    },
    {
      name: 'minDuration drops short stops',
      config: { minDuration: 30 },
      readings: [
        [1, 0],
        [3, 10],
        [1, 20],
        [3, 100],
        [1, 200],
      ],
      expected: ['started@100 Material Availability', 'ended@200 Material Availability'],
    },
    {
      name: 'minDuration announces a long stop once it has lasted, with its real start',
      config: { minDuration: 30 },
      readings: [
        [1, 0],
        [3, 10],
        [3, 25],
        [3, 45],
        [3, 60],
        [1, 90],
      ],
      expected: ['started@10 Material Availability', 'ended@90 Material Availability'],
    },
    {
      name: 'a reading already taken (a replay) is ignored',
      readings: [
        [1, 0],
        [3, 10],
        [1, 20],
        [3, 10],
      ],
      expected: ['started@10 Material Availability', 'ended@20 Material Availability'],
    },
    {
      name: 'a non-code value is invalid',
      readings: [
        [1, 0],
        [{ x: 1 }, 10],
        [1, 20],
      ],
      expected: [],
      invalid: 1,
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const engine = engineOf([{ ...codes, ...c.config }]);
      const r = feed(
        engine,
        c.readings.map(([v, s]) => sig('Press1.State', v as never, s)),
      );
      assert.deepEqual(summary(r.events), c.expected);
      assert.equal(r.invalid.length, c.invalid ?? 0);
    });
  }

  it('both events of a stop share one downtimeId; the end carries startedAt', () => {
    const engine = engineOf([codes]);
    const r = feed(engine, [sig('Press1.State', 1, 0), sig('Press1.State', 4, 10), sig('Press1.State', 1, 70)]);
    const [start, end] = r.events;
    assert.deepEqual(start!.payload, {
      downtimeId: 'Press 1@2025-03-03T06:00:10.000Z',
      workcenter: 'Press 1',
      reason: 'Equipment Failure',
      description: 'Breakdown (code 4)',
    });
    assert.deepEqual(end!.payload, {
      downtimeId: 'Press 1@2025-03-03T06:00:10.000Z',
      workcenter: 'Press 1',
      reason: 'Equipment Failure',
      startedAt: '2025-03-03T06:00:10.000Z',
    });
    assert.equal(start!.sequenceKey, 'workcenter:Press 1');
    assert.equal(end!.sequenceKey, 'workcenter:Press 1');
    assert.notEqual(start!.id, end!.id);
  });

  it('the same stop read again gives the same ids', () => {
    const readings = [sig('Press1.State', 1, 0), sig('Press1.State', 3, 10), sig('Press1.State', 1, 70)];
    const a = engineOf([codes]).process(readings, CTX);
    const b = engineOf([codes]).process(readings, CTX);
    assert.deepEqual(
      a.events.map((e) => e.id),
      b.events.map((e) => e.id),
    );
  });
});

describe('state rule: boolean edges', () => {
  const table: Array<{ name: string; config: Record<string, unknown>; readings: Array<[unknown, number]>; expected: string[] }> = [
    {
      name: 'rising: true is stopped',
      config: {},
      readings: [
        [false, 0],
        [true, 10],
        [true, 15],
        [false, 40],
      ],
      expected: ['started@10 Equipment Failure', 'ended@40 Equipment Failure'],
    },
    {
      name: 'falling: false is stopped (a running bit)',
      config: { edge: 'falling', reason: 'Setup and Adjustments' },
      readings: [
        [1, 0],
        [0, 10],
        [1, 40],
      ],
      expected: ['started@10 Setup and Adjustments', 'ended@40 Setup and Adjustments'],
    },
    {
      name: 'text on/off',
      config: {},
      readings: [
        ['off', 0],
        ['on', 10],
        ['off', 40],
      ],
      expected: ['started@10 Equipment Failure', 'ended@40 Equipment Failure'],
    },
    {
      name: 'stopped at the first reading',
      config: {},
      readings: [
        [true, 0],
        [false, 5],
      ],
      expected: ['started@0 Equipment Failure', 'ended@5 Equipment Failure'],
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const engine = engineOf([{ ...bool, ...c.config }]);
      const r = feed(
        engine,
        c.readings.map(([v, s]) => sig('Press1.Fault', v as never, s)),
      );
      assert.deepEqual(summary(r.events), c.expected);
    });
  }

  it('a value that is not on/off is invalid', () => {
    const r = feed(engineOf([bool]), [sig('Press1.Fault', 'maybe', 0)]);
    assert.equal(r.invalid.length, 1);
    assert.match(r.invalid[0]!.reason, /not on\/off/);
  });
});

describe('state config', () => {
  const table: Array<[config: Record<string, unknown>, problem: RegExp | null]> = [
    [codes, null],
    [bool, null],
    [{ ...codes, edge: 'rising' }, /exactly one of/],
    [{ ...bool, edge: undefined }, /exactly one of/],
    [{ ...codes, runningCodes: [1, 3] }, /listed as running and as a stop/],
    [{ ...codes, idleCodes: [1] }, /both running and idle/],
    [{ ...bool, codes: { '3': { reason: 'X' } } }, /not with `edge`/],
    [{ ...codes, codes: { '3': { reason: '' } } }, /codes/],
    [{ ...codes, codes: { '3': { reason: 'X', why: 'Y' } } }, /why/],
    [{ ...bool, edge: 'both' }, /edge/],
  ];
  for (const [config, problem] of table) {
    it(`${problem ?? 'valid'}`, () => {
      const problems = configProblems(config);
      if (!problem) assert.equal(problems, '');
      else assert.match(problems, problem);
    });
  }
});
