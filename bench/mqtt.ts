import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { MqttClient } from 'mqtt';
import { SqliteOutbox } from '../agent/buffer/sqlite-outbox';
import { Pipeline } from '../agent/runtime/pipeline';
import { ClockWatch } from '../agent/runtime/clock-watch';
import { clocksConfigSchema, eventTimeOptions } from '../agent/config/clocks';
import { MqttSourceAdapter } from '../agent/protocols/mqtt/adapter';
import { mqttSourceSchema } from '../agent/protocols/mqtt/config';
import type { InvalidInput, Signal } from '../agent/model/signal';
import type { AdapterContext } from '../agent/protocols/types';
import { RuleEngine } from '../agent/rules/engine';
import { dropSession, startBroker, uniqueClientId, uniquePrefix, type TestBroker } from '../test/helpers/broker';
import { figure, median, type Figure } from './figure';

/**
 * MQTT ingest: QoS 1 messages persisted per second through the MQTT source
 * (acknowledged after commit, persistent session) into a SQLite file with
 * group commit (synchronous=FULL), against the broker's own QoS 1
 * publish-to-subscribe ceiling measured in the same run: a bare mqtt.js
 * subscriber that only counts. Same publisher, same message count, rounds
 * alternate after one unmeasured warm-up round; medians are reported. A
 * second figure runs the same messages through the agent's real path (event
 * rule, pipeline, SqliteOutbox): to measure only that path, swap `sqliteSink`
 * for `pipelineSink` in run().
 *
 * Env: BENCH_MQTT_MESSAGES (default 10000), BENCH_ROUNDS (default 3),
 * BENCH_MQTT_INFLIGHT (the source's maxInflight; default: the config default),
 * MQTT_TEST_BROKER (see test/helpers/broker.ts).
 */

