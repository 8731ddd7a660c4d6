import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import cron from 'node-cron';
import { cronProblem } from '../../agent/config/cron';

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
});
