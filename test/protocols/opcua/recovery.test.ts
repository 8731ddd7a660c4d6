/**
 * The OPC UA adapter recovers by itself from what happens on plant networks:
 * a server restart, a session closed by the server, subscriptions lost on the
 * server. The test never calls the adapter after start().
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OpcuaSource } from '../../../agent/protocols/opcua/adapter';
import { startTestServer, type TestServer } from './fixture';
import { CollectingContext, delay, eventually, opcuaConfig, tempDir } from './helpers';
import { startTcpProxy } from './tcp-proxy';

const FAST = { reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, requestTimeoutMs: 5000 };

describe('opcua adapter recovery', () => {
  const tmp = tempDir('opcua-recovery');
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

  it('comes back by itself after the server restarts on the same port (new server instance)', async () => {
    const srv1 = await startTestServer({ pkiDir: serverPki, tickMs: 100 });
    let srv2: TestServer | undefined;
    try {
      const ctx = new CollectingContext(stateDir);
      const ns = srv1.namespaceIndex;
      const src = source(
        {
          endpointUrl: srv1.endpointUrl,
          subscriptions: [
            {
              publishingIntervalMs: 100,
              items: [
                { tag: 'counter', nodeId: srv1.nodeIds.counter },
                { tag: 'state', browsePath: `/Objects/${ns}:Line1/${ns}:StateCode` },
              ],
            },
          ],
        },
        ctx,
      );
      await src.start();
      await ctx.until((s) => s.filter((x) => x.tag === 'counter').length >= 2, 10_000, 'counter before the restart');

      await srv1.stop();
      const stoppedAt = Date.now();
      await eventually(() => src.health().connected === false, 10_000, 'the adapter to notice the server is gone');
      await delay(500);
      srv2 = await startTestServer({ pkiDir: serverPki, port: srv1.port, tickMs: 100 });
      const restartedAt = Date.now();

      // a new server counts from 0 again: values below the old ones prove data from the new instance
      await ctx.until((s) => s.some((x) => x.tag === 'counter' && Date.parse(x.receivedAt) > restartedAt), 20_000, 'counter from the restarted server');
      await ctx.until((s) => s.filter((x) => x.tag === 'counter' && Date.parse(x.receivedAt) > restartedAt).length >= 3, 10_000, 'data keeps flowing');
      await ctx.until((s) => s.some((x) => x.tag === 'state' && Date.parse(x.receivedAt) > restartedAt), 10_000, 'browse-path item after the restart');
      const h = src.health();
      assert.equal(h.connected, true);
      assert.ok((h.details?.reconnects as number) >= 1, 'the reconnect is counted');
      assert.ok((h.details?.sessionsCreated as number) >= 1, 'the restarted server gave a new session');
      assert.ok(Date.now() - stoppedAt < 40_000);
      await src.stop();
    } finally {
      await srv2?.stop();
      await srv1.stop();
    }
  });

  it('comes back by itself after a network loss (connections cut, then refused for 2 s)', async () => {
    const proxy = await startTcpProxy(server.port);
    try {
      const ctx = new CollectingContext(stateDir);
      const src = source(
        {
          endpointUrl: `opc.tcp://127.0.0.1:${proxy.port}`,
          subscriptions: [{ publishingIntervalMs: 100, items: [{ tag: 'counter', nodeId: server.nodeIds.counter }] }],
        },
        ctx,
      );
      await src.start();
      await ctx.until((s) => s.some((x) => x.tag === 'counter'), 10_000, 'first counter');
      proxy.block(true);
      proxy.cut();
      await eventually(() => src.health().connected === false, 10_000, 'the adapter to notice the loss');
      await delay(2000);
      proxy.block(false);
      const backAt = Date.now();
      await ctx.until(
        (s) => s.filter((x) => x.tag === 'counter' && Date.parse(x.receivedAt) > backAt).length >= 3,
        20_000,
        'counter after the network came back',
      );
      // node-opcua reports the repair a moment after the first republished data
      await eventually(() => src.health().connected, 5000, 'connected in health');
      const h = src.health();
      assert.equal(h.connected, true);
      assert.ok((h.details?.reconnects as number) >= 1);
      assert.equal(h.details?.sessionsCreated, 0, 'the server still knew the session: it was reactivated, not replaced');
      const values = ctx.of('counter').map((x) => x.value as number);
      assert.deepEqual(
        values,
        [...values].sort((a, b) => a - b),
        'counter values stay in order across the loss',
      );
      await src.stop();
    } finally {
      await proxy.close();
    }
  });
});
