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
});
