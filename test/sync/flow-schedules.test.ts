import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import cron from 'node-cron';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { parseConfigText } from '../../agent/config/load';
import { startSchedules, writeReconciliation } from '../../agent/runtime/schedules';
import { MasterDataCache } from '../../agent/sync/master-data';
import { nextShiftChange } from '../../agent/model/plant-time';
import { until } from '../helpers/until';
import { consumption } from '../helpers/flow-events';

const dir = mkdtempSync(join(tmpdir(), 'flow-schedules-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
let n = 0;

function setup(cronExpr: string, clock?: () => number) {
  const config = parseConfigText(
    `plant:\n  id: flows\nstateDir: ${dir}\nschedules:\n  flows:\n    - { name: consumption-hourly, cron: "${cronExpr}", mode: rollup, types: [material.consumed] }\n`,
    'flows.yaml',
  );
  const outbox = new SqliteOutbox({ path: join(dir, `s${++n}.db`), flows: config.schedules.flows, now: clock });
  let wakes = 0;
  const schedules = startSchedules(config, { outbox, log, masterData: new MasterDataCache(outbox.masterData), released: () => wakes++, now: clock });
  return { config, outbox, schedules, wakes: () => wakes };
}

describe('flow schedules', () => {
  it('runs a flow job on demand: one transaction, then the sync worker is woken', async () => {
    // Once a year: only the direct call can fire it during the test.
    const { outbox, schedules, wakes } = setup('0 0 1 1 *');
    try {
      await outbox.enqueue([consumption('WH/MO/00012', 2), consumption('WH/MO/00012', 3)]);
      assert.equal(outbox.counts().pending, 0);
      const r = await schedules.run('flow:consumption-hourly');
      assert.deepEqual(r, { flow: 'consumption-hourly', members: 2, events: 1, keys: 1 });
      assert.equal(outbox.counts().pending, 1);
      assert.equal(wakes(), 1);
      await schedules.run('flow:consumption-hourly');
      assert.equal(wakes(), 1, 'nothing released, nobody woken');
      await assert.rejects(schedules.run('flow:nope'), { code: 'UNKNOWN_JOB' });
      const next = schedules.nextRun('flow:consumption-hourly');
      assert.ok(next !== null && next > Date.now(), 'the next release is known (status page)');
      assert.equal(schedules.nextRun('flow:nope'), null);
    } finally {
      schedules.stop();
      await outbox.close();
    }
  });

  it('node-cron fires a flow with a seconds field: "* * * * * *" releases within about a second', async () => {
    assert.equal(cron.validate('* * * * * *'), true, 'node-cron takes an optional first field of seconds');
    const { outbox, schedules, wakes } = setup('* * * * * *');
    try {
      await outbox.enqueue([consumption('WH/MO/00012', 2), consumption('WH/MO/00012', 3)]);
      const deadline = Date.now() + 5000;
      while (outbox.counts().pending === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(outbox.counts().pending, 1, 'the task fired and rolled the two up');
      assert.equal((outbox.list()[0]!.event.payload as { quantity: number }).quantity, 5);
      assert.ok(wakes() >= 1);
    } finally {
      schedules.stop();
      await outbox.close();
    }
  });

  it('the retention job prunes released flow members; the reconciliation report counts held events', async () => {
    let now = Date.UTC(2026, 10, 25, 12);
    const { config, outbox, schedules } = setup('0 0 1 1 *', () => now);
    try {
      await outbox.enqueue([consumption('WH/MO/1', 1), consumption('WH/MO/1', 2)]);
      await schedules.run('flow:consumption-hourly');
      await outbox.enqueue([consumption('WH/MO/2', 4)]);
      now = Date.UTC(2026, 10, 26, 6, 5);
      const { file } = writeReconciliation(config, outbox, now, log);
      const report = JSON.parse(readFileSync(file, 'utf8')) as { flows: unknown; received: Array<{ type: string; events: number }> };
      assert.deepEqual(report.flows, [
        { flow: 'consumption-hourly', type: 'material.consumed', state: 'held', events: 1 },
        { flow: 'consumption-hourly', type: 'material.consumed', state: 'released', events: 2 },
      ]);
      assert.deepEqual(report.received, [{ type: 'material.consumed', state: 'pending', events: 1 }], 'the roll-up');
      now += 31 * 86_400_000;
      const pruned = (await schedules.run('retention')) as { flowMembers: number };
      assert.equal(pruned.flowMembers, 2);
      assert.equal(outbox.flowStatus()[0]!.held, 1, 'held events stay');
    } finally {
      schedules.stop();
      await outbox.close();
    }
  });

  const shiftsYaml = `  timezone: Europe/Berlin\n  shifts:\n    - { name: early, start: "06:00" }\n    - { name: late, start: "14:00" }\n    - { name: night, start: "22:00" }\n`;
  const SHIFTS = [
    { name: 'early', start: '06:00' },
    { name: 'late', start: '14:00' },
    { name: 'night', start: '22:00' },
  ];

  function setupPlant(flowCron: string, clock: () => number) {
    const config = parseConfigText(
      `plant:\n  id: flows\n${shiftsYaml}stateDir: ${dir}\nschedules:\n  reconciliation: "5 6 * * *"\n  flows:\n    - { name: per-shift, cron: "${flowCron}", mode: rollup, types: [material.consumed] }\n`,
      'flows.yaml',
    );
    const outbox = new SqliteOutbox({ path: join(dir, `s${++n}.db`), flows: config.schedules.flows, now: clock });
    const schedules = startSchedules(config, { outbox, log, masterData: new MasterDataCache(outbox.masterData), now: clock });
    return { config, outbox, schedules };
  }

  it('a flow with cron "@shift-change" releases at the next shift change of plant.shifts', async () => {
    // A clock set so that the next shift change (Europe/Berlin) is 300 ms away.
    const real = Date.now();
    const skew = nextShiftChange(real + 3_600_000, 'Europe/Berlin', SHIFTS) - real - 300;
    const clock = () => Date.now() + skew;
    const { outbox, schedules } = setupPlant('@shift-change', clock);
    try {
      assert.equal(schedules.nextRun('flow:per-shift'), nextShiftChange(clock(), 'Europe/Berlin', SHIFTS));
      await outbox.enqueue([consumption('WH/MO/00012', 2), consumption('WH/MO/00012', 3)]);
      assert.equal(outbox.counts().pending, 0);
      await until(() => outbox.counts().pending === 1, 'the shift change released the roll-up', 5000);
      assert.equal((outbox.list()[0]!.event.payload as { quantity: number }).quantity, 5);
      assert.ok(schedules.nextRun('flow:per-shift')! - clock() > 7 * 3_600_000, 'the next one is a shift later');
    } finally {
      schedules.stop();
      await outbox.close();
    }
  });

  it('"@shift-change" without plant.shifts is refused with file and line', () => {
    assert.throws(
      () =>
        parseConfigText(
          `plant:\n  id: flows\nstateDir: ${dir}\nschedules:\n  flows:\n    - { name: f, cron: "@shift-change", mode: batch, types: [quality.recorded] }\n`,
          'flows.yaml',
        ),
      (err: Error & { problems?: string[] }) =>
        (err.problems ?? []).some((p) => /^flows\.yaml:6:\d+: schedules\.flows\[0\]\.cron: @shift-change needs a shift calendar: set plant\.shifts/.test(p)),
    );
  });

  it('cron schedules run in plant time: "5 6 * * *" is 06:05 in Berlin, summer or winter', () => {
    const winter = Date.UTC(2026, 0, 15, 0, 0);
    const a = setupPlant('0 0 1 1 *', () => winter);
    try {
      const next = new Date(a.schedules.nextRun('reconciliation')!);
      // 06:05 Berlin is 05:05 UTC in winter, 04:05 UTC in summer.
      assert.ok([5, 4].includes(next.getUTCHours()) && next.getUTCMinutes() === 5, next.toISOString());
      const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next);
      assert.equal(berlin, '06:05');
    } finally {
      a.schedules.stop();
      void a.outbox.close();
    }
  });

  it('the reconciliation report covers the plant day before: 23 hours on the day the clocks go forward', async () => {
    let now = Date.UTC(2026, 2, 29, 12);
    const { config, outbox, schedules } = setupPlant('0 0 1 1 *', () => now);
    try {
      await outbox.enqueue([consumption('WH/MO/1', 1)]);
      now = Date.UTC(2026, 2, 30, 4, 5); // 06:05 in Berlin on the 30th
      const { file } = writeReconciliation(config, outbox, now, log);
      const report = JSON.parse(readFileSync(file, 'utf8')) as { day: string; timezone: string; from: string; to: string };
      assert.deepEqual(
        { day: report.day, timezone: report.timezone, from: report.from, to: report.to },
        { day: '2026-03-29', timezone: 'Europe/Berlin', from: '2026-03-28T23:00:00.000Z', to: '2026-03-29T22:00:00.000Z' },
      );
      assert.match(file, /reconciliation-2026-03-29\.json$/);
    } finally {
      schedules.stop();
      await outbox.close();
    }
  });
});
