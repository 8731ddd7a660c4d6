import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { syncConfigSchema } from '../../agent/config/schema';
import { createOdooClient } from '../../agent/odoo/client';
import type { OdooClient } from '../../agent/odoo/types';
import type { CircuitState } from '../../agent/sync/circuit';
import { createOperationRegistry } from '../../agent/sync/operations/index';
import { SyncWorker, type SyncWorkerConfig } from '../../agent/sync/worker';
import { downtimeStarted } from '../helpers/events';
import { until } from '../helpers/until';
import { simConfig } from '../odoo/helpers';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { startTcpProxy, type TcpProxy } from '../protocols/opcua/tcp-proxy';

/**
 * The link to Odoo going away and coming back, as the plant sees it: the
 * simulator behind a TCP relay that a test cuts (open connections reset, new
 * ones refused) and restores. The worker runs with the product's default
 * circuit and backoff; only the pace is lowered so a drain spans the cuts.
 */

const dir = mkdtempSync(join(tmpdir(), 'link-test-'));
const log = pino({ level: 'silent' });
let n = 0;

/** The product's defaults (config schema), at a pace that keeps a few thousand events in flight for seconds. */
const defaults = (over: Partial<SyncWorkerConfig> = {}): SyncWorkerConfig => ({
  ...syncConfigSchema.parse({}),
  maxRequestsPerSecond: 10,
  batchSize: 20,
  ...over,
});

interface Seen {
  at: number;
  result: string;
  errorClass: string | undefined;
  circuit: CircuitState;
}

interface Run {
  outbox: SqliteOutbox;
  worker: SyncWorker;
  client: OdooClient;
  /** Every settled request: when, its result, and the circuit right after. */
  seen: Seen[];
  /** When each probe started. */
  probes: number[];
  close(): Promise<void>;
}

async function startRun(sim: OdooSim, port: number, events: number, keys: number, over: Partial<SyncWorkerConfig> = {}): Promise<Run> {
  const outbox = new SqliteOutbox({ path: join(dir, `link${++n}.db`), synchronous: 'NORMAL' });
  const t0 = Date.UTC(2026, 10, 1) + n * 10_000_000;
  await outbox.enqueue(Array.from({ length: events }, (_, i) => downtimeStarted('link', `WC-${i % keys}`, `r${n}-${i}`, 'Assembly Line 1', t0 + i * 1000)));
  const real = createOdooClient(simConfig(sim, { url: `http://127.0.0.1:${port}` }), log);
  const probes: number[] = [];
  const client: OdooClient = {
    get info() {
      return real.info;
    },
    connect: () => real.connect(),
    call: (model, method, params) => real.call(model, method, params),
    probe: () => {
      probes.push(Date.now());
      return real.probe();
    },
    close: () => real.close(),
  };
  const seen: Seen[] = [];
  const worker: SyncWorker = new SyncWorker({
    outbox,
    client,
    operations: createOperationRegistry(),
    config: defaults(over),
    xmlidModule: 'edge_link',
    log,
    observe: (o) => seen.push({ at: Date.now(), result: o.result, errorClass: o.errorClass, circuit: worker.status().circuit }),
  });
  worker.start();
  await until(() => outbox.counts().done >= 40, 'sending under way', 20_000);
  return {
    outbox,
    worker,
    client,
    seen,
    probes,
    async close() {
      await worker.stop();
      await client.close();
      await outbox.close();
    },
  };
}

