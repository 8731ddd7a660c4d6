import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { RunPolicy } from '../agent/buffer/outbox';
import { SqliteOutbox } from '../agent/buffer/sqlite-outbox';
import { syncConfigSchema } from '../agent/config/schema';
import { eventId } from '../agent/model/event-ids';
import type { CanonicalEvent } from '../agent/model/event';
import { createOdooClient } from '../agent/odoo/client';
import { odooConfigSchema } from '../agent/odoo/config';
import { createOperationRegistry } from '../agent/sync/operations/index';
import { externalId, odooDatetime } from '../agent/sync/operations/odoo-calls';
import { SyncWorker } from '../agent/sync/worker';
import { startTcpProxy } from '../test/protocols/opcua/tcp-proxy';
import { figure, median, percentile, type Figure } from './figure';

const log = pino({ level: 'silent' });
/** Events per drain with 64 keys (one key drains a quarter of it). Short drains measure start-up, not delivery. */
const EVENTS = Number(process.env.BENCH_SYNC_EVENTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Events per drain with link cuts: at the product's pace (2,000 events/s at most) a drain without cuts takes 10 s or more, so cuts at 6 and 12 s fall in it. */
const CUT_EVENTS = Number(process.env.BENCH_SYNC_CUT_EVENTS ?? 20_000);

function downtimes(n: number, keyOf: (i: number) => string, tag: string, workcenter = 'Assembly Line 1'): CanonicalEvent[] {
  const t0 = Date.now() - 86_400_000; // recent: the agent holds events older than 30 days
  return Array.from({ length: n }, (_, i) => {
    const at = t0 + i * 1000;
    const iso = new Date(at).toISOString();
    const key = keyOf(i);
    return {
      id: eventId(at, 'bench', tag, i),
      type: 'downtime.started',
      sequenceKey: key,
      occurredAt: iso,
      receivedAt: iso,
      source: 'bench',
      payload: { downtimeId: `${tag}-${i}`, workcenter, reason: 'Material Availability' },
    } as CanonicalEvent;
  });
}

type Target = { url: string; db: string; apiKey: string; login: string };

/**
 * The simulator in a process of its own, as Odoo is: its work is not charged
 * to the agent's event loop (on one loop, every microsecond the simulator
 * spends on load() would count as the agent's).
 */
async function simProcess(): Promise<Target & { close(): Promise<void> }> {
  const main = join(__dirname, '..', 'test', 'odoo-sim', 'main.js');
  const child = spawn(process.execPath, [main, '--port', '0', '--host', '127.0.0.1', '--version', '19'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the simulator exited (${code}) before it listened`)));
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (/^api key: .+$/m.test(out)) resolve();
    });
  });
  const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(out)![1]!.trim();
  return {
    url: out.split('\n')[0]!.trim(),
    db: field('database'),
    login: field('login'),
    apiKey: field('api key'),
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

function client(t: Target) {
  process.env.BENCH_ODOO_KEY = t.apiKey;
  const config = odooConfigSchema.parse({ url: t.url, database: t.db, apiKey: '${env:BENCH_ODOO_KEY}', username: t.login });
  return createOdooClient(config, log);
}

/** A real Odoo from an env file (ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY), for the per-request figure. */
function realOdoo(file: string): Target {
  const env = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1).trim()]),
  );
  return { url: env.ODOO_URL!, db: env.ODOO_DB!, apiKey: env.ODOO_API_KEY!, login: env.ODOO_USER! };
}

/** Drain `events` through the real worker and operations into the simulator; events/s. */
async function drain(sim: Target, dir: string, events: CanonicalEvent[], tag: string, batchSize = 100): Promise<number> {
  const outbox = new SqliteOutbox({ path: join(dir, `drain-${tag}.db`), synchronous: 'FULL' });
  await outbox.enqueue(events);
  const c = client(sim);
  const worker = new SyncWorker({
    outbox,
    client: c,
    operations: createOperationRegistry(),
    config: {
      concurrency: 4,
      maxRequestsPerSecond: 100_000,
      batchSize,
      claimLimit: 500,
      backoff: { initialMs: 10, maxMs: 100 },
      circuit: { failureThreshold: 100, probeIntervalMs: 50, maxProbeIntervalMs: 100 },
      skippableTypes: [],
    },
    xmlidModule: 'edge_bench',
    log,
    idlePollMs: 5,
  });
  const start = process.hrtime.bigint();
  worker.start();
  const deadline = Date.now() + 180_000;
  while (outbox.counts().done < events.length) {
    await new Promise((r) => setTimeout(r, 2));
    if (Date.now() > deadline)
      throw new Error(`drain did not finish in 180 s (${JSON.stringify(outbox.counts())}, Odoo: ${JSON.stringify(worker.status().lastError)})`);
    if (outbox.counts().parked) throw new Error(`parked: ${outbox.list({ state: 'parked', limit: 1 })[0]?.error}`);
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await worker.stop();
  await c.close();
  await outbox.close();
  return events.length / s;
}

/**
 * Cuts of the link during a drain: the k-th starts k * everyMs after the drain
 * began and lasts forMs, give or take up to jitterMs (drawn at random, so the
 * agent's probes, one a second, do not fall in step with whole-second cuts).
 */
interface Cuts {
  everyMs: number;
  forMs: number;
  jitterMs: number;
  /** Stop once this many cuts were followed by a delivery (the drain need not finish). */
  stopAfter?: number;
}

/**
 * Drain through a TCP relay in front of the simulator, cut as `cuts` says
 * (open connections reset, new ones refused), with the product's default
 * sync settings (pace, circuit, backoff). Returns events/s and, for each cut,
 * how long after the link came back the first event was delivered.
 */
async function drainThroughCuts(sim: Target, dir: string, events: CanonicalEvent[], tag: string, cuts?: Cuts): Promise<{ rate: number; resumes: number[] }> {
  const proxy = await startTcpProxy(Number(new URL(sim.url).port));
  const outbox = new SqliteOutbox({ path: join(dir, `cuts-${tag}.db`), synchronous: 'FULL' });
  await outbox.enqueue(events);
  const c = client({ ...sim, url: `http://127.0.0.1:${proxy.port}` });
  const resumes: number[] = [];
  let restoredAt: number | null = null;
  const worker = new SyncWorker({
    outbox,
    client: c,
    operations: createOperationRegistry(),
    config: syncConfigSchema.parse({}),
    xmlidModule: 'edge_bench',
    log,
    observe: (o) => {
      if (o.result !== 'done' || restoredAt === null) return;
      resumes.push(Date.now() - restoredAt);
      restoredAt = null;
    },
  });
  const start = process.hrtime.bigint();
  worker.start();
  const began = Date.now();
  let nextCut = cuts ? began + cuts.everyMs : Infinity;
  let cutEnds = Infinity;
  const deadline = began + 300_000;
  while (outbox.counts().done < events.length && !(cuts?.stopAfter && resumes.length >= cuts.stopAfter)) {
    await new Promise((r) => setTimeout(r, 2));
    const now = Date.now();
    if (cuts && now >= nextCut) {
      proxy.block(true);
      proxy.cut();
      cutEnds = now + cuts.forMs + Math.round((Math.random() * 2 - 1) * cuts.jitterMs);
      nextCut += cuts.everyMs;
    }
    if (now >= cutEnds) {
      proxy.block(false);
      restoredAt = now;
      cutEnds = Infinity;
    }
    if (now > deadline) throw new Error(`drain with cuts did not finish in 300 s (${JSON.stringify(outbox.counts())})`);
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  const done = outbox.counts().done;
  proxy.block(false);
  await worker.stop();
  await c.close();
  await outbox.close();
  await proxy.close();
  return { rate: done / s, resumes };
}

/** Raw better-sqlite3 work of the same drain: claim heads and mark them done, no Odoo; events/s. */
async function rawClaimAndMark(dir: string, events: CanonicalEvent[], tag: string, perClaim: number, runs?: RunPolicy): Promise<number> {
  const outbox = new SqliteOutbox({ path: join(dir, `raw-${tag}.db`), synchronous: 'FULL' });
  await outbox.enqueue(events);
  const start = process.hrtime.bigint();
  for (;;) {
    const claimed = outbox.claim(perClaim, undefined, runs);
    if (claimed.length === 0) break;
    outbox.settle(claimed.map((r) => ({ seq: r.seq, outcome: 'done' as const, odooIds: { x: 1 } })));
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await outbox.close();
  return events.length / s;
}

/** Time per event: the agent (outbox + worker + operation + client) vs a client making the same load() calls. */
async function perRequest(sim: Target, dir: string, n: number, tag: string): Promise<{ agentMs: number; directMs: number }> {
  const c = client(sim);
  await c.connect();
  const [wc] = await c.call<Array<{ id: number; name: string }>>('mrp.workcenter', 'search_read', {
    kwargs: { domain: [], fields: ['id', 'name'], limit: 1, order: 'id' },
  });
  const events = downtimes(n, () => 'WC-single', `${tag}-agent`, wc!.name);
  const rate = await drain(sim, dir, events, `${tag}-per`, 1);
  const [loss] = await c.call<Array<{ id: number }>>('mrp.workcenter.productivity.loss', 'search_read', {
    kwargs: { domain: [['name', '=', 'Material Availability']], fields: ['id'], limit: 1 },
  });
  const direct = downtimes(n, () => 'WC-single', `${tag}-direct`);
  const start = process.hrtime.bigint();
  for (const e of direct) {
    const p = e.payload as { downtimeId: string };
    await c.call('mrp.workcenter.productivity', 'load', {
      kwargs: {
        fields: ['id', 'workcenter_id/.id', 'loss_id/.id', 'date_start'],
        data: [[externalId('edge_bench', 'downtime', p.downtimeId), String(wc!.id), String(loss!.id), odooDatetime(e.occurredAt)]],
      },
      context: { tz: 'UTC' },
    });
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await c.close();
  return { agentMs: 1000 / rate, directMs: (s * 1000) / n };
}

export async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sync-'));
  const sim = await simProcess();
  const figures: Figure[] = [];
  try {
    const one: number[] = [];
    const oneRaw: number[] = [];
    const ordered: number[] = [];
    const orderedRaw: number[] = [];
    const unordered: number[] = [];
    const oneRawRuns: number[] = [];
    const orderedRawRuns: number[] = [];
    // The claims the worker makes (batchSize 100, 4 requests): a key's next events come with its head.
    const runs: RunPolicy = { types: new Set(['downtime.started']), max: 100 };
    // Warm-up, not measured: the first drain of a process pays for compiling the code paths.
    const warm = downtimes(2000, (i) => `WC-${i % 64}`, 'warm');
    await rawClaimAndMark(dir, warm, 'warm', 400, runs);
    await drain(sim, dir, warm, 'warm');
    for (let r = 0; r < ROUNDS; r++) {
      const single = downtimes(EVENTS / 4, () => 'WC-1', `one${r}`);
      oneRaw.push(await rawClaimAndMark(dir, single, `one${r}`, 1));
      oneRawRuns.push(await rawClaimAndMark(dir, single, `one-runs${r}`, 100, runs));
      one.push(await drain(sim, dir, single, `one${r}`));
      const keyed = downtimes(EVENTS, (i) => `WC-${i % 64}`, `k64-${r}`);
      orderedRaw.push(await rawClaimAndMark(dir, keyed, `k64-${r}`, 64));
      orderedRawRuns.push(await rawClaimAndMark(dir, keyed, `k64-runs${r}`, 400, runs));
      ordered.push(await drain(sim, dir, keyed, `k64-${r}`));
      const free = downtimes(EVENTS, (i) => `free-${r}-${i}`, `free-${r}`);
      unordered.push(await drain(sim, dir, free, `free-${r}`));
    }
    figures.push(
      figure(
        'sync_drain_1_key',
        'events/s',
        median(one),
        median(oneRaw),
        '>= 0.5',
        'worker to the Odoo simulator (a process of its own, as Odoo is), one key; baseline: raw claim 1 + mark done',
      ),
    );
    figures.push(
      figure(
        'sync_drain_64_keys',
        'events/s',
        median(ordered),
        median(orderedRaw),
        '>= 0.5',
        'worker to the Odoo simulator, 64 keys; baseline: raw claim 64 + mark done',
      ),
    );
    figures.push(
      figure(
        'sync_drain_1_key_vs_same_claims',
        'events/s',
        median(one),
        median(oneRawRuns),
        '>= 0.5',
        "worker to the Odoo simulator, one key; baseline: the raw outbox making the worker's claims (the head and up to 99 events behind it) + mark done",
      ),
    );
    figures.push(
      figure(
        'sync_drain_64_keys_vs_same_claims',
        'events/s',
        median(ordered),
        median(orderedRawRuns),
        '>= 0.5',
        "worker to the Odoo simulator, 64 keys; baseline: the raw outbox making the worker's claims (400 events: 64 heads and the events behind them) + mark done",
      ),
    );
    figures.push(
      figure(
        'sync_drain_ordered_vs_unordered',
        'events/s',
        median(ordered),
        median(unordered),
        '>= 0.8',
        'ordered over 64 keys vs the same events with no order constraint',
      ),
    );
    // The link cut and restored: product sync settings, the simulator behind a TCP relay (decision 32).
    const withCuts: number[] = [];
    const withoutCuts: number[] = [];
    const resumes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      withoutCuts.push(
        (
          await drainThroughCuts(
            sim,
            dir,
            downtimes(CUT_EVENTS, (i) => `WC-${i % 64}`, `plain-${r}`),
            `plain-${r}`,
          )
        ).rate,
      );
      const cut = await drainThroughCuts(
        sim,
        dir,
        downtimes(CUT_EVENTS, (i) => `WC-${i % 64}`, `cut-${r}`),
        `cut-${r}`,
        { everyMs: 6000, forMs: 3000, jitterMs: 500 },
      );
      withCuts.push(cut.rate);
      resumes.push(...cut.resumes);
    }
    const series = downtimes(30_000, (i) => `WC-${i % 64}`, 'resume');
    resumes.push(...(await drainThroughCuts(sim, dir, series, 'resume', { everyMs: 4000, forMs: 2500, jitterMs: 1000, stopAfter: 10 })).resumes);
    figures.push(
      figure(
        'sync_resume_after_cut_p95',
        'ms',
        percentile(resumes, 95),
        2000,
        '<= 1',
        `first delivery after the link came back, p95 of ${resumes.length} cuts (those of the drains below, and 1.5-3.5 s cuts every 4 s); product sync settings, the simulator behind a TCP relay; baseline: the 2 s budget`,
      ),
    );
    figures.push(
      figure(
        'sync_drain_with_cuts_vs_without',
        'events/s',
        median(withCuts),
        median(withoutCuts),
        '>= 0.5',
        `${CUT_EVENTS} events over 64 keys, the link cut for 3 s (+-0.5 s) every 6 s, the first at 6 s; baseline: the same drain without cuts; product sync settings, the simulator behind a TCP relay`,
      ),
    );
    const per = await perRequest(sim, dir, 300, 'req');
    figures.push(
      figure(
        'sync_agent_time_per_request_sim',
        'ms',
        per.agentMs,
        per.directMs,
        'info',
        'one event per request, sequential, to the simulator (answers in well under 1 ms, so two outbox commits per event dominate); baseline: a direct client making the same load() calls',
      ),
    );
    const envFile = process.env.BENCH_ODOO_ENV;
    if (envFile) {
      const real = await perRequest(realOdoo(envFile), dir, Number(process.env.BENCH_ODOO_EVENTS ?? 60), `real${Date.now()}`).catch((err: unknown) => {
        process.stderr.write(`bench sync: the real Odoo of ${envFile} failed: ${(err as Error).message}\n`);
        return undefined;
      });
      if (real)
        figures.push(
          figure(
            'sync_agent_time_per_request_real_odoo',
            'ms',
            real.agentMs,
            real.directMs,
            '<= 1.1',
            `one event per request, sequential, to the real Odoo of ${envFile}; baseline: a direct client making the same load() calls`,
          ),
        );
    }
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
