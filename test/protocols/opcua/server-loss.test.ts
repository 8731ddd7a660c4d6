/**
 * The OPC UA adapter recovers by itself when the server loses what it had for
 * the agent while the connection stays up: subscriptions deleted, the session
 * closed. The test never calls the adapter after start(). Then: no client left behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OPCUAClientBase } from 'node-opcua';
import { OpcuaSource } from '../../../agent/protocols/opcua/adapter';
import { startTestServer, type TestServer } from './fixture';
import { CollectingContext, opcuaConfig, tempDir } from './helpers';

const FAST = { reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, requestTimeoutMs: 5000 };

describe('opcua adapter recovery from server-side losses', () => {
  const tmp = tempDir('opcua-server-loss');
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

  // node-opcua #1059 and friends: a subscription can disappear on the server while the session lives on
  it('recovers when the server deletes its subscriptions but keeps the session', async () => {
    const ctx = new CollectingContext(stateDir);
    const src = source(
      {
        endpointUrl: server.endpointUrl,
        subscriptions: [{ publishingIntervalMs: 100, items: [{ tag: 'counter', nodeId: server.nodeIds.counter }] }],
      },
      ctx,
    );
    await src.start();
    await ctx.until((s) => s.some((x) => x.tag === 'counter'), 10_000, 'first counter');
    assert.ok(server.dropSubscriptions() >= 1, 'the fixture deleted a subscription');
    const droppedAt = Date.now();
    await ctx.until(
      (s) => s.filter((x) => x.tag === 'counter' && Date.parse(x.receivedAt) > droppedAt + 200).length >= 3,
      45_000,
      'counter after the subscription was deleted',
    );
    assert.equal(src.health().connected, true);
    await src.stop();
  });

  it('recovers when the server closes the session', async () => {
    const ctx = new CollectingContext(stateDir);
    const src = source(
      {
        endpointUrl: server.endpointUrl,
        subscriptions: [{ publishingIntervalMs: 100, items: [{ tag: 'counter', nodeId: server.nodeIds.counter }] }],
      },
      ctx,
    );
    await src.start();
    await ctx.until((s) => s.some((x) => x.tag === 'counter'), 10_000, 'first counter');
    assert.ok(server.closeSessions() >= 1, 'the fixture closed a session');
    const closedAt = Date.now();
    await ctx.until(
      (s) => s.filter((x) => x.tag === 'counter' && Date.parse(x.receivedAt) > closedAt + 200).length >= 3,
      30_000,
      'counter after the session was closed',
    );
    assert.equal(src.health().connected, true);
    await src.stop();
  });

  // guards the memory growth seen in reconnect loops: every client the adapter made is gone again
  it('leaves no OPC UA client behind after the rebuilds above', async () => {
    assert.ok(running.length >= 2, 'the tests above ran');
    const ctx = new CollectingContext(stateDir);
    const src = source({ endpointUrl: server.endpointUrl, subscriptions: [{ items: [{ tag: 'counter', nodeId: server.nodeIds.counter }] }] }, ctx);
    await src.start();
    await ctx.until((s) => s.length > 0, 10_000, 'a signal');
    assert.equal(OPCUAClientBase.registry.count(), 1, 'the registry sees a live client');
    for (const s of running) await s.stop();
    assert.equal(OPCUAClientBase.registry.count(), 0, OPCUAClientBase.registry.toString());
  });
});
