import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { MqttClient } from 'mqtt';
import { SqliteOutbox } from '../agent/buffer/sqlite-outbox';
import { Pipeline } from '../agent/pipeline';
import { MqttSourceAdapter } from '../agent/protocols/mqtt/adapter';
import { mqttSourceSchema } from '../agent/protocols/mqtt/config';
import type { AdapterContext, InvalidInput, Signal } from '../agent/protocols/types';
import { RuleEngine } from '../agent/rules/engine';
import { dropSession, startBroker, uniqueClientId, uniquePrefix, type TestBroker } from '../test/helpers/broker';
import { figure, median, type Figure } from './figure';

/**
 * MQTT ingest: QoS 1 messages persisted per second through the MQTT source
 * (acknowledged after commit, persistent session) into the SQLite outbox
 * (synchronous=FULL, group commit), against the broker's own QoS 1
 * publish-to-subscribe ceiling measured in the same run: a bare mqtt.js
 * subscriber that only counts. Same publisher, same message count, rounds
 * alternate; medians are reported.
 *
 * Env: BENCH_MQTT_MESSAGES (default 10000), BENCH_ROUNDS (default 3),
 * MQTT_TEST_BROKER (see test/helpers/broker.ts).
 */

const MESSAGES = Number(process.env.BENCH_MQTT_MESSAGES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TIMEOUT_MS = 60_000;

const silent = pino({ level: 'silent' });

/** Where the adapter's signals go: the agent's real path (rules + outbox). Swap here to measure another sink. */
function openSink(dir: string, source: string, topicFilter: string): { emit(s: Signal[]): Promise<void>; reject(i: InvalidInput): Promise<void>; commits(): number; close(): Promise<void> } {
  const outbox = new SqliteOutbox({ path: join(dir, `outbox-${Math.random().toString(36).slice(2)}.db`), synchronous: 'FULL', maxEvents: 10_000_000 });
  const engine = RuleEngine.fromConfig([{ kind: 'event', name: 'mes-events', source, tag: topicFilter }]);
  const pipeline = new Pipeline(outbox, engine, { plant: 'bench', log: silent });
  return {
    emit: (s) => pipeline.emit(s),
    reject: (i) => pipeline.reject(i),
    commits: () => outbox.commits,
    close: () => outbox.close(),
  };
}

function message(round: string, i: number): string {
  const mo = `WH/MO/${String(i % 50).padStart(5, '0')}`;
  return JSON.stringify({
    id: `bench-${round}-${i}`,
    type: 'production.reported',
    sequenceKey: mo,
    occurredAt: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
    payload: { production: mo, totalQuantity: i, workcenter: 'Press 1' },
  });
}

async function connected(url: string, clientId: string): Promise<MqttClient> {
  const { connect } = await import('mqtt');
  const client = connect(url, { clientId, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Publish `n` QoS 1 messages as fast as the client takes them. */
function publishAll(pub: MqttClient, topic: string, round: string, n: number): void {
  for (let i = 0; i < n; i++) pub.publish(topic, message(round, i), { qos: 1 });
}

function waitUntil(check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > TIMEOUT_MS) return reject(new Error(`bench mqtt: timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

/** The broker's ceiling: a bare subscriber at QoS 1 that only counts. Messages per second. */
async function brokerCeiling(broker: TestBroker, pub: MqttClient, round: string): Promise<number> {
  const prefix = uniquePrefix('bench-bare');
  const sub = await connected(broker.url, uniqueClientId('bench-bare'));
  let received = 0;
  sub.on('message', () => {
    received++;
  });
  await sub.subscribeAsync(`${prefix}/#`, { qos: 1 });
  const t0 = process.hrtime.bigint();
  publishAll(pub, `${prefix}/m`, round, MESSAGES);
  await waitUntil(() => received >= MESSAGES, 'bare subscriber');
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await new Promise<void>((r) => sub.end(false, {}, () => r()));
  return MESSAGES / s;
}

/** Through the MQTT source into the outbox: messages committed (then acknowledged) per second. */
async function throughAgent(broker: TestBroker, pub: MqttClient, round: string, dir: string, batches: number[]): Promise<number> {
  const prefix = uniquePrefix('bench-agent');
  const clientId = uniqueClientId('bench-agent');
  const sink = openSink(dir, 'bench', `${prefix}/#`);
  let persisted = 0;
  let emits = 0;
  const ctx: AdapterContext = {
    log: silent,
    stateDir: dir,
    async emit(signals) {
      emits++;
      await sink.emit(signals);
      persisted += signals.length;
    },
    reject: (input) => sink.reject(input),
  };
  const config = mqttSourceSchema.parse({ type: 'mqtt', name: 'bench', url: broker.url, clientId, subscriptions: [{ topic: `${prefix}/#`, qos: 1 }] });
  const adapter = new MqttSourceAdapter(config, ctx, { plant: 'bench' });
  await adapter.start();
  await waitUntil(() => adapter.health().connected, 'adapter connected');
  await new Promise((r) => setTimeout(r, 200)); // SUBACK
  const t0 = process.hrtime.bigint();
  publishAll(pub, `${prefix}/m`, round, MESSAGES);
  await waitUntil(() => persisted >= MESSAGES, 'messages persisted');
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  batches.push(MESSAGES / Math.max(1, emits));
  const invalid = adapter.health().details!.invalid as number;
  await adapter.stop();
  await sink.close();
  await dropSession(broker.url, clientId);
  if (invalid > 0) throw new Error(`bench mqtt: ${invalid} messages were invalid`);
  return MESSAGES / s;
}

export async function run(): Promise<Figure[]> {
  const broker = await startBroker();
  const dir = mkdtempSync(join(tmpdir(), 'bench-mqtt-'));
  const pub = await connected(broker.url, uniqueClientId('bench-pub'));
  const bare: number[] = [];
  const agent: number[] = [];
  const batches: number[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      bare.push(await brokerCeiling(broker, pub, `b${r}`));
      agent.push(await throughAgent(broker, pub, `a${r}`, dir, batches));
    }
  } finally {
    await new Promise<void>((r) => pub.end(false, {}, () => r()));
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    figure(
      'mqtt.qos1_persisted',
      'msg/s',
      median(agent),
      median(bare),
      '>= 0.5',
      `${MESSAGES} QoS 1 messages, ${broker.kind} broker; agent: MQTT source -> event rule -> SQLite outbox (synchronous=FULL), PUBACK after commit, median ${median(batches).toFixed(1)} messages per emit; baseline: bare mqtt.js subscriber counting; median of ${ROUNDS}`,
    ),
  ];
}

if (require.main === module) {
  void run().then(
    (figures) => {
      for (const f of figures) process.stdout.write(`${JSON.stringify(f)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