const MESSAGES = Number(process.env.BENCH_MQTT_MESSAGES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TIMEOUT_MS = 60_000;

const silent = pino({ level: 'silent' });

interface Sink {
  emit(signals: Signal[]): Promise<void>;
  reject(input: InvalidInput): Promise<void>;
  close(): Promise<void>;
}

/**
 * A plain SQLite file with group commit: every emit that arrives before the
 * next flush goes into one transaction (WAL, synchronous=FULL, UNIQUE(id)).
 * Measures what the MQTT source itself costs.
 */
function sqliteSink(dir: string): Sink {
  const db = new Database(join(dir, `sink-${Math.random().toString(36).slice(2)}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE events (id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT OR IGNORE INTO events (id, topic, body) VALUES (?, ?, ?)');
  const commit = db.transaction((signals: Signal[]) => {
    for (const s of signals) insert.run(String((s.value as { id: unknown }).id), s.tag, JSON.stringify(s.value));
  });
  let pending: Array<{ signals: Signal[]; resolve: () => void; reject: (e: unknown) => void }> = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    try {
      commit(batch.flatMap((b) => b.signals));
      for (const b of batch) b.resolve();
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  };
  return {
    emit: (signals) =>
      new Promise<void>((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ signals, resolve, reject });
      }),
    reject: async () => undefined,
    close: async () => {
      db.close();
    },
  };
}

/** The agent's real path: the rules (an `event` rule), the sources' clocks measured, and the SQLite outbox (synchronous=FULL, group commit, event times checked). */
function pipelineSink(dir: string, source: string, topicFilter: string): Sink {
  const outbox = new SqliteOutbox({
    path: join(dir, `outbox-${Math.random().toString(36).slice(2)}.db`),
    synchronous: 'FULL',
    maxEvents: 10_000_000,
    eventTime: eventTimeOptions({ clocks: clocksConfigSchema.parse({}), sync: { skippableTypes: [] } }),
  });
  const engine = RuleEngine.fromConfig([{ kind: 'event', name: 'mes-events', source, tag: topicFilter }]);
  const clocks = new ClockWatch({ warnOffsetMs: 5000 });
  const pipeline = new Pipeline(outbox, engine, { plant: 'bench', log: silent, observe: (signal) => clocks.observe(signal) });
  return { emit: (s) => pipeline.emit(s), reject: (i) => pipeline.reject(i), close: () => outbox.close() };
}

function message(round: string, i: number): string {
  const mo = `WH/MO/${String(i % 50).padStart(5, '0')}`;
  return JSON.stringify({
    id: `bench-${round}-${i}`,
    type: 'production.reported',
    sequenceKey: mo,
    occurredAt: new Date(Date.now() - 60_000 + i).toISOString(),
    payload: { production: mo, totalQuantity: i, workcenter: 'Press 1' },
  });
}

export async function connected(url: string, clientId: string): Promise<MqttClient> {
  const { connect } = await import('mqtt');
  const client = connect(url, { clientId, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/**
 * Publish `n` QoS 1 messages, keeping at most WINDOW of them between the
 * publisher and the receiver: a broker queues only so many messages for one
 * subscriber (Mosquitto: max_queued_messages, 1000 by default) and drops QoS 1
 * beyond that, so an unthrottled publisher would measure loss, not speed.
 * Resolves when `done()` says everything arrived.
 */
const WINDOW = 500;
export function publishWindowed(
  pub: MqttClient,
  topic: string,
  round: string,
  n: number,
  arrived: () => number,
  what: string,
  payloadOf: (round: string, i: number) => string | Buffer = message,
): Promise<void> {
  let sent = 0;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const pump = () => {
      const got = arrived();
      if (got >= n) return resolve();
      if (Date.now() - started > TIMEOUT_MS) return reject(new Error(`bench mqtt: timed out waiting for ${what} (${got} of ${n})`));
      while (sent < n && sent - got < WINDOW) pub.publish(topic, payloadOf(round, sent++), { qos: 1 });
      setImmediate(pump);
    };
    pump();
  });
}

export function waitUntil(check: () => boolean, what: string): Promise<void> {
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
  try {
    const t0 = process.hrtime.bigint();
    await publishWindowed(pub, `${prefix}/m`, round, MESSAGES, () => received, 'the bare subscriber');
    return MESSAGES / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    await new Promise<void>((r) => sub.end(true, {}, () => r()));
  }
}

/** Through the MQTT source into the outbox: messages committed (then acknowledged) per second. */
async function throughAgent(broker: TestBroker, pub: MqttClient, round: string, dir: string, kind: 'sqlite' | 'pipeline', batches: number[]): Promise<number> {
  const prefix = uniquePrefix('bench-agent');
  const clientId = uniqueClientId('bench-agent');
  const sink = kind === 'sqlite' ? sqliteSink(dir) : pipelineSink(dir, 'bench', `${prefix}/#`);
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
  const config = mqttSourceSchema.parse({
    type: 'mqtt',
    name: 'bench',
    url: broker.url,
    clientId,
    subscriptions: [{ topic: `${prefix}/#`, qos: 1 }],
    ...(process.env.BENCH_MQTT_INFLIGHT ? { maxInflight: Number(process.env.BENCH_MQTT_INFLIGHT) } : {}),
  });
  const adapter = new MqttSourceAdapter(config, ctx, { plant: 'bench' });
  try {
    await adapter.start();
    await waitUntil(() => adapter.health().connected, 'adapter connected');
    await new Promise((r) => setTimeout(r, 200)); // SUBACK
    const t0 = process.hrtime.bigint();
    await publishWindowed(pub, `${prefix}/m`, round, MESSAGES, () => persisted, 'messages persisted by the agent');
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    batches.push(MESSAGES / Math.max(1, emits));
    const invalid = adapter.health().details!.invalid as number;
    if (invalid > 0) throw new Error(`bench mqtt: ${invalid} messages were invalid`);
    return MESSAGES / s;
  } finally {
    await adapter.stop();
    await sink.close();
    await dropSession(broker.url, clientId);
  }
}

export async function run(): Promise<Figure[]> {
  const broker = await startBroker();
  const dir = mkdtempSync(join(tmpdir(), 'bench-mqtt-'));
  const pub = await connected(broker.url, uniqueClientId('bench-pub'));
  const bare: number[] = [];
  const agent: number[] = [];
  const full: number[] = [];
  const batches: number[] = [];
  const fullBatches: number[] = [];
  try {
    // Warm-up, not measured: the first rounds of a process run slower on both sides (about 30k vs 50k msg/s bare).
    await brokerCeiling(broker, pub, 'warm-b');
    await throughAgent(broker, pub, 'warm-p', dir, 'pipeline', []);
    for (let r = 0; r < ROUNDS; r++) {
      bare.push(await brokerCeiling(broker, pub, `b${r}`));
      agent.push(await throughAgent(broker, pub, `a${r}`, dir, 'sqlite', batches));
      full.push(await throughAgent(broker, pub, `p${r}`, dir, 'pipeline', fullBatches));
    }
  } finally {
    await new Promise<void>((r) => pub.end(true, {}, () => r()));
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    figure(
      'mqtt.qos1_source_alone',
      'msg/s',
      median(agent),
      median(bare),
      'info',
      `${MESSAGES} QoS 1 messages, ${broker.kind} broker; MQTT source (persistent session, PUBACK after commit) -> SQLite file, group commit, synchronous=FULL; median ${median(batches).toFixed(1)} messages per commit; baseline: bare mqtt.js subscriber counting, same publisher; median of ${ROUNDS}`,
    ),
    figure(
      'mqtt.qos1_persisted',
      'msg/s',
      median(full),
      median(bare),
      '>= 0.5',
      `as mqtt.qos1_source_alone, but into the agent's own path: event rule -> Pipeline -> SqliteOutbox (synchronous=FULL); median ${median(fullBatches).toFixed(1)} messages per emit`,
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
