/**
 * The OPC UA adapter against a real node-opcua server on 127.0.0.1 (no security:
 * certificates and login are in security.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OpcuaSource } from '../../../agent/protocols/opcua/adapter';
import { startTestServer, type TestServer } from './fixture';
import { CollectingContext, delay, eventually, opcuaConfig, tempDir } from './helpers';

const FAST = { reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, requestTimeoutMs: 5000 };

describe('opcua adapter (no security)', () => {
  const tmp = tempDir('opcua-adapter');
  const serverPki = join(tmp.dir, 'server-pki');
  const stateDir = join(tmp.dir, 'state');
  let server: TestServer;
  const running: OpcuaSource[] = [];

  const source = (input: Record<string, unknown>, ctx: CollectingContext) => {
    const s = new OpcuaSource(opcuaConfig({ securityMode: 'None', securityPolicy: 'None', ...FAST, ...input }), ctx);
    running.push(s);
    return s;
  };

  before(async () => {
    server = await startTestServer({ pkiDir: serverPki, tickMs: 100 });
  });

  after(async () => {
    for (const s of running) await s.stop();
    await server?.stop();
    tmp.remove();
  });

  it('subscribes by NodeId and by browse path, and values arrive as signals', async () => {
    const ctx = new CollectingContext(stateDir);
    const ns = server.namespaceIndex;
    const src = source(
      {
        endpointUrl: server.endpointUrl,
        subscriptions: [
          {
            publishingIntervalMs: 100,
            samplingIntervalMs: 50,
            items: [
              { tag: 'counter', nodeId: server.nodeIds.counter },
              { tag: 'state', browsePath: `/Objects/${ns}:Line1/${ns}:StateCode` },
              { tag: 'big', nodeId: `nsu=${server.namespaceUri};s=Line1.BigCounter` },
              { tag: 'missing', nodeId: `ns=${ns};s=Line1.DoesNotExist` },
            ],
          },
        ],
      },
      ctx,
    );
    await src.start();
    await ctx.until(
      (s) => s.filter((x) => x.tag === 'counter').length >= 3 && s.some((x) => x.tag === 'state') && s.some((x) => x.tag === 'big'),
      15_000,
      'counter, state and big values',
    );

    const counters = ctx.of('counter');
    const values = counters.map((s) => s.value as number);
    assert.ok(
      values.every((v) => typeof v === 'number'),
      'counter values are numbers',
    );
    assert.ok(values[values.length - 1]! > values[0]!, `counter increases: ${values.join(',')}`);
    const c = counters[0]!;
    assert.equal(c.source, 'line1-plc');
    assert.equal(c.quality, 'good');
    assert.ok(!Number.isNaN(Date.parse(c.sourceTime)) && !Number.isNaN(Date.parse(c.receivedAt)));
    assert.equal(c.meta?.nodeId, server.nodeIds.counter);

    const state = ctx.of('state')[0]!;
    assert.ok([1, 2, 3].includes(state.value as number), `state code ${String(state.value)}`);
    assert.equal(state.meta?.nodeId, server.nodeIds.stateCode, 'browse path resolved to the StateCode node');

    const big = ctx.of('big')[0]!;
    assert.equal(typeof big.value, 'string', 'a UInt64 beyond 2^53 arrives as a decimal string');
    assert.ok(BigInt(big.value as string) > BigInt(Number.MAX_SAFE_INTEGER));

    const h = src.health();
    assert.equal(h.connected, true);
    assert.ok(h.lastDataAt);
    assert.equal(h.details?.subscriptions, 1);
    assert.equal(h.details?.items, 3);
    assert.equal(h.details?.itemsFailed, 1);
    assert.deepEqual(
      (h.details?.failedItems as Array<{ tag: string }>).map((f) => f.tag),
      ['missing'],
    );
    assert.equal(ctx.of('missing').length, 0);

    await src.start(); // again while running: no second connection
    assert.equal(src.health().details?.reconnects, 0);
    await src.stop();
    await src.stop();
    assert.equal(src.health().connected, false);
    const n = ctx.signals.length;
    await delay(400);
    assert.equal(ctx.signals.length, n, 'nothing arrives after stop');
  });

  it('respects an absolute dead band', async () => {
    const srv = await startTestServer({ pkiDir: serverPki, tickMs: 0 });
    try {
      const ctx = new CollectingContext(stateDir);
      const src = source(
        {
          endpointUrl: srv.endpointUrl,
          subscriptions: [
            {
              publishingIntervalMs: 50,
              samplingIntervalMs: 20,
              items: [
                { tag: 'temperature', nodeId: srv.nodeIds.temperature, deadband: { type: 'absolute', value: 0.5 } },
                { tag: 'temperature-all', nodeId: srv.nodeIds.temperature },
              ],
            },
          ],
        },
        ctx,
      );
      srv.setTemperature(20);
      await src.start();
      await ctx.until((s) => s.some((x) => x.tag === 'temperature') && s.some((x) => x.tag === 'temperature-all'), 10_000, 'initial temperature');
      for (const v of [20.1, 20.3, 20.45, 21.0, 21.2, 19.9]) {
        srv.setTemperature(v);
        await delay(150);
      }
      await ctx.until((s) => s.filter((x) => x.tag === 'temperature-all').some((x) => x.value === 19.9), 5000, 'last value without dead band');
      await delay(200);
      assert.deepEqual(
        ctx.of('temperature-all').map((s) => s.value),
        [20, 20.1, 20.3, 20.45, 21.0, 21.2, 19.9],
        'without dead band every change arrives',
      );
      // 20 -> 21.0 (moved 1.0) -> 19.9 (moved 1.1); 20.1 .. 20.45 and 21.2 stay within 0.5 of the last reported value
      assert.deepEqual(
        ctx.of('temperature').map((s) => s.value),
        [20, 21.0, 19.9],
      );
      await src.stop();
    } finally {
      await srv.stop();
    }
  });

  it('keeps the latest value of each tag while the outbox is full, and hands it over when it accepts again', async () => {
    const ctx = new CollectingContext(stateDir);
    const src = source(
      {
        endpointUrl: server.endpointUrl,
        subscriptions: [{ publishingIntervalMs: 100, items: [{ tag: 'counter', nodeId: server.nodeIds.counter }] }],
      },
      ctx,
    );
    ctx.refuse = true;
    await src.start();
    await eventually(() => src.health().details?.paused === true, 10_000, 'paused health');
    const h = src.health();
    assert.equal(h.details?.paused, true);
    assert.equal(h.lastError?.code, 'OUTBOX_FULL');
    assert.ok((h.details?.queued as number) >= 1);
    assert.equal(ctx.signals.length, 0);
    await delay(1500); // the server keeps counting meanwhile
    const refusedBefore = ctx.refusedCalls;
    assert.ok(refusedBefore >= 2, 'emit is retried with backoff');
    ctx.refuse = false;
    const counterAtResume = server.counter();
    await ctx.until(
      (s) => s.some((x) => x.tag === 'counter' && (x.value as number) >= counterAtResume),
      20_000,
      'the latest counter value after the outbox accepts again',
    );
    await eventually(() => src.health().details?.paused === false, 5000, 'resumed');
    const values = ctx.of('counter').map((s) => s.value as number);
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
      'delivered in order',
    );
    await src.stop();
  });

  it('stops cleanly while the server cannot be reached, and reports why in health', async () => {
    const ctx = new CollectingContext(stateDir);
    const src = source(
      {
        endpointUrl: 'opc.tcp://127.0.0.1:9', // discard port: nothing listens
        subscriptions: [{ items: [{ tag: 'x', nodeId: 'ns=2;s=X' }] }],
      },
      ctx,
    );
    await src.start();
    await eventually(() => src.health().lastError?.code === 'OPCUA_UNREACHABLE', 10_000, 'unreachable in health');
    assert.equal(src.health().connected, false);
    const t = Date.now();
    await src.stop();
    assert.ok(Date.now() - t < 8000, 'stop does not hang on a connection in progress');
  });
});
