import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { parseConfigText } from '../../../agent/config/load';
import { startAgent, type RunningAgent } from '../../../agent/runtime/agent';
import { startBroker, uniqueClientId, uniquePrefix, type TestBroker } from '../../helpers/broker';
import { endClient, publish, testClient, waitFor } from './support';

/**
 * The MES example of docs/rules.md, end to end: a stop message published on a
 * real broker, read by the agent's MQTT source, mapped by a template rule with
 * JSONata expressions, and found as a closed downtime in the outbox.
 */
describe('MES stop messages through a real broker to the outbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mes-mapping-'));
  const prefix = uniquePrefix('mes-stops');
  let broker: TestBroker;
  let agent: RunningAgent;

  before(async () => {
    broker = await startBroker();
    const yaml = [
      'plant: { id: mes_mapping }',
      `stateDir: ${JSON.stringify(dir)}`,
      'sources:',
      `  - { name: mes, type: mqtt, url: ${JSON.stringify(broker.url)}, clientId: ${JSON.stringify(uniqueClientId('mes-map'))}, subscriptions: [{ topic: "${prefix}/#" }] }`,
      'rules:',
      '  - kind: template',
      '    name: mes-stops',
      '    source: mes',
      `    tag: ${prefix}/+/stops`,
      '    type: downtime.ended',
      '    maps:',
      '      lossReasons: { E12: Material Availability, E40: Equipment Failure }',
      '    payload:',
      '      downtimeId: "= value.stopId"',
      '      workcenter: "= value.machine"',
      `      reason: "= $lookup($maps.lossReasons, value.code) ?: 'Equipment Failure'"`,
      '      startedAt: "= $fromMillis($toMillis(value.time) - value.duration_s * 1000)"',
      '    occurredAt: "= value.time"',
      `    id: "= 'mes-stop-' & value.stopId"`,
      '',
    ].join('\n');
    agent = await startAgent(parseConfigText(yaml, join(dir, 'config.yaml')), { log: pino({ level: 'silent' }) });
  });
  after(async () => {
    await agent?.stop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a stop with duration_s becomes one closed downtime; a message whose expression fails is invalid input and the next one still arrives', async () => {
    const client = await testClient(broker.url, uniqueClientId('mes-pub'));
    try {
      // The subscription is in place once a message sent now arrives: send until the first one is in.
      const first = JSON.stringify({ stopId: 'S-1', machine: 'Press 1', code: 'E12', time: '2026-11-26T09:40:00Z', duration_s: 600 });
      await publish(client, `${prefix}/press1/stops`, first);
      await waitFor(
        'the first stop in the outbox',
        () => agent.outbox.get('mes-stop-S-1') !== undefined || (void publish(client, `${prefix}/press1/stops`, first), false),
        15_000,
      );
      await publish(
        client,
        `${prefix}/press1/stops`,
        JSON.stringify({ stopId: 'S-2', machine: 'Press 1', code: 'E40', time: '2026-11-26T10:00:00Z', duration_s: 'long' }),
      );
      await publish(
        client,
        `${prefix}/press1/stops`,
        JSON.stringify({ stopId: 'S-3', machine: 'Press 1', code: 'X', time: '2026-11-26T11:00:00Z', duration_s: 90 }),
      );
      await waitFor('the third stop in the outbox', () => agent.outbox.get('mes-stop-S-3') !== undefined);
    } finally {
      await endClient(client);
    }
    const one = agent.outbox.get('mes-stop-S-1')!.event;
    assert.equal(one.type, 'downtime.ended');
    assert.equal(one.occurredAt, '2026-11-26T09:40:00.000Z');
    assert.deepEqual(one.payload, { downtimeId: 'S-1', workcenter: 'Press 1', reason: 'Material Availability', startedAt: '2026-11-26T09:30:00.000Z' });
    assert.deepEqual(agent.outbox.get('mes-stop-S-3')!.event.payload, {
      downtimeId: 'S-3',
      workcenter: 'Press 1',
      reason: 'Equipment Failure',
      startedAt: '2026-11-26T10:58:30.000Z',
    });
    assert.equal(agent.outbox.get('mes-stop-S-2'), undefined);
    const invalid = agent.outbox.listInvalid().filter((i) => i.raw.includes('"S-2"'));
    assert.equal(invalid.length, 1);
    assert.match(invalid[0]!.reason, /payload\.startedAt .* failed at character \d+: The (left|right) side of the "\*" operator must evaluate to a number/);
  });
});
