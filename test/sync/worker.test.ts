import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { CanonicalEvent, EventType } from '../../agent/model/event';
import { OdooError, type OdooClient } from '../../agent/odoo/types';
import { OperationError, type Operation, type OperationOutcome } from '../../agent/sync/operations/types';
import { SyncWorker, type SyncWorkerConfig } from '../../agent/sync/worker';
import { makeEvent, makeProduction } from '../helpers/events';
import { testSyncConfig } from '../helpers/sync';
import { until } from '../helpers/until';

const dir = mkdtempSync(join(tmpdir(), 'worker-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
let n = 0;

const config = (over: Partial<SyncWorkerConfig> = {}): SyncWorkerConfig =>
  testSyncConfig({
    concurrency: 4,
    maxRequestsPerSecond: 10_000,
    circuit: { failureThreshold: 3, probeIntervalMs: 20, maxProbeIntervalMs: 40, linkProbeIntervalMs: 20 },
    skippableTypes: ['maintenance.requested'],
    ...over,
  });

/** An Odoo link for the worker's own logic; the real wire is tested against the simulator. */
function fakeClient(state: { down: boolean; probes: number; auth?: boolean }): OdooClient {
  const fail = () => {
    if (state.auth) throw new OdooError('invalid API key', { action: 'stop', code: 'HTTP_401', status: 401 });
    if (state.down) throw new OdooError('connect ECONNREFUSED 127.0.0.1:8069', { action: 'down', code: 'ODOO_UNREACHABLE', odooName: 'ECONNREFUSED' });
  };
  return {
    info: { major: 19, serverVersion: '19.0', protocol: 'json2' },
    async connect() {
      state.probes++;
      fail();
      return { major: 19, serverVersion: '19.0', protocol: 'json2' };
    },
    async probe() {
      state.probes++;
      fail();
    },
    async call() {
      throw new Error('not used');
    },
    async close() {},
  };
}

function recordingOp(type: EventType, handle: (e: CanonicalEvent) => Promise<OperationOutcome>, batch = false): Operation & { calls: CanonicalEvent[][] } {
  const calls: CanonicalEvent[][] = [];
  const op: Operation & { calls: CanonicalEvent[][] } = {
    type,
    calls,
    models: () => ['x'],
    async execute(e) {
      calls.push([e]);
      return handle(e);
    },
  };
  if (batch) {
    op.executeBatch = async (events) => {
      calls.push(events);
      return Promise.all(events.map((e) => handle(e).catch((err: Error) => err)));
    };
  }
  return op;
}

/**
 * A batchable downtime operation whose load() fails whole when it carries `bad`
 * (every row gets Odoo's ValidationError), like a real load(). `around` wraps each call.
 */
function wholeLoadOp(
  bad: CanonicalEvent,
  around: (events: CanonicalEvent[], send: () => Promise<Array<OperationOutcome | Error>>) => Promise<Array<OperationOutcome | Error>> = (_e, send) => send(),
): Operation & { calls: CanonicalEvent[][] } {
  const op = recordingOp(
    'downtime.started',
    async (e) => {
      if (e.id === bad.id) throw new OdooError('Wrong value for loss_id', { action: 'park', code: 'LOAD_FAILED', odooName: 'odoo.exceptions.ValidationError' });
      return { odooIds: { 'mrp.workcenter.productivity': 1 } };
    },
    true,
  );
  const rowByRow = op.executeBatch!;
  op.executeBatch = (events) =>
    around(events, async () => {
      const r = await rowByRow(events, undefined as never);
      const failed = r.find((x) => x instanceof Error);
      return failed ? events.map(() => failed) : r;
    });
  return op;
}

describe('sync worker', () => {
  it('delivers every key in order, several keys at once', async () => {
    const outbox = new SqliteOutbox({ path: join(dir, `w${++n}.db`) });
    const seen = new Map<string, number[]>();
    let concurrent = 0;
    let maxConcurrent = 0;
    const op = recordingOp('production.reported', async (e) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((r) => setTimeout(r, 2));
      const p = e.payload as { totalQuantity: number };
      seen.set(e.sequenceKey, [...(seen.get(e.sequenceKey) ?? []), p.totalQuantity]);
      concurrent--;
      return { odooIds: { 'mrp.production': 1 } };
    });
    for (let i = 1; i <= 20; i++) await outbox.enqueue(['MO-A', 'MO-B', 'MO-C', 'MO-D', 'MO-E'].map((k) => makeProduction(k, i)));
    const w = new SyncWorker({
      outbox,
      client: fakeClient({ down: false, probes: 0 }),
      operations: new Map([[op.type, op]]),
      config: config(),
      xmlidModule: 'edge_t',
      log,
    });
    w.start();
    await until(() => outbox.counts().done === 100);
    await w.stop();
    for (const [, totals] of seen)
      assert.deepEqual(
        totals,
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    assert.ok(maxConcurrent > 1 && maxConcurrent <= 4, `concurrency ${maxConcurrent} within the limit`);
    await outbox.close();
  });

  it('batches heads of many keys into one call, and splits a failed batch to park only the bad row', async () => {
    const outbox = new SqliteOutbox({ path: join(dir, `w${++n}.db`) });
    const bad = makeEvent({ sequenceKey: 'WC-13' });
    const op = wholeLoadOp(bad);
    const events = Array.from({ length: 30 }, (_, i) => (i === 13 ? bad : makeEvent({ sequenceKey: `WC-${i}` })));
    await outbox.enqueue(events);
    const w = new SyncWorker({
      outbox,
      client: fakeClient({ down: false, probes: 0 }),
      operations: new Map([[op.type, op]]),
      config: config({ concurrency: 1 }),
      xmlidModule: 'edge_t',
      log,
    });
    w.start();
    await until(() => outbox.counts().done === 29 && outbox.counts().parked === 1);
    await w.stop();
    assert.equal(op.calls[0]!.length, 30, 'the first call carried all 30 heads');
    assert.equal(outbox.get(bad.id)!.state, 'parked');
    assert.match(outbox.get(bad.id)!.error!, /ValidationError: Wrong value for loss_id/);
    await outbox.close();
  });

  it("a run that fails as a whole is split without ever putting a key's later events beside its earlier ones", async () => {
    const outbox = new SqliteOutbox({ path: join(dir, `w${++n}.db`) });
    const a = Array.from({ length: 4 }, () => makeEvent({ sequenceKey: 'WC-A' }));
    const b = Array.from({ length: 4 }, () => makeEvent({ sequenceKey: 'WC-B' }));
    const bad = a[2]!;
    const delivered: string[] = [];
    const inFlight = new Set<string>();
    const overlaps: string[] = [];
    // Record keys with two calls in flight at once, and what Odoo applied, in order.
    const op = wholeLoadOp(bad, async (events, send) => {
      const keys = new Set(events.map((e) => e.sequenceKey));
      for (const k of keys) if (inFlight.has(k)) overlaps.push(k);
      for (const k of keys) inFlight.add(k);
      await new Promise((r) => setTimeout(r, 5));
      const r = await send();
      for (const k of keys) inFlight.delete(k);
      if (!r.some((x) => x instanceof Error)) delivered.push(...events.map((e) => e.id));
      return r;
    });
    await outbox.enqueue([...a, ...b]);
    const w = new SyncWorker({
      outbox,
      client: fakeClient({ down: false, probes: 0 }),
      operations: new Map([[op.type, op]]),
      config: config({ concurrency: 2 }),
      xmlidModule: 'edge_t',
      log,
    });
    w.start();
    try {
      await until(() => outbox.counts().done === 6 && outbox.counts().parked === 1);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await w.stop();
    }
    assert.deepEqual(overlaps, [], 'never two calls of one key in flight at once');
    assert.equal(op.calls[0]!.filter((e) => e.sequenceKey === 'WC-A').length, 4, "the first call carried A's whole run");
    assert.deepEqual(
      delivered.filter((id) => a.some((e) => e.id === id)),
      [a[0]!.id, a[1]!.id],
      'A delivered up to the bad row, in order',
    );
    assert.ok(!delivered.includes(a[3]!.id), 'nothing of A after the bad row reached Odoo');
    assert.equal(outbox.get(bad.id)!.state, 'parked');
    assert.equal(outbox.get(a[3]!.id)!.state, 'pending');
    assert.deepEqual(
      delivered.filter((id) => b.some((e) => e.id === id)),
      b.map((e) => e.id),
      'B in order',
    );
    await outbox.close();
  });

  it('a parked transactional head blocks its key; a skippable one does not', async () => {
    const outbox = new SqliteOutbox({ path: join(dir, `w${++n}.db`) });
    const prod = recordingOp('production.reported', async (e) => {
      if ((e.payload as { totalQuantity: number }).totalQuantity === 1)
        throw new OdooError('Order is done', { action: 'park', code: 'X', odooName: 'odoo.exceptions.UserError' });
      return { odooIds: {} };
    });
    const maint = recordingOp('maintenance.requested', async (e) => {
      if ((e.payload as { name: string }).name === 'first')
        throw new OdooError('no equipment', { action: 'park', code: 'X', odooName: 'odoo.exceptions.ValidationError' });
      return { odooIds: {} };
    });
    const t = new Date().toISOString();
    const m = (name: string): CanonicalEvent => ({
      id: `m-${name}`,
      type: 'maintenance.requested',
      sequenceKey: 'EQ-1',
      occurredAt: t,
      receivedAt: t,
      source: 's',
      payload: { equipment: 'Press', name, maintenanceType: 'corrective', priority: '1' },
    });
    await outbox.enqueue([makeProduction('MO-1', 1), makeProduction('MO-1', 2), m('first'), m('second')]);
    const w = new SyncWorker({
      outbox,
      client: fakeClient({ down: false, probes: 0 }),
      operations: new Map<EventType, Operation>([
        [prod.type, prod],
        [maint.type, maint],
      ]),
      config: config(),
      xmlidModule: 'edge_t',
      log,
    });
    w.start();
    await until(() => outbox.counts().parked === 2 && outbox.get('m-second')!.state === 'done');
    await new Promise((r) => setTimeout(r, 50));
    await w.stop();
    assert.equal(prod.calls.length, 1, 'the second production event waits behind its parked head');
    assert.equal(outbox.list({ sequenceKey: 'MO-1', state: 'pending' }).length, 1);
    await outbox.close();
  });

  it('retries transient errors with backoff, opens the circuit, probes, then drains', async () => {
    const outbox = new SqliteOutbox({ path: join(dir, `w${++n}.db`) });
    const link = { down: false, probes: 0 };
    let attempts = 0;
    const op = recordingOp('production.reported', async () => {
      attempts++;
      if (link.down) throw new OdooError('HTTP 503', { action: 'retry', code: 'HTTP_503', status: 503, retryAfterMs: 0 });
      return { odooIds: {} };
    });
    const w = new SyncWorker({
      outbox,
      client: fakeClient(link),
      operations: new Map([[op.type, op]]),
      config: config({ concurrency: 1 }),
      xmlidModule: 'edge_t',
      log,
    });
    w.start();
    await until(() => w.status().circuit === 'closed');
    link.down = true;
    await outbox.enqueue([makeProduction('MO-9', 1), makeProduction('MO-9', 2)]);
    w.wake();
    await until(() => w.status().circuit === 'open');
    const attemptsWhenOpened = attempts;
    assert.equal(attemptsWhenOpened, 3, 'opened after the configured number of failures');
    const probesBefore = link.probes;
    await until(() => link.probes >= probesBefore + 2, 'two probes while open');
    assert.equal(attempts, attemptsWhenOpened, 'no requests while open');
    link.down = false;
    await until(() => outbox.counts().done === 2);
    assert.equal(w.status().circuit, 'closed');
    assert.equal(outbox.get(outbox.list({ sequenceKey: 'MO-9' })[0]!.id)!.attempts, 4);
    await w.stop();
    await outbox.close();
  });

  it("an operation's own retry (a work center blocked in Odoo) does not open the circuit", async () => {
    const outbox = new SqliteOutbox({ path: join(dir, `w${++n}.db`) });
    const link = { down: false, probes: 0 };
    let attempts = 0;
    const op = recordingOp('workorder.started', async () => {
      attempts++;
      if (attempts <= 6) throw new OperationError('WORKCENTER_BLOCKED', 'work center blocked by an open downtime', 'retry');
      return { odooIds: {} };
    });
    const w = new SyncWorker({
      outbox,
      client: fakeClient(link),
      operations: new Map([[op.type, op]]),
      config: config({ concurrency: 1 }),
      xmlidModule: 'edge_t',
      log,
    });
    w.start();
    await until(() => w.status().circuit === 'closed');
    const probes = link.probes;
    await outbox.enqueue([{ ...makeEvent({ sequenceKey: 'WH/MO/7' }), type: 'workorder.started', payload: { production: 'WH/MO/7' } } as CanonicalEvent]);
    w.wake();
    await until(() => outbox.counts().done === 1);
    assert.equal(attempts, 7);
    assert.equal(link.probes, probes, 'the circuit never opened: no probe');
    await w.stop();
    await outbox.close();
  });

  it('stops sending on an authentication failure and parks nothing', async () => {
    const outbox = new SqliteOutbox({ path: join(dir, `w${++n}.db`) });
    const link = { down: false, probes: 0, auth: false };
    const op = recordingOp('production.reported', async () => {
      if (link.auth) throw new OdooError('Access Denied', { action: 'stop', code: 'AccessDenied', odooName: 'odoo.exceptions.AccessDenied' });
      return { odooIds: {} };
    });
    const w = new SyncWorker({ outbox, client: fakeClient(link), operations: new Map([[op.type, op]]), config: config(), xmlidModule: 'edge_t', log });
    w.start();
    await until(() => w.status().circuit === 'closed');
    link.auth = true;
    await outbox.enqueue([makeProduction('MO-7', 1), makeProduction('MO-8', 1)]);
    w.wake();
    await until(() => w.status().circuit === 'auth-failed');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(outbox.counts().parked, 0);
    assert.equal(outbox.counts().pending, 2, 'both wait, released without an attempt counted');
    assert.equal(
      outbox.list({ state: 'pending' }).every((r) => r.attempts === 0),
      true,
    );
    link.auth = false;
    await until(() => outbox.counts().done === 2);
    await w.stop();
    await outbox.close();
  });
});
