import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../agent/buffer/migrations';
import type { FlowDefinition } from '../agent/buffer/flows';
import { SqliteOutbox } from '../agent/buffer/sqlite-outbox';
import { randomEventId } from '../agent/model/event-ids';
import type { CanonicalEvent } from '../agent/model/event';
import { EdgeCheck } from '../agent/sync/edge-check';
import { MasterDataCache } from '../agent/sync/master-data';
import type { Figure } from './figure';
import { figure, median, percentile } from './figure';

/** Seconds per measurement round. Baseline and agent alternate over ROUNDS rounds (the machine is shared and noisy); medians are reported. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 0);

/** Event times start 12 days back: recent enough for the agent's plausible-time check (30 days), a second apart. */
const T0 = Date.now() - 12 * 86_400_000;

function event(i: number, key: string, id = randomEventId()): CanonicalEvent {
  const t = new Date(T0 + i * 1000).toISOString();
  return {
    id,
    type: 'production.reported',
    sequenceKey: key,
    occurredAt: t,
    receivedAt: t,
    source: 'press-1',
    payload: { production: key, totalQuantity: i, workcenter: 'WC-Press-1' },
  };
}

function rawDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  migrate(db);
  return db;
}

function rawInsert(db: Database.Database) {
  return db.prepare(`INSERT INTO events(id, type, skey, state, body, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)`);
}

function body(e: CanonicalEvent): string {
  return JSON.stringify({ o: e.occurredAt, r: e.receivedAt, s: e.source, p: e.payload });
}

/** Raw better-sqlite3: transactions of 100 inserts into the same schema, events/s. */
function rawBatch100(dir: string, ids: () => string = randomEventId): number {
  const db = rawDb(join(dir, `raw-b100-${Math.random()}.db`));
  const ins = rawInsert(db);
  const tx = db.transaction((rows: CanonicalEvent[]) => {
    for (const e of rows) ins.run(e.id, e.type, e.sequenceKey, body(e), 0, 0);
  });
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  const start = process.hrtime.bigint();
  while (Date.now() < end) {
    tx(Array.from({ length: 100 }, () => event(n++, `MO-${n % 64}`, ids())));
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  return n / s;
}

/** Raw better-sqlite3: one insert per transaction; rate and latencies (ms). */
function rawSingle(dir: string): { rate: number; lat: number[] } {
  const db = rawDb(join(dir, `raw-single-${Math.random()}.db`));
  const ins = rawInsert(db);
  const tx = db.transaction((e: CanonicalEvent) => ins.run(e.id, e.type, e.sequenceKey, body(e), 0, 0));
  const lat: number[] = [];
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  const start = process.hrtime.bigint();
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    tx(event(n++, 'MO-1'));
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  return { rate: n / s, lat };
}

/** A roll-up flow of a type this bench never produces: the cost a configured flow adds to every other event. */
const IDLE_FLOW: FlowDefinition[] = [{ name: 'consumption-hourly', cron: '0 * * * *', mode: 'rollup', types: ['material.consumed'] }];

async function groupCommitIngest(dir: string, producers: number, flows?: FlowDefinition[]): Promise<number> {
  const o = new SqliteOutbox({
    path: join(dir, `gc-${producers}-${Math.random()}.db`),
    synchronous: 'FULL',
    maxEvents: 100_000_000,
    windowMs: WINDOW_MS,
    flows,
  });
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: producers }, async (_, p) => {
      while (Date.now() < end) {
        await o.enqueue([event(n++, `MO-${p % 64}`)]);
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await o.close();
  return n / s;
}

/** A plant's worth of master data: 25,000 products (a third lot-tracked), 64 open orders, work centers, loss reasons, units, locations. */
function plantMasterData(o: SqliteOutbox): MasterDataCache {
  const rows: Array<{ kind: string; key: string; value: unknown }> = [];
  for (let i = 0; i < 25_000; i++) {
    rows.push({ kind: 'product', key: String(i + 1), value: { id: i + 1, name: `Part ${i}`, defaultCode: `P-${i}`, tracking: i % 3 === 0 ? 'lot' : 'none' } });
  }
  for (let i = 0; i < 64; i++) rows.push({ kind: 'production', key: String(i + 1), value: { id: i + 1, name: `MO-${i}`, state: 'progress', productId: 1 } });
  for (let i = 0; i < 16; i++) rows.push({ kind: 'workcenter', key: String(i + 1), value: { id: i + 1, name: `WC-${i}` } });
  rows.push({ kind: 'loss', key: '1', value: { id: 1, name: 'Material Availability' } });
  rows.push({ kind: 'uom', key: '1', value: { id: 1, name: 'Units' } });
  rows.push({ kind: 'location', key: '1', value: { id: 1, name: 'WH/Stock' } });
  o.masterData.replace(rows, ['product', 'lot', 'production', 'workorder', 'workcenter', 'loss', 'location', 'uom', 'equipment'], Date.now());
  return new MasterDataCache(o.masterData);
}

/** A mix of what a plant sends: production totals, consumption of lot-tracked parts, stops. */
function plantEvent(i: number, p: number): CanonicalEvent {
  const t = new Date(T0 + i * 1000).toISOString();
  const base = { id: randomEventId(), occurredAt: t, receivedAt: t, source: 'line' };
  switch (i % 3) {
    case 0:
      return { ...base, type: 'production.reported', sequenceKey: `MO-${p % 64}`, payload: { production: `MO-${p % 64}`, totalQuantity: i, uom: 'Units' } };
    case 1:
      return {
        ...base,
        type: 'material.consumed',
        sequenceKey: `MO-${p % 64}`,
        payload: { production: `MO-${p % 64}`, product: `P-${(i * 7) % 25_000}`, quantity: 2, lot: `L-${i}`, location: 'WH/Stock' },
      };
    default:
      return {
        ...base,
        type: 'downtime.started',
        sequenceKey: `WC-${p % 16}`,
        payload: { downtimeId: `d-${i}`, workcenter: `WC-${p % 16}`, reason: 'Material Availability' },
      };
  }
}

/** Group-commit ingest of the plant mix, 64 producers, with or without the edge check (same master data in the file either way). */
export async function edgeCheckIngest(dir: string, checked: boolean): Promise<number> {
  const o = new SqliteOutbox({ path: join(dir, `edge-${checked}-${Math.random()}.db`), synchronous: 'FULL', maxEvents: 100_000_000, windowMs: WINDOW_MS });
  const cache = plantMasterData(o);
  if (checked) o.setEventCheck(new EdgeCheck(cache, { skippableTypes: ['maintenance.requested', 'quality.recorded'] }));
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 64 }, async (_, p) => {
      while (Date.now() < end) await o.enqueue([plantEvent(n++, p)]);
    }),
  );
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  if (checked && o.counts().flagged > 0) throw new Error('the bench mix should pass the edge check');
  await o.close();
  return n / s;
}

