import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { MqttClient } from 'mqtt';
import { get as sparkplugPayload } from 'sparkplug-payload';
import type { UMetric } from 'sparkplug-payload/lib/sparkplugbpayload';
import { SqliteOutbox } from '../agent/buffer/sqlite-outbox';
import type { Signal } from '../agent/model/signal';
import { RuleEngine } from '../agent/rules/engine';
import { ClockWatch } from '../agent/runtime/clock-watch';
import { Pipeline } from '../agent/runtime/pipeline';
import type { AdapterContext } from '../agent/protocols/types';
import { sparkplugSourceSchema } from '../agent/protocols/sparkplug/config';
import { createSparkplugSource } from '../agent/protocols/sparkplug/kind';
import { dropSession, startBroker, uniqueClientId, type TestBroker } from '../test/helpers/broker';
import { figure, median, type Figure } from './figure';
import { connected, publishWindowed, waitUntil } from './mqtt';

/**
 * Sparkplug B ingest: NDATA messages of 50 metrics each (by alias, mixed data
 * types), QoS 1, through the Sparkplug source (decode, alias and sequence
 * checks, one signal per metric), PUBACK after the commit. Two ways in:
 *  - `persisted`: the agent's own path, the rules (a counter on one metric,
 *    a state rule on the node's `$online`), the clock watch and the SQLite outbox
 *    (synchronous=FULL, group commit): every message commits one
 *    production.reported event and the counter's state;
 *  - `every_metric_stored`: each of the 50 signals as a row of a SQLite file
 *    (what storing all telemetry would cost; the agent does not do that).
 * Baseline: the rate at
 * which the same broker delivers the same messages to a bare mqtt.js
 * subscriber that only counts, same publisher, same run. Payloads are encoded
 * beforehand with Eclipse Tahu's encoder (one per sequence number), so the
 * publisher costs the same on both sides. Medians of the rounds after two
 * warm-up rounds of each side: both still speed up through their second run
 * (compiled code and heap sizing settle), by about a fifth, so one warm-up left
 * the first measured round low on both sides (docs/benchmarks.md).
 *
 * Env: BENCH_SPARKPLUG_MESSAGES (default 5000), BENCH_SPARKPLUG_ROUNDS (default:
 * BENCH_ROUNDS, else 5: a round takes under two seconds, and the median of five
 * moves less with this shared machine than the median of three),
 * MQTT_TEST_BROKER (see test/helpers/broker.ts).
 */

const MESSAGES = Number(process.env.BENCH_SPARKPLUG_MESSAGES ?? 5000);
const ROUNDS = Number(process.env.BENCH_SPARKPLUG_ROUNDS ?? process.env.BENCH_ROUNDS ?? 5);
const WARM_UPS = 2;
const METRICS = 50;

const silent = pino({ level: 'silent' });
const tahu = sparkplugPayload('spBv1.0')!;

const TYPES = ['Double', 'Float', 'Int32', 'Int64', 'Boolean', 'String', 'UInt16', 'UInt64'] as const;

function metricOf(k: number, i: number, birth: boolean): UMetric {
  const type = TYPES[k % TYPES.length]!;
  const value =
    type === 'Boolean'
      ? (i + k) % 2 === 0
      : type === 'String'
        ? `state-${(i + k) % 7}`
        : type === 'Double' || type === 'Float'
          ? 20 + ((i + k) % 100) / 8
          : (i * 7 + k) % 60000;
  return birth ? { name: `Line/Machine${k % 10}/Tag${k}`, alias: k + 1, type, value } : { alias: k + 1, type, value };
}

/** NDATA payloads, one per sequence number 0..255 (message i carries seq (i + 1) % 256 after the birth's 0). */
function dataPayloads(): Buffer[] {
  const out: Buffer[] = [];
  for (let seq = 0; seq < 256; seq++) {
    const metrics = Array.from({ length: METRICS }, (_, k) => metricOf(k, seq, false));
    out.push(Buffer.from(tahu.encodePayload({ timestamp: Date.now(), seq, metrics })));
  }
  return out;
}

