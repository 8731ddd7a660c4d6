import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { SqliteOutbox } from '../../../agent/buffer/sqlite-outbox';
import { MqttSourceAdapter } from '../../../agent/protocols/mqtt/adapter';
import { RuleEngine } from '../../../agent/rules/engine';
import { Pipeline } from '../../../agent/runtime/pipeline';
import { dropSession, startBroker, uniqueClientId, uniquePrefix, type TestBroker } from '../../helpers/broker';
import { endClient, publish, recordingContext, silentLog, sleep, sourceConfig, testClient, waitFor } from './support';

/**
 * Payload limits end to end: a real broker, the MQTT source, the rules and a
 * SQLite outbox. A message over a limit is kept as invalid input and the
 * messages after it are committed.
 */

let broker: TestBroker;
let pub: MqttClient;
const sessions: string[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

before(async () => {
  broker = await startBroker();
  process.stdout.write(`# MQTT broker for these tests: ${broker.kind} at ${broker.url}\n`);
  pub = await testClient(broker.url, uniqueClientId('limits-pub'));
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await endClient(pub);
  for (const id of sessions) await dropSession(broker.url, id);
  await broker.close();
});

const mesEvent = (id: string) =>
  JSON.stringify({
    id,
    type: 'production.reported',
    sequenceKey: 'WH/MO/00042',
    occurredAt: '2025-03-03T11:58:00.000Z',
    payload: { production: 'WH/MO/00042', totalQuantity: 120 },
  });

/** The agent's path from one MQTT source to a SQLite outbox, with an `event` and a `template` rule. */
async function agentPath(prefix: string, extra: Record<string, unknown> = {}) {
  const files = recordingContext();
  const outbox = new SqliteOutbox({ path: join(files.stateDir, 'outbox.db'), log: silentLog });
  const engine = RuleEngine.fromConfig([
    { kind: 'event', name: 'mes-events', source: 'line1-mes', tag: `${prefix}/events` },
    {
      kind: 'template',
      name: 'counters',
      source: 'line1-mes',
      tag: `${prefix}/counters`,
      type: 'production.reported',
      payload: { production: '{{value.order}}', totalQuantity: '{{value.good|number}}' },
    },
  ]);
  const pipeline = new Pipeline(outbox, engine, { plant: 'plant1', log: silentLog });
  const clientId = uniqueClientId('limits');
  sessions.push(clientId);
  const config = sourceConfig({
    name: 'line1-mes',
    url: broker.url,
    clientId,
    subscriptions: [{ topic: `${prefix}/#`, qos: 1 }],
    retryMinMs: 20,
    retryMaxMs: 100,
    ...extra,
  });
  const adapter = new MqttSourceAdapter(
    config,
    { log: silentLog, stateDir: files.stateDir, emit: (s) => pipeline.emit(s), reject: (i) => pipeline.reject(i) },
    { plant: 'plant1' },
  );
  cleanups.push(async () => {
    await adapter.stop();
    await outbox.close();
    files.dispose();
  });
  await adapter.start();
  await waitFor('adapter connected', () => adapter.health().connected);
  await sleep(100);
  return { adapter, outbox };
}

describe('MQTT payload limits against a real broker', () => {
  test('a JSON message nested 6,000 deep is kept as invalid input and the next message is committed (it wedged the source: Maximum call stack size exceeded)', async () => {
    const p = uniquePrefix('deep');
    const { adapter, outbox } = await agentPath(p);
    const deep = '{"a":'.repeat(6000) + '1' + '}'.repeat(6000);
    assert.equal(deep.length, 36_001);
    await publish(pub, `${p}/events`, deep);
    await publish(pub, `${p}/counters`, deep);
    await publish(pub, `${p}/events`, mesEvent('MES-1'));
    await publish(pub, `${p}/counters`, JSON.stringify({ order: 'WH/MO/00042', good: 7 }));
    await waitFor('both good messages committed', () => outbox.counts().pending === 2, 10_000);
    const invalid = outbox.listInvalid();
    assert.equal(invalid.length, 2, JSON.stringify(invalid.map((i) => i.reason)));
    for (const i of invalid) {
      assert.match(i.reason, /nested deeper than 64 levels .*maxDepth/);
      assert.equal(i.raw, deep, 'the message is kept whole');
    }
    assert.ok(outbox.get('MES-1'), 'the good event after it is in the outbox');
    assert.equal(adapter.health().details?.paused, false);
    assert.equal(adapter.health().details?.waiting, 0, 'nothing held back');
  });

  test('a message over maxPayloadBytes is kept as invalid input and the source goes on', async () => {
    const p = uniquePrefix('size');
    const { outbox } = await agentPath(p, { maxPayloadBytes: 1024 });
    const big = JSON.stringify({ order: 'WH/MO/00042', good: 1, note: 'x'.repeat(2000) });
    await publish(pub, `${p}/counters`, big);
    await publish(pub, `${p}/events`, mesEvent('MES-2'));
    await waitFor('the good message committed', () => outbox.get('MES-2') !== undefined, 10_000);
    const invalid = outbox.listInvalid();
    assert.equal(invalid.length, 1);
    assert.match(invalid[0]!.reason, new RegExp(`payload of ${big.length} bytes is over this source's maxPayloadBytes \\(1024\\)`));
    assert.equal(invalid[0]!.raw, big);
  });

  test('maxDepth is per source: a lower limit refuses what the default takes', async () => {
    const p = uniquePrefix('depth');
    const { outbox } = await agentPath(p, { maxDepth: 2 });
    await publish(pub, `${p}/counters`, JSON.stringify({ order: 'WH/MO/1', good: 1, extra: { a: { b: 1 } } }));
    await publish(pub, `${p}/events`, mesEvent('MES-3'));
    await waitFor('the good message committed', () => outbox.get('MES-3') !== undefined, 10_000);
    const invalid = outbox.listInvalid();
    assert.equal(invalid.length, 1);
    assert.match(invalid[0]!.reason, /nested deeper than 2 levels/);
  });
});