async function singleEnqueue(dir: string): Promise<{ rate: number; lat: number[] }> {
  const o = new SqliteOutbox({ path: join(dir, `single-${Math.random()}.db`), synchronous: 'FULL', windowMs: WINDOW_MS });
  const lat: number[] = [];
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  const start = process.hrtime.bigint();
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    await o.enqueue([event(n++, 'MO-1')]);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await o.close();
  return { rate: n / s, lat };
}

async function claimAndDone(dir: string, keys: number): Promise<number> {
  const o = new SqliteOutbox({ path: join(dir, `claim-${keys}.db`), synchronous: 'FULL', maxEvents: 100_000_000 });
  const total = 50_000;
  for (let i = 0; i < total; i += 1000) await o.enqueue(Array.from({ length: 1000 }, (_, j) => event(i + j, `MO-${(i + j) % keys}`)));
  let n = 0;
  const start = process.hrtime.bigint();
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    const claimed = o.claim(keys);
    if (claimed.length === 0) break;
    o.settle(claimed.map((r) => ({ seq: r.seq, outcome: 'done' as const, odooIds: { 'mrp.production': 1 } })));
    n += claimed.length;
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await o.close();
  return n / s;
}

/** Fill an outbox with `count` pending events over 200 keys (for the large-table figures). */
async function fill(path: string, count: number): Promise<void> {
  const o = new SqliteOutbox({ path, synchronous: 'NORMAL', maxEvents: count + 10, maxBatch: 5000 });
  for (let i = 0; i < count; i += 5000) {
    await o.enqueue(Array.from({ length: Math.min(5000, count - i) }, (_, j) => event(i + j, `MO-${(i + j) % 200}`)));
  }
  await o.close();
}

/** Batched inserts into a table that already holds `existing` rows: v7 (time-ordered) vs v4 (random) ids. */
function idOrderFigure(dir: string, existing: number): { v7: number; v4: number } {
  const run = (kind: 'v4' | 'v7') => {
    const db = rawDb(join(dir, `ids-${kind}.db`));
    db.pragma('synchronous = NORMAL');
    const ins = rawInsert(db);
    const gen = kind === 'v4' ? randomUUID : () => randomEventId();
    const tx = db.transaction((rows: CanonicalEvent[]) => {
      for (const e of rows) ins.run(e.id, e.type, e.sequenceKey, body(e), 0, 0);
    });
    for (let i = 0; i < existing; i += 10_000) tx(Array.from({ length: 10_000 }, (_, j) => event(i + j, `MO-${j % 64}`, gen())));
    let n = 0;
    const start = process.hrtime.bigint();
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) tx(Array.from({ length: 100 }, () => event(n++, `MO-${n % 64}`, gen())));
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    db.close();
    return n / s;
  };
  return { v7: run('v7'), v4: run('v4') };
}