/** One row per signal, in one transaction per turn of the loop (WAL, synchronous=FULL). */
function signalStore(dir: string): { emit(signals: Signal[]): Promise<void>; close(): void } {
  const db = new Database(join(dir, `signals-${Math.random().toString(36).slice(2)}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE signals (tag TEXT NOT NULL, value TEXT, quality TEXT NOT NULL, source_time TEXT NOT NULL)');
  // One statement per message-sized chunk of rows: far fewer calls into SQLite than one per row.
  const many = db.prepare(`INSERT INTO signals (tag, value, quality, source_time) VALUES ${Array(METRICS).fill('(?, ?, ?, ?)').join(', ')}`);
  const one = db.prepare('INSERT INTO signals (tag, value, quality, source_time) VALUES (?, ?, ?, ?)');
  const write = db.transaction((batch: Signal[][]) => {
    const all = batch.flat();
    let k = 0;
    const args: unknown[] = [];
    for (; k + METRICS <= all.length; k += METRICS) {
      args.length = 0;
      for (let j = k; j < k + METRICS; j++) {
        const s = all[j]!;
        args.push(s.tag, JSON.stringify(s.value), s.quality, s.sourceTime);
      }
      many.run(args);
    }
    for (; k < all.length; k++) one.run(all[k]!.tag, JSON.stringify(all[k]!.value), all[k]!.quality, all[k]!.sourceTime);
  });
  let waiting: Array<{ signals: Signal[]; done: (err?: unknown) => void }> = [];
  const commit = () => {
    const batch = waiting;
    waiting = [];
    let failure: unknown;
    try {
      write(batch.map((b) => b.signals));
    } catch (err) {
      failure = err ?? new Error('commit failed');
    }
    for (const b of batch) b.done(failure);
  };
  return {
    emit: (signals) =>
      new Promise<void>((resolve, reject) => {
        if (waiting.length === 0) setImmediate(commit);
        waiting.push({ signals, done: (err) => (err === undefined ? resolve() : reject(err)) });
      }),
    close: () => db.close(),
  };
}

async function bareSubscriber(broker: TestBroker, pub: MqttClient, payloads: Buffer[], round: string): Promise<number> {
  const topic = `spBv1.0/bench-bare-${round}-${process.pid}/NDATA/n1`;
  const sub = await connected(broker.url, uniqueClientId('bench-sp-bare'));
  let received = 0;
  sub.on('message', () => {
    received++;
  });
  await sub.subscribeAsync(topic, { qos: 1 });
  try {
    const t0 = process.hrtime.bigint();
    await publishWindowed(
      pub,
      topic,
      round,
      MESSAGES,
      () => received,
      'the bare subscriber',
      (_r, i) => payloads[(i + 1) % 256]!,
    );
    return MESSAGES / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    await new Promise<void>((r) => sub.end(true, {}, () => r()));
  }
}

/** The agent's path: rules, then the outbox, and the clock watch that sees every committed signal. */
function pipelineStore(dir: string, group: string): { emit(signals: Signal[]): Promise<void>; close(): void } {
  const outbox = new SqliteOutbox({ path: join(dir, `outbox-${Math.random().toString(36).slice(2)}.db`), synchronous: 'FULL', maxEvents: 10_000_000 });
  const engine = RuleEngine.fromConfig([
    { kind: 'counter', name: 'strokes', source: 'bench', tag: `${group}/n1/Line/Machine2/Tag2`, production: 'WH/MO/00001', max: 65535 },
    { kind: 'state', name: 'online', source: 'bench', tag: `${group}/n1/$online`, workcenter: 'Line 1', edge: 'falling' },
  ]);
  // As the agent wires it: every committed signal is seen by the clock watch.
  const clocks = new ClockWatch({ warnOffsetMs: 5000 });
  const pipeline = new Pipeline(outbox, engine, { plant: 'bench', log: silent, observe: (signal) => clocks.observe(signal) });
  return { emit: (signals) => pipeline.emit(signals), close: () => void outbox.close() };
}

async function throughAgent(
  broker: TestBroker,
  pub: MqttClient,
  payloads: Buffer[],
  round: string,
  dir: string,
  kind: 'pipeline' | 'rows',
  batches: number[],
): Promise<number> {
  const group = `bench-agent-${round}-${process.pid}`;
  const clientId = uniqueClientId('bench-sp');
  const store = kind === 'rows' ? signalStore(dir) : pipelineStore(dir, group);
  let signals = 0;
  let emits = 0;
  const ctx: AdapterContext = {
    log: silent,
    stateDir: dir,
    async emit(batch) {
      emits++;
      await store.emit(batch);
      signals += batch.length;
    },
    reject: async () => undefined,
  };
  const config = sparkplugSourceSchema.parse({ type: 'sparkplug', name: 'bench', url: broker.url, clientId, groups: [group] });
  const adapter = createSparkplugSource(config, ctx, 'bench');
  try {
    await adapter.start();
    await waitUntil(() => adapter.health().connected, 'adapter connected');
    await new Promise((r) => setTimeout(r, 200)); // SUBACK
    const birth = tahu.encodePayload({
      timestamp: Date.now(),
      seq: 0,
      metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }, ...Array.from({ length: METRICS }, (_, k) => metricOf(k, 0, true))],
    });
    await pub.publishAsync(`spBv1.0/${group}/NBIRTH/n1`, Buffer.from(birth), { qos: 1 });
    const born = METRICS + 2; // the metrics, bdSeq and $online
    await waitUntil(() => signals >= born, 'the birth');
    const t0 = process.hrtime.bigint();
    await publishWindowed(
      pub,
      `spBv1.0/${group}/NDATA/n1`,
      round,
      MESSAGES,
      () => Math.floor((signals - born) / METRICS),
      'NDATA persisted by the agent',
      (_r, i) => payloads[(i + 1) % 256]!,
    );
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    batches.push((signals - born) / METRICS / Math.max(1, emits - 1));
    const details = adapter.health().details!;
    if ((details.invalid as number) > 0) throw new Error(`bench sparkplug: ${String(details.invalid)} messages were invalid`);
    if ((details.rebirthRequests as number) > 0) throw new Error('bench sparkplug: the agent saw a sequence gap');
    return MESSAGES / s;
  } finally {
    await adapter.stop();
    store.close();
    await dropSession(broker.url, clientId);
  }
}

export async function run(): Promise<Figure[]> {
  const broker = await startBroker();
  const dir = mkdtempSync(join(tmpdir(), 'bench-sparkplug-'));
  const pub = await connected(broker.url, uniqueClientId('bench-sp-pub'));
  const payloads = dataPayloads();
  const bare: number[] = [];
  const agent: number[] = [];
  const rows: number[] = [];
  const batches: number[] = [];
  try {
    for (let w = 0; w < WARM_UPS; w++) {
      await bareSubscriber(broker, pub, payloads, `warm-b${w}`);
      await throughAgent(broker, pub, payloads, `warm-a${w}`, dir, 'pipeline', []);
    }
    for (let r = 0; r < ROUNDS; r++) {
      bare.push(await bareSubscriber(broker, pub, payloads, `b${r}`));
      agent.push(await throughAgent(broker, pub, payloads, `a${r}`, dir, 'pipeline', batches));
      rows.push(await throughAgent(broker, pub, payloads, `r${r}`, dir, 'rows', []));
    }
  } finally {
    await new Promise<void>((r) => pub.end(true, {}, () => r()));
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    figure(
      'sparkplug.ndata_50_metrics_persisted',
      'msg/s',
      median(agent),
      median(bare),
      '>= 0.5',
      `${MESSAGES} NDATA of ${METRICS} metrics (by alias, ${payloads[1]!.length} bytes), QoS 1, ${broker.kind} broker; Sparkplug source -> rules (counter on one metric, state on $online) -> SqliteOutbox (synchronous=FULL, group commit), one event per message, PUBACK after commit; median ${median(batches).toFixed(1)} messages per commit; baseline: bare mqtt.js subscriber counting the same messages; median of ${ROUNDS} after ${WARM_UPS} warm-up rounds`,
    ),
    figure(
      'sparkplug.ndata_50_metrics_every_metric_stored',
      'msg/s',
      median(rows),
      median(bare),
      'info',
      `as sparkplug.ndata_50_metrics_persisted, but each of the ${METRICS} signals of a message written as a row of a SQLite file (synchronous=FULL, group commit) instead of the rules and the outbox`,
    ),
  ];
}
