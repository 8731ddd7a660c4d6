import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import cron from 'node-cron';
import { cronProblem } from '../../agent/config/cron';
import { propertyRuns } from '../helpers/property';

describe('cron expressions', () => {
  const good = [
    '17 3 * * *',
    '*/15 * * * *',
    '0 30 22 * * *',
    '0 8-17/2 * * mon-fri',
    '0 0 1 jan,jul *',
    '0 0 * * 7',
    '0 0 * * Sunday',
    '5,35 0-5 1-31 1-12 0-6',
    '0 0 29 2 *',
    '*/60 * * * *',
    '@daily',
    '@hourly',
  ];
  for (const expr of good) {
    it(`takes "${expr}" (node-cron takes it too)`, () => {
      assert.equal(cronProblem(expr), undefined);
      assert.equal(cron.validate(expr), true);
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['1-0 * * * *', /^minute "1-0": the range 1-0 runs backwards/],
    ['*/99999999999999999999 * * * *', /^minute ".*": step 99999999999999999999 is not between 1 and 60$/],
    ['*/0 * * * *', /step 0 is not between 1 and 60/],
    ['*/61 * * * *', /step 61 is not between 1 and 60/],
    ['60 * * * *', /^minute "60": 60 is not between 0 and 59$/],
    ['0 24 * * *', /^hour "24"/],
    ['0 0 0 * *', /^day "0"/],
    ['0 0 * 13 *', /^month "13"/],
    ['0 0 * * 8', /^weekday "8"/],
    ['0 0 * * funday', /"funday" is not a weekday/],
    ['0 0 * janu *', /"janu" is not a month/],
    ['5/15 * * * *', /a step needs \* or a range before it/],
    ['0 0 L * *', /^day "L"/],
    ['0 0 ? * *', /^day "\?"/],
    ['* * * *', /has 4 fields/],
    ['* * * * * * *', /has 7 fields/],
    ['0 0 30,31 2 *', /never fires/],
    ['0 0 31 4,6,9,11 *', /never fires/],
    ['1,,2 * * * *', /"" is not a number/],
  ];
  for (const [expr, reason] of bad) {
    it(`refuses "${expr}" naming the field`, () => {
      assert.match(cronProblem(expr) ?? '(taken)', reason);
    });
  }

  it('what it takes, node-cron takes; it never throws on any text', (t) => {
    const field = (min: number, max: number) =>
      fc.oneof(
        fc.constant('*'),
        fc.integer({ min, max }).map(String),
        fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
        fc.integer({ min: 1, max: max - min + 1 }).map((s) => `*/${s}`),
      );
    const list = (min: number, max: number) => fc.array(field(min, max), { minLength: 1, maxLength: 3 }).map((xs) => xs.join(','));
    const expr = fc
      .tuple(fc.boolean(), list(0, 59), list(0, 59), list(0, 23), list(1, 28), list(1, 12), list(0, 6))
      .map(([seconds, s, m, h, d, mo, w]) => [...(seconds ? [s] : []), m, h, d, mo, w].join(' '));
    fc.assert(
      fc.property(expr, (e) => {
        assert.equal(cronProblem(e), undefined, e);
        assert.equal(cron.validate(e), true, e);
      }),
      propertyRuns(t, 300),
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789*/-, ?LW#@abcjmnos'.split('')), maxLength: 30 }), (e) => {
        const problem = cronProblem(e);
        assert.ok(problem === undefined || problem.length > 0);
      }),
      propertyRuns(t, 300),
    );
  });
});
