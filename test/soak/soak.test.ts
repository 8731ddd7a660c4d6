import assert from 'node:assert/strict';
import { it } from 'node:test';
import { testSeed } from '../helpers/seed';
import { runSoak } from './driver';

/**
 * The soak in small (`npm run soak` is the long one, docs/guarantees.md):
 * the real agent process with MQTT, Modbus, OPC UA and a serial scanner at
 * once, SIGKILLed 5 times, the WAN cut, Odoo storming and the disk full at
 * least once each; everything owed is in Odoo once and in order.
 */
it(
  'soak: the agent SIGKILLed 5 times with four real sources, a cut WAN, an Odoo fault storm and a full disk loses, doubles and reorders nothing',
  { timeout: 180_000 },
  async (t) => {
    const seed = testSeed(t);
    const s = await runSoak({ kills: 5, seed, lifeMs: [2500, 6000], drainTimeoutMs: 90_000 });
    t.diagnostic(JSON.stringify(s));
    process.stdout.write(`# ${JSON.stringify(s)}\n`);
    assert.deepEqual(s.problems, []);
    assert.equal(s.kills + s.selfExits.diskFull, 5, 'every round ended in a kill, or in the agent stopping on the full disk');
    assert.ok(s.kills >= 3);
    assert.equal(s.selfExits.other, 0);
    assert.ok(s.cuts >= 1, 'the WAN was cut');
    assert.ok(s.storms >= 1 || s.skipped.some((r) => /storm/.test(r)), 'Odoo stormed');
    assert.ok(s.diskFills >= 1 || s.skipped.some((r) => /disk full/.test(r)), 'the disk filled');
    assert.ok(s.messagesAcknowledged > 50, `MQTT messages acknowledged: ${s.messagesAcknowledged}`);
    for (const source of ['mqtt', 'modbus', 'opcua', ...(s.skipped.some((r) => /scanner/.test(r)) ? [] : ['scanner'])]) {
      assert.ok((s.eventsCommittedBySource[source] ?? 0) > 0, `events from ${source}: ${JSON.stringify(s.eventsCommittedBySource)}`);
    }
    assert.equal(s.lost, 0);
    assert.equal(s.doubled, 0);
    assert.equal(s.reordered, 0);
    assert.equal(s.finalExit, 0);
  },
);
