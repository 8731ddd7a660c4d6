import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { OutboxFullError } from '../../../agent/errors';
import { MqttSourceAdapter } from '../../../agent/protocols/mqtt/adapter';
import { dropSession, startBroker, uniqueClientId, uniquePrefix, type TestBroker } from '../../helpers/broker';
import { endClient, gate, numbers, publish, recordingContext, sleep, sourceConfig, testClient, waitFor, type RecordingContext } from './support';

let broker: TestBroker;
let pub: MqttClient;
const sessions: string[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

before(async () => {
  broker = await startBroker();
  process.stdout.write(`# MQTT broker for these tests: ${broker.kind} at ${broker.url}\n`);
  pub = await testClient(broker.url, uniqueClientId('pub'));
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await endClient(pub);
  for (const id of sessions) await dropSession(broker.url, id);
  await broker.close();
});

/** An adapter on a fresh topic prefix and client id, stopped and cleaned after the file. */
function makeAdapter(prefix: string, clientId: string, ctx: RecordingContext, extra: Record<string, unknown> = {}, subs?: Array<Record<string, unknown>>) {
  if (!sessions.includes(clientId)) sessions.push(clientId);
  const config = sourceConfig({
    name: 'line1-mes',
    url: broker.url,
    clientId,
    subscriptions: (subs ?? [{ topic: `${prefix}/#`, qos: 1 }]) as never,
    retryMinMs: 20,
    retryMaxMs: 100,
    ...extra,
  });
  const adapter = new MqttSourceAdapter(config, ctx, { plant: 'plant-a' });
  cleanups.push(async () => {
    await adapter.stop();
    ctx.dispose();
  });
  return adapter;
}

async function started(adapter: MqttSourceAdapter): Promise<void> {
  await adapter.start();
  // Subscribed once a message published now reaches us: wait for connected, then for the SUBACK to settle.
  await waitFor('adapter connected', () => adapter.health().connected);
  await sleep(100);
}

describe('MQTT source against a real broker', () => {
  test('wildcard subscriptions: + matches one level, # everything below, others are not delivered', async () => {
    const p = uniquePrefix('wild');
    const ctx = recordingContext();
    const adapter = makeAdapter(p, uniqueClientId('wild'), ctx, {}, [
      { topic: `${p}/+/temperature`, qos: 1 },
      { topic: `${p}/line2/#`, qos: 1 },
    ]);
    await started(adapter);
    await publish(pub, `${p}/line1/temperature`, '{"n":1}');
    await publish(pub, `${p}/line1/deep/temperature`, '{"n":2}'); // + is one level: no match
    await publish(pub, `${p}/line2/a/b/c`, '{"n":3}');
    await publish(pub, `${p}/line2`, '{"n":4}'); // '#' also matches the parent level
    await publish(pub, `${p}/other`, '{"n":5}');
    await publish(pub, `${p}/end/temperature`, '{"n":6}');
    await waitFor('n=6', () => numbers(ctx.signals).includes(6));
    assert.deepEqual(numbers(ctx.signals), [1, 3, 4, 6]);
    assert.deepEqual(
      ctx.signals.map((s) => s.tag),
      [`${p}/line1/temperature`, `${p}/line2/a/b/c`, `${p}/line2`, `${p}/end/temperature`],
    );
    const s = ctx.signals[0]!;
    assert.equal(s.source, 'line1-mes');
    assert.equal(s.quality, 'good');
    assert.equal(s.sourceTime, s.receivedAt);
    assert.equal(s.meta?.subscription, `${p}/+/temperature`);
    assert.equal(ctx.rejects.length, 0);
  });

  test('QoS 0, 1 and 2 messages all reach emit with their QoS, JSON and text payloads decoded', async () => {
    const p = uniquePrefix('qos');
    const ctx = recordingContext();
    const adapter = makeAdapter(p, uniqueClientId('qos'), ctx, {}, [
      { topic: `${p}/json/#`, qos: 2 },
      { topic: `${p}/text/#`, qos: 2, payload: 'text' },
    ]);
    await started(adapter);
    await publish(pub, `${p}/json/a`, '{"n":0}', 0);
    await publish(pub, `${p}/json/b`, '{"n":1}', 1);
    await publish(pub, `${p}/json/c`, '{"n":2}', 2);
    await publish(pub, `${p}/text/d`, 'LOT-42 ok', 2);
    await publish(pub, `${p}/json/e`, '17.5', 1);
    await waitFor('five signals', () => ctx.signals.length === 5);
    const byTag = new Map(ctx.signals.map((s) => [s.tag.slice(p.length + 1), s]));
    assert.equal(byTag.get('json/a')!.meta?.qos, 0);
    assert.equal(byTag.get('json/b')!.meta?.qos, 1);
    assert.equal(byTag.get('json/c')!.meta?.qos, 2);
    assert.deepEqual(byTag.get('json/c')!.value, { n: 2 });
    assert.equal(byTag.get('text/d')!.value, 'LOT-42 ok');
    assert.equal(byTag.get('json/e')!.value, 17.5);
    assert.equal(typeof byTag.get('json/b')!.meta?.messageId, 'number');
    await waitFor('acked', () => adapter.health().details!.acked === 4);
    const h = adapter.health();
    assert.equal(h.details!.received, 5);
    assert.equal(h.details!.waiting, 0);
    assert.ok(h.lastDataAt);
  });

  test('a topic seen again is decoded by the subscription it matched the first time, and another topic by its own', async () => {
    const p = uniquePrefix('again');
    const ctx = recordingContext();
    const adapter = makeAdapter(p, uniqueClientId('again'), ctx, {}, [
      { topic: `${p}/json/#`, qos: 1 },
      { topic: `${p}/text/#`, qos: 1, payload: 'text' },
    ]);
    await started(adapter);
    for (const [topic, body] of [
      ['text/d', '{"looks":"like json"}'],
      ['json/a', '{"n":1}'],
      ['text/d', '{"n":2}'],
      ['json/a', '{"n":3}'],
      ['text/e', '42'],
    ] as const) {
      await publish(pub, `${p}/${topic}`, body, 1);
    }
    await waitFor('five signals', () => ctx.signals.length === 5);
    assert.deepEqual(
      ctx.signals.map((s) => [s.tag.slice(p.length + 1), s.value, s.meta?.subscription]),
      [
        ['text/d', '{"looks":"like json"}', `${p}/text/#`],
        ['json/a', { n: 1 }, `${p}/json/#`],
        ['text/d', '{"n":2}', `${p}/text/#`],
        ['json/a', { n: 3 }, `${p}/json/#`],
        ['text/e', '42', `${p}/text/#`],
      ],
    );
  });

  test('a QoS 1 message whose commit has not finished is not acknowledged: the broker sends it again after a disconnect', async () => {
    const p = uniquePrefix('ack');
    const clientId = uniqueClientId('ack');
    const ctx1 = recordingContext();
    const hold = gate();
    ctx1.emitImpl = () => hold.wait();
    const first = makeAdapter(p, clientId, ctx1);
    await started(first);
    await publish(pub, `${p}/order`, '{"n":7}', 1);
    await waitFor('emit called', () => hold.waiting === 1);
    const stopping = first.stop();
    hold.fail(new OutboxFullError(10)); // the outbox never committed it
    await stopping;
    assert.equal(first.health().details!.acked, 0);
    assert.equal(ctx1.signals.length, 0);

    const ctx2 = recordingContext();
    const second = makeAdapter(p, clientId, ctx2);
    await started(second);
    await waitFor('redelivery', () => ctx2.signals.length === 1);
    assert.deepEqual(ctx2.signals[0]!.value, { n: 7 });
    await waitFor('acked after commit', () => second.health().details!.acked === 1);
    await second.stop();

    // Acknowledged after the commit: a third run gets the next message, not n=7 again.
    await publish(pub, `${p}/order`, '{"n":8}', 1);
    const ctx3 = recordingContext();
    const third = makeAdapter(p, clientId, ctx3);
    await started(third);
    // A later message marks the point by which a redelivered n=7 would have come (the broker keeps order on a topic).
    await publish(pub, `${p}/order`, '{"n":9}', 1);
    await waitFor('n=9', () => numbers(ctx3.signals).includes(9));
    assert.deepEqual(numbers(ctx3.signals), [8, 9]);
  });

  test('a QoS 2 message is not taken over (no PUBREC) before its commit: the broker sends it again', async () => {
    const p = uniquePrefix('qos2');
    const clientId = uniqueClientId('qos2');
    const subs = [{ topic: `${p}/#`, qos: 2 }];
    const ctx1 = recordingContext();
    const hold = gate();
    ctx1.emitImpl = () => hold.wait();
    const first = makeAdapter(p, clientId, ctx1, {}, subs);
    await started(first);
    await publish(pub, `${p}/order`, '{"n":21}', 2);
    await waitFor('emit called', () => hold.waiting === 1);
    const stopping = first.stop();
    hold.fail(new OutboxFullError(10));
    await stopping;
    assert.equal(first.health().details!.acked, 0);

    const ctx2 = recordingContext();
    const second = makeAdapter(p, clientId, ctx2, {}, subs);
    await started(second);
    await waitFor('redelivery', () => ctx2.signals.length === 1);
    assert.deepEqual(ctx2.signals[0]!.value, { n: 21 });
    assert.equal(ctx2.signals[0]!.meta?.qos, 2);
    await waitFor('PUBREC after commit', () => second.health().details!.acked === 1);
    await publish(pub, `${p}/order`, '{"n":22}', 2);
    await waitFor('next message', () => ctx2.signals.length === 2);
    await second.stop();

    const ctx3 = recordingContext();
    const third = makeAdapter(p, clientId, ctx3, {}, subs);
    await started(third);
    await publish(pub, `${p}/order`, '{"n":23}', 2);
    await waitFor('n=23', () => numbers(ctx3.signals).includes(23));
    assert.deepEqual(numbers(ctx3.signals), [23]);
  });

  test('a malformed payload goes to reject with raw text and reason, is acknowledged, and the source keeps running', async () => {
    const p = uniquePrefix('bad');
    const clientId = uniqueClientId('bad');
    const ctx = recordingContext();
    const adapter = makeAdapter(p, clientId, ctx);
    await started(adapter);
    await publish(pub, `${p}/scan`, '{"n": 1,', 1);
    await publish(pub, `${p}/scan`, Buffer.from([0xff, 0xfe, 0x00]), 1);
    await publish(pub, `${p}/scan`, '{"n":2}', 1);
    await waitFor('good message after bad ones', () => ctx.signals.length === 1);
    assert.equal(ctx.rejects.length, 2);
    const [json, bytes] = ctx.rejects;
    assert.equal(json!.raw, '{"n": 1,');
    assert.equal(json!.origin, `${p}/scan`);
    assert.equal(json!.source, 'line1-mes');
    assert.match(json!.reason, /not valid JSON/);
    assert.equal(bytes!.encoding, 'base64');
    assert.equal(Buffer.from(bytes!.raw, 'base64').toString('hex'), 'fffe00');
    assert.match(bytes!.reason, /UTF-8/);
    await waitFor('all acked', () => adapter.health().details!.acked === 3);
    assert.equal(adapter.health().details!.invalid, 2);
    assert.equal(adapter.health().connected, true);
    await adapter.stop();

    // Acknowledged: not sent again.
    await publish(pub, `${p}/scan`, '{"n":3}', 1);
    const ctx2 = recordingContext();
    const again = makeAdapter(p, clientId, ctx2);
    await started(again);
    await waitFor('n=3', () => ctx2.signals.length === 1);
    await publish(pub, `${p}/scan`, '{"n":4}', 1);
    await waitFor('n=4 after it', () => numbers(ctx2.signals).includes(4));
    assert.equal(ctx2.rejects.length, 0);
    assert.deepEqual(numbers(ctx2.signals), [3, 4]);
  });

  test('persistent session: messages published while the source is stopped arrive after it starts again', async () => {
    const p = uniquePrefix('session');
    const clientId = uniqueClientId('session');
    const ctx1 = recordingContext();
    const first = makeAdapter(p, clientId, ctx1);
    await started(first);
    await first.stop();
    for (let n = 1; n <= 3; n++) await publish(pub, `${p}/count`, JSON.stringify({ n }), 1);
    const ctx2 = recordingContext();
    const second = makeAdapter(p, clientId, ctx2);
    await started(second);
    await waitFor('three queued messages', () => ctx2.signals.length === 3);
    assert.deepEqual(numbers(ctx2.signals), [1, 2, 3]);
  });

  test('MQTT 5: the session outlives a disconnect (session expiry) and acknowledgement still follows the commit', async (t) => {
    if (broker.kind === 'aedes') {
      t.skip('the in-process aedes broker speaks MQTT 3.1.1 only');
      return;
    }
    const p = uniquePrefix('v5');
    const clientId = uniqueClientId('v5');
    const extra = { protocolVersion: 5, sessionExpiryS: 300 };
    const ctx1 = recordingContext();
    const first = makeAdapter(p, clientId, ctx1, extra);
    await started(first);
    await publish(pub, `${p}/m`, '{"n":1}', 1);
    await waitFor('n=1 acked', () => first.health().details!.acked === 1);
    await first.stop();
    await publish(pub, `${p}/m`, '{"n":2}', 1);
    const ctx2 = recordingContext();
    const second = makeAdapter(p, clientId, ctx2, extra);
    await started(second);
    await waitFor('n=2 kept by the broker', () => ctx2.signals.length === 1);
    assert.deepEqual(numbers(ctx2.signals), [2]);
  });

  test('a clean session (clean: true) does not get what was published while it was away', async () => {
    const p = uniquePrefix('clean');
    const clientId = uniqueClientId('clean');
    const ctx1 = recordingContext();
    const first = makeAdapter(p, clientId, ctx1, { clean: true });
    await started(first);
    await first.stop();
    await publish(pub, `${p}/count`, '{"n":1}', 1);
    const ctx2 = recordingContext();
    const second = makeAdapter(p, clientId, ctx2, { clean: true });
    await started(second);
    await publish(pub, `${p}/count`, '{"n":2}', 1);
    await waitFor('n=2', () => ctx2.signals.length >= 1);
    assert.deepEqual(numbers(ctx2.signals), [2]);
  });

  test('when the outbox is full the same message is offered again, and acknowledged only once committed', async () => {
    const p = uniquePrefix('full');
    const clientId = uniqueClientId('full');
    const ctx = recordingContext();
    let refusals = 0;
    let offered: unknown[] = [];
    ctx.emitImpl = async (signals) => {
      offered.push(...signals.map((s) => s.value));
      if (refusals < 3) {
        refusals++;
        throw new OutboxFullError(1);
      }
    };
    const adapter = makeAdapter(p, clientId, ctx);
    await started(adapter);
    await publish(pub, `${p}/m`, '{"n":5}', 1);
    await waitFor('committed after refusals', () => ctx.signals.length === 1);
    assert.deepEqual(offered, [{ n: 5 }, { n: 5 }, { n: 5 }, { n: 5 }]);
    const h = adapter.health();
    assert.equal(h.details!.outboxRefusals, 3);
    assert.equal(h.details!.paused, false);
    assert.equal(h.lastError?.code, 'OUTBOX_FULL');
    await waitFor('acked', () => adapter.health().details!.acked === 1);
    offered = [];
  });

  test('paused while the outbox refuses; reading stops at maxInflight; order is kept when it accepts again', async () => {
    const p = uniquePrefix('inflight');
    const clientId = uniqueClientId('inflight');
    const ctx = recordingContext();
    let full = true;
    ctx.emitImpl = async () => {
      if (full) throw new OutboxFullError(1);
    };
    const adapter = makeAdapter(p, clientId, ctx, { maxInflight: 3 });
    await started(adapter);
    for (let n = 1; n <= 8; n++) await publish(pub, `${p}/m`, JSON.stringify({ n }), 1);
    await waitFor('three held, reading paused', () => adapter.health().details!.readingPaused === true);
    const h = adapter.health();
    assert.equal(h.details!.waiting, 3);
    assert.equal(h.details!.paused, true);
    assert.equal(h.details!.acked, 0);
    full = false;
    await waitFor('all eight', () => ctx.signals.length === 8, 8000);
    assert.deepEqual(numbers(ctx.signals), [1, 2, 3, 4, 5, 6, 7, 8]);
    await waitFor('all acked', () => adapter.health().details!.acked === 8);
    assert.equal(adapter.health().details!.paused, false);
    assert.equal(adapter.health().details!.readingPaused, false);
  });

  test('connection drops while messages are held: held messages stay bounded and none is lost', async () => {
    const p = uniquePrefix('drop');
    const clientId = uniqueClientId('drop');
    const ctx = recordingContext();
    const hold = gate();
    ctx.emitImpl = () => hold.wait();
    const adapter = makeAdapter(p, clientId, ctx, { maxInflight: 2, reconnectPeriodMs: 100 });
    await started(adapter);
    for (let n = 1; n <= 5; n++) await publish(pub, `${p}/m`, JSON.stringify({ n }), 1);
    await waitFor('held', () => adapter.health().details!.readingPaused === true);
    const internal = adapter as unknown as { client: MqttClient };
    let maxWaiting = 0;
    for (let i = 0; i < 3; i++) {
      internal.client.stream.destroy();
      await waitFor('disconnected', () => !adapter.health().connected);
      await waitFor('reconnected', () => adapter.health().connected, 5000);
      await sleep(150);
      maxWaiting = Math.max(maxWaiting, adapter.health().details!.waiting as number);
    }
    assert.ok(maxWaiting <= 2, `waiting grew to ${maxWaiting}`);
    ctx.emitImpl = async () => undefined;
    hold.open();
    await waitFor('all five committed', () => new Set(numbers(ctx.signals)).size === 5, 8000);
    assert.deepEqual([...new Set(numbers(ctx.signals))].sort(), [1, 2, 3, 4, 5]);
    await waitFor('nothing held', () => adapter.health().details!.waiting === 0);
    assert.ok((adapter.health().details!.reconnects as number) >= 3);
  });

  test('start twice is one connection; stop twice and stop before start are safe', async () => {
    const p = uniquePrefix('life');
    const ctx = recordingContext();
    const adapter = makeAdapter(p, uniqueClientId('life'), ctx);
    await adapter.stop();
    await started(adapter);
    await adapter.start();
    await publish(pub, `${p}/x`, '{"n":1}', 1);
    await waitFor('one message', () => ctx.signals.length === 1);
    await publish(pub, `${p}/x`, '{"n":2}', 1);
    await waitFor('the next one', () => ctx.signals.length >= 2);
    assert.deepEqual(numbers(ctx.signals), [1, 2], 'the first came once');
    await Promise.all([adapter.stop(), adapter.stop()]);
    await adapter.stop();
    assert.equal(adapter.health().connected, false);
  });

  test('a broker that is not there shows in health and is retried, start does not fail', async () => {
    const ctx = recordingContext();
    const config = sourceConfig({
      name: 'nobroker',
      url: 'mqtt://127.0.0.1:1',
      clientId: uniqueClientId('nb'),
      subscriptions: [{ topic: 'x/#' }],
      reconnectPeriodMs: 100,
    });
    const adapter = new MqttSourceAdapter(config, ctx, { plant: 'p' });
    await adapter.start();
    await waitFor('an error in health', () => adapter.health().lastError !== null);
    assert.equal(adapter.health().connected, false);
    assert.match(adapter.health().lastError!.message, /ECONNREFUSED|connect/i);
    await adapter.stop();
    ctx.dispose();
  });

  test('the default client id is derived from plant and source name, never random', () => {
    const ctx = recordingContext();
    const config = sourceConfig({ name: 'press-7', url: broker.url, subscriptions: [{ topic: 'x/#' }] });
    const a = new MqttSourceAdapter(config, ctx, { plant: 'Plant 1' });
    const b = new MqttSourceAdapter(config, ctx, { plant: 'Plant 1' });
    assert.equal(a.clientId, 'edge-agent.Plant-1.press-7');
    assert.equal(a.clientId, b.clientId);
    ctx.dispose();
  });
});