describe('the Odoo link: cut and restored', () => {
  let sim: OdooSim;
  let proxy: TcpProxy;
  const cut = () => {
    proxy.block(true);
    proxy.cut();
    return Date.now();
  };
  const restore = () => {
    proxy.block(false);
    return Date.now();
  };
  before(async () => {
    sim = await startOdooSim({ version: 19 });
    proxy = await startTcpProxy(sim.port);
  });
  after(async () => {
    await proxy.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Odoo was reported up for seconds after the WAN was cut: the first request without an answer says down', async () => {
    const run = await startRun(sim, proxy.port, 2000, 20);
    try {
      const cutAt = cut();
      await until(() => run.seen.some((s) => s.at >= cutAt && s.result !== 'done'), 'a request that failed after the cut');
      const first = run.seen.find((s) => s.at >= cutAt && s.result !== 'done')!;
      assert.equal(first.result, 'down', 'no answer is the link failing, not the event');
      assert.equal(first.circuit, 'open', 'the circuit is open from the first failed request on');
      const status = run.worker.status();
      assert.equal(status.circuit, 'open', 'the page and `edge-agent status` read this');
      assert.ok(status.circuitOpenedAt !== null && status.circuitOpenedAt >= cutAt, 'down since the cut');
      assert.ok(status.lastError, 'the reason is shown');
    } finally {
      restore();
      await run.close();
    }
  });

  it('sending resumed 18.8 s after the WAN returned: probes stay at one a second through a long cut, and sending resumes within 2 s', async () => {
    const run = await startRun(sim, proxy.port, 3000, 20);
    try {
      const cutAt = cut();
      await until(() => run.worker.status().circuit === 'open', 'the circuit open');
      await sleep(6500);
      const during = run.probes.filter((t) => t >= cutAt).length;
      // One a second (default linkProbeIntervalMs); growing from 5 s (the old way) gives one or two.
      assert.ok(during >= 4, `${during} probes in 6.5 s of cut`);
      const backAt = restore();
      await until(() => run.seen.some((s) => s.at >= backAt && s.result === 'done'), 'a delivery after the WAN returned', 20_000);
      const resumedMs = run.seen.find((s) => s.at >= backAt && s.result === 'done')!.at - backAt;
      assert.ok(resumedMs < 2000, `sending resumed ${resumedMs} ms after the WAN returned`);
    } finally {
      restore();
      await run.close();
    }
  });

  it('each cut pushed events into per-event retry waits: a cut costs no event an attempt', async () => {
    const run = await startRun(sim, proxy.port, 1200, 30);
    try {
      for (let i = 0; i < 2; i++) {
        cut();
        await until(() => run.worker.status().circuit === 'open', 'the circuit open');
        await sleep(1500);
        restore();
        await until(() => run.worker.status().circuit === 'closed', 'sending again', 10_000);
        await sleep(300);
      }
      await until(() => run.outbox.counts().done === 1200, 'the backlog drained', 60_000);
      assert.equal(run.seen.filter((s) => s.result === 'retry').length, 0, 'no request result was a retry with backoff');
      assert.ok(
        run.seen.some((s) => s.result === 'down'),
        'requests did fail during the cuts',
      );
      const attempts = run.outbox.list({ state: 'done', limit: 5000 }).map((r) => r.attempts);
      assert.equal(attempts.length, 1200);
      assert.deepEqual([...new Set(attempts)], [1], 'every event went to Odoo with one counted attempt: the one that succeeded');
    } finally {
      restore();
      await run.close();
    }
  });

  it("the event's own transient trouble still backs off: a lock conflict retries the event and leaves the circuit closed, 429 waits for Retry-After", async () => {
    const run = await startRun(sim, proxy.port, 800, 4);
    try {
      sim.faults.set({ kind: 'serialization', calls: 2, model: 'mrp.workcenter.productivity', method: 'load' });
      await until(() => run.seen.filter((s) => s.result === 'retry').length >= 2, 'two lock conflicts');
      sim.faults.set({ kind: 'status', status: 429, retryAfter: 1, calls: 1 });
      await until(() => run.seen.some((s) => s.errorClass === 'ODOO_RATE_LIMITED'), 'a 429');
      const limitedAt = run.seen.find((s) => s.errorClass === 'ODOO_RATE_LIMITED')!.at;
      const waiting = run.outbox.list({ state: 'retrying', limit: 1000 }).filter((r) => r.errorCode === 'ODOO_RATE_LIMITED');
      assert.ok(waiting.length > 0, 'the events of the 429 wait');
      for (const r of waiting) assert.ok(r.nextAttemptAt! >= limitedAt + 900, `waits for Retry-After: ${r.nextAttemptAt! - limitedAt} ms`);
      await until(() => run.outbox.counts().done === 800, 'the backlog drained', 60_000);
      assert.ok(
        run.seen.every((s) => s.circuit === 'closed'),
        'the circuit never opened',
      );
      const retried = run.outbox.list({ state: 'done', limit: 1000 }).filter((r) => r.attempts > 1);
      assert.ok(retried.length > 0, 'the events that met trouble counted their attempts');
    } finally {
      await run.close();
    }
  });

  it('a refused connection read "ECONNREFUSED: ECONNREFUSED: connect ECONNREFUSED": the status names it once', async () => {
    const direct = await startOdooSim({ version: 19 });
    const run = await startRun(direct, direct.port, 200, 4);
    try {
      direct.faults.set({ kind: 'refuse' });
      await until(() => /ECONNREFUSED/.test(run.worker.status().lastError?.message ?? ''), 'a refused connection reported', 10_000);
      const message = run.worker.status().lastError!.message;
      assert.equal(message.match(/ECONNREFUSED/g)!.length, 1, message);
      assert.equal(run.worker.status().circuit, 'open');
      direct.faults.clear('refuse');
      await until(() => run.worker.status().circuit === 'closed', 'Odoo listens again');
    } finally {
      direct.faults.clear('refuse');
      await run.close();
      await direct.close();
    }
  });
});
