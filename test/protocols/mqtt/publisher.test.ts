import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { mqttOutSchema } from '../../../agent/protocols/mqtt/config';
import { MqttStatusPublisher, type AgentState } from '../../../agent/protocols/mqtt/publisher';
import { startBroker, uniqueClientId, uniquePrefix, type TestBroker } from '../../helpers/broker';
import { endClient, publish, silentLog, testClient, waitFor } from './support';

let broker: TestBroker;
let watcher: MqttClient;
const retainedToClear: string[] = [];

before(async () => {
  broker = await startBroker();
  watcher = await testClient(broker.url, uniqueClientId('watch'));
});

after(async () => {
  for (const t of retainedToClear) await publish(watcher, t, '', 1, true); // an empty retained message clears the topic
  await endClient(watcher);
  await broker.close();
});

function makePublisher(plant: string, extra: Record<string, unknown> = {}) {
  const config = mqttOutSchema.parse({
    url: broker.url,
    clientId: uniqueClientId('out'),
    status: { topic: `${uniquePrefix('status')}/{plant}/status` },
    ...extra,
  });
  const p = new MqttStatusPublisher({ config, plant, version: '9.8.7', stateDir: '/nonexistent', log: silentLog });
  retainedToClear.push(p.statusTopic);
  return p;
}

/** Subscribe a fresh client to `topic` and collect the states it sees (retained first). */
async function observe(topic: string): Promise<{ states: AgentState[]; retainedFlags: boolean[]; close(): Promise<void> }> {
  const client = await testClient(broker.url, uniqueClientId('obs'));
  const states: AgentState[] = [];
  const retainedFlags: boolean[] = [];
  client.on('message', (t, payload, packet) => {
    if (t !== topic || payload.length === 0) return;
    states.push(JSON.parse(payload.toString()) as AgentState);
    retainedFlags.push(packet.retain);
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { states, retainedFlags, close: () => endClient(client) };
}

describe('MQTT status publisher (birth and last will)', () => {
  test('a second client sees the retained online state, then offline after the agent socket is destroyed', async () => {
    const agent = makePublisher('plant-w', { reconnectPeriodMs: 60_000 });
    assert.match(agent.statusTopic, /\/plant-w\/status$/);
    await agent.start();
    await waitFor('birth published', () => (agent.health().details.births as number) === 1);

    const late = await observe(agent.statusTopic); // subscribes after the birth: gets it because it is retained
    await waitFor('retained online', () => late.states.length === 1);
    assert.equal(late.states[0]!.state, 'online');
    assert.equal(late.states[0]!.version, '9.8.7');
    assert.equal(late.states[0]!.plant, 'plant-w');
    assert.equal(late.retainedFlags[0], true);

    (agent as unknown as { client: MqttClient }).client.stream.destroy(); // no DISCONNECT: the broker sends the will
    await waitFor('last will', () => late.states.length === 2);
    assert.equal(late.states[1]!.state, 'offline');
    assert.equal(late.states[1]!.reason, 'connection lost');
    await late.close();

    const newcomer = await observe(agent.statusTopic);
    await waitFor('retained offline', () => newcomer.states.length === 1);
    assert.equal(newcomer.states[0]!.state, 'offline');
    assert.equal(newcomer.retainedFlags[0], true);
    await newcomer.close();
    await agent.stop();
  });

  test('a clean stop publishes offline (shutdown); the will is not needed', async () => {
    const agent = makePublisher('plant-s');
    const obs = await observe(agent.statusTopic);
    await agent.start();
    await waitFor('online', () => obs.states.length === 1);
    assert.equal(obs.states[0]!.state, 'online');
    await agent.stop();
    await waitFor('offline', () => obs.states.length === 2);
    assert.deepEqual({ state: obs.states[1]!.state, reason: obs.states[1]!.reason }, { state: 'offline', reason: 'shutdown' });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(obs.states.length, 2, 'no second offline from a will after a clean stop');
    await obs.close();
    await agent.stop(); // twice is safe
  });

  test('publish() sends on the agent connection and refuses before start and after stop', async () => {
    const agent = makePublisher('plant-p');
    await assert.rejects(agent.publish('x/y', 'a'), { code: 'MQTT_NOT_STARTED' });
    await agent.start();
    const topic = `${uniquePrefix('orders')}/released`;
    const client = await testClient(broker.url, uniqueClientId('orders'));
    const got: Array<{ body: string; retain: boolean }> = [];
    client.on('message', (_t, payload, packet) => got.push({ body: payload.toString(), retain: packet.retain }));
    await client.subscribeAsync(topic, { qos: 1 });
    await agent.publish(topic, { order: 'WH/MO/00042', qty: 5 }, { qos: 1 });
    await waitFor('order message', () => got.length === 1);
    assert.deepEqual(JSON.parse(got[0]!.body), { order: 'WH/MO/00042', qty: 5 });
    await assert.rejects(agent.publish('bad/+/topic', 'x'), { code: 'MQTT_BAD_TOPIC' });
    await endClient(client);
    await agent.stop();
    await assert.rejects(agent.publish(topic, 'late'), { code: 'MQTT_NOT_STARTED' });
  });
});