export async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-outbox-'));
  const figures: Figure[] = [];
  try {
    const raw100s: number[] = [];
    const gcs: number[] = [];
    const gcs256: number[] = [];
    const gcsFlow: number[] = [];
    const unchecked: number[] = [];
    const checked: number[] = [];
    const rawOnes: Array<{ rate: number; lat: number[] }> = [];
    const singles: Array<{ rate: number; lat: number[] }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      raw100s.push(rawBatch100(dir));
      gcs.push(await groupCommitIngest(dir, 64));
      gcs256.push(await groupCommitIngest(dir, 256));
      gcsFlow.push(await groupCommitIngest(dir, 64, IDLE_FLOW));
      // ABBA: a machine that speeds up or slows down over the run favours neither side.
      for (const withCheck of r % 2 === 0 ? [false, true] : [true, false]) (withCheck ? checked : unchecked).push(await edgeCheckIngest(dir, withCheck));
      rawOnes.push(rawSingle(dir));
      singles.push(await singleEnqueue(dir));
    }
    const raw100 = median(raw100s);
    const rawOne = { rate: median(rawOnes.map((x) => x.rate)), lat: rawOnes.flatMap((x) => x.lat) };
    const single = { rate: median(singles.map((x) => x.rate)), lat: singles.flatMap((x) => x.lat) };
    figures.push(
      figure(
        'outbox_ingest_group_commit_full',
        'events/s',
        median(gcs),
        raw100,
        '>= 0.6',
        `64 concurrent producers, window ${WINDOW_MS} ms; baseline: raw better-sqlite3 batch-100 inserts, same schema, FULL; medians of ${ROUNDS} alternating rounds`,
      ),
    );
    figures.push(figure('outbox_ingest_group_commit_full_256', 'events/s', median(gcs256), raw100, '>= 0.6', '256 concurrent producers; same baseline'));
    figures.push(
      figure(
        'outbox_ingest_group_commit_with_flow',
        'events/s',
        median(gcsFlow),
        median(gcs),
        '>= 0.9',
        '64 producers with a roll-up flow configured for another type (schedules.flows); baseline: the same without a flow',
      ),
    );
    figures.push(
      figure(
        'outbox_ingest_with_edge_check',
        'events/s',
        median(checked),
        median(unchecked),
        '>= 0.9',
        '64 producers, a plant mix (production, lot consumption, stops) checked against 25,000 cached products (sync.edgeCheck); baseline: the same ingest and file without the check',
      ),
    );
    figures.push(
      figure(
        'outbox_single_commit_rate_full',
        'events/s',
        single.rate,
        rawOne.rate,
        '>= 0.8',
        'one caller awaiting each enqueue; baseline: raw single-row commits, FULL',
      ),
    );
    figures.push(figure('outbox_single_commit_p50', 'ms', percentile(single.lat, 50), percentile(rawOne.lat, 50), 'info'));
    figures.push(figure('outbox_single_commit_p99', 'ms', percentile(single.lat, 99), percentile(rawOne.lat, 99), '<= 2'));

    figures.push(
      figure(
        'outbox_claim_done_64_keys',
        'events/s',
        await claimAndDone(dir, 64),
        raw100,
        'info',
        'claim 64 heads + mark done, per transaction pair; baseline raw batch-100 inserts',
      ),
    );
    figures.push(
      figure('outbox_claim_done_1_key', 'events/s', await claimAndDone(dir, 1), rawOne.rate, 'info', 'claim 1 + mark done; baseline raw single-row commits'),
    );

    const ids = idOrderFigure(dir, Number(process.env.BENCH_ID_ROWS ?? 1_000_000));
    figures.push(figure('outbox_insert_v7_ids_in_1m_table', 'events/s', ids.v7, ids.v4, 'info', 'baseline: random UUIDv4 ids, same table size'));

    const big = join(dir, 'million.db');
    const count = Number(process.env.BENCH_MILLION ?? 1_000_000);
    await fill(big, count);
    const bytes = statSync(big).size + (statSync(`${big}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    figures.push(figure('outbox_bytes_per_event_1m', 'bytes', bytes / count, 600, '<= 1', 'baseline: the 600-byte budget'));
    const probe = JSON.parse(execFileSync(process.execPath, [join(__dirname, 'outbox-open.js'), big], { encoding: 'utf8' })) as {
      idleRssMb: number;
      openRssMb: number;
      firstClaimMs: number;
    };
    figures.push(figure('outbox_rss_above_idle_1m', 'MB', probe.openRssMb - probe.idleRssMb, 32, '<= 1', 'baseline: the 32 MB budget'));
    figures.push(figure('outbox_first_claim_1m', 'ms', probe.firstClaimMs, 1000, '<= 1', 'open + recover + first claim; baseline: the 1 s budget'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
