/**
 * Writes through the OPC UA source's session (order release) against a real
 * node-opcua server: values land and read back, the server's refusals come
 * back as its status names, nothing is written while disconnected, and a
 * connection lost during a write ends in a refusal, not a hang.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OpcuaSource } from '../../../agent/protocols/opcua/adapter';
import type { WriteRequest } from '../../../agent/protocols/types';
import { startTestServer, type ReleaseVariable, type TestServer } from './fixture';
import { CollectingContext, eventually, opcuaConfig, tempDir } from './helpers';
import { startTcpProxy } from './tcp-proxy';

type OpcuaWrite = Extract<WriteRequest, { kind: 'opcua' }>;

const FAST = { reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, requestTimeoutMs: 5000 };

describe('opcua writes (node-opcua server on 127.0.0.1)', () => {
  const tmp = tempDir('opcua-writes');
  const serverPki = join(tmp.dir, 'server-pki');
  const stateDir = join(tmp.dir, 'state');
  let server: TestServer;
  const running: OpcuaSource[] = [];

  const source = (endpointUrl: string, over: Record<string, unknown> = {}) => {
    const s = new OpcuaSource(
      opcuaConfig({
        securityMode: 'None',
        securityPolicy: 'None',
        ...FAST,
        endpointUrl,
        subscriptions: [{ publishingIntervalMs: 200, items: [{ tag: 'counter', nodeId: server.nodeIds.counter }] }],
        ...over,
      }),
      new CollectingContext(stateDir),
    );
    running.push(s);
    return s;
  };
  const connected = async (s: OpcuaSource) => {
    await s.start();
    await eventually(() => s.health().connected, 15_000, 'the session');
  };
  const to = (name: ReleaseVariable, value: string | number | boolean, dataType?: OpcuaWrite['dataType']): WriteRequest => ({
    kind: 'opcua',
    nodeId: server.nodeIds.release(name),
    value,
    ...(dataType ? { dataType } : {}),
  });

  before(async () => {
    server = await startTestServer({ pkiDir: serverPki, tickMs: 0, slowWriteMs: 4000 });
  });

  after(async () => {
    for (const s of running) await s.stop();
    await server?.stop();
    tmp.remove();
  });

  it('writes land and read back, all in one Write call; the data type given or read from the node', async () => {
    const src = source(server.endpointUrl);
    await connected(src);
    const writesBefore = server.requestCount('WriteRequest');
    const results = await src.write([
      to('OrderNumber', 'WH/MO/00042', 'String'),
      to('TargetQuantity', 125.5), // Double, read from the node
      to('BatchCount', -12, 'Int32'),
      to('CycleTime', 30.25), // Duration: a subtype of Double, found by browsing up
      { kind: 'opcua', nodeId: `nsu=${server.namespaceUri};s=Line1.Recipe`, value: 7, dataType: 'Int32' }, // user may not write: below
      to('StartCommand', true), // write-only
    ]);
    assert.deepEqual(results, [
      { ok: true, readBack: 'WH/MO/00042' },
      { ok: true, readBack: 125.5 },
      { ok: true, readBack: -12 },
      { ok: true, readBack: 30.25 },
      { ok: false, reason: 'BadUserAccessDenied' },
      { ok: true, reason: 'written (Good); the node cannot be read back (BadNotReadable)' },
    ]);
    assert.equal(server.requestCount('WriteRequest') - writesBefore, 1, 'one Write call for all values');
    assert.equal(server.valueOf('OrderNumber'), 'WH/MO/00042');
    assert.equal(server.valueOf('TargetQuantity'), 125.5);
    assert.equal(server.valueOf('BatchCount'), -12);
    assert.equal(server.valueOf('CycleTime'), 30.25);
    assert.equal(server.valueOf('Recipe'), 7, 'unchanged');
    assert.equal(server.valueOf('StartCommand'), true);
    const d = src.health().details as { writes: number; writesRefused: number };
    assert.deepEqual([d.writes, d.writesRefused], [5, 1]);
  });

  it("refuses with the server's status, or before sending when the value does not fit; the rest of the call is still written", async () => {
    const src = source(server.endpointUrl);
    await connected(src);
    const ns = server.namespaceIndex;
    const results = await src.write([
      to('SerialNumber', 'SN-9999', 'String'), // read-only
      to('TargetQuantity', 'abc', 'String'), // wrong data type: the server says so
      to('TargetQuantity', 'abc'), // wrong data type: the node says Double
      to('BatchCount', 2 ** 31), // beyond Int32
      to('BatchCount', 1.5, 'Int32'),
      { kind: 'opcua', nodeId: `ns=${ns};s=Line1.NoSuchNode`, value: 1, dataType: 'Double' },
      { kind: 'opcua', nodeId: `ns=${ns};s=Line1.NoSuchNode`, value: 1 },
      { kind: 'opcua', nodeId: 'Line1.OrderNumber', value: 'x' },
      { kind: 'modbus', unitId: 1, address: 0, type: 'uint16', value: 1 },
      to('SpeedSetpoint', 150), // accepted, but the PLC keeps 100
      to('OrderNumber', 'WH/MO/00043'),
    ]);
    assert.deepEqual(results, [
      { ok: false, reason: 'BadNotWritable' },
      { ok: false, reason: 'BadTypeMismatch' },
      { ok: false, reason: 'Double needs a number, got text "abc"' },
      { ok: false, reason: '2147483648 is outside the Int32 range -2147483648..2147483647' },
      { ok: false, reason: 'Int32 needs a whole number, got 1.5' },
      { ok: false, reason: 'BadNodeIdUnknown' },
      { ok: false, reason: 'BadNodeIdUnknown' },
      {
        ok: false,
        reason: 'nodeId "Line1.OrderNumber" is not a NodeId such as "ns=2;s=Line1.Counter", "ns=3;i=1001", "i=2258" or "nsu=urn:vendor:plc;s=Counter"',
      },
      { ok: false, reason: 'this OPC UA source writes only kind opcua values (got modbus)' },
      { ok: false, reason: 'read back 100, not 150', readBack: 100 },
      { ok: true, readBack: 'WH/MO/00043' },
    ]);
    assert.equal(server.valueOf('SerialNumber'), 'SN-0001');
    assert.equal(typeof server.valueOf('TargetQuantity'), 'number');
    assert.equal(src.health().connected, true, 'refusals leave the session as it was');
  });

  it('refuses while not connected: before start, while the server is unreachable, after stop', async () => {
    const proxy = await startTcpProxy(server.port);
    const src = source(`opc.tcp://127.0.0.1:${proxy.port}`);
    try {
      const one = [to('BatchCount', 1, 'Int32')];
      assert.deepEqual(await src.write(one), [{ ok: false, reason: `not connected to opc.tcp://127.0.0.1:${proxy.port} (stopped)` }]);
      await connected(src);
      proxy.block(true);
      proxy.cut();
      await eventually(() => !src.health().connected, 15_000, 'the adapter to notice the loss');
      const writesBefore = server.requestCount('WriteRequest');
      const [r] = await src.write(one);
      assert.equal(r!.ok, false);
      assert.match(r!.reason!, /^not connected to opc\.tcp:\/\/127\.0\.0\.1:\d+ \((reconnecting|waiting|connecting)\)$/);
      assert.equal(server.requestCount('WriteRequest'), writesBefore, 'nothing sent');
      proxy.block(false);
      await eventually(() => src.health().connected, 20_000, 'the reconnect');
      assert.deepEqual(await src.write(one), [{ ok: true, readBack: 1 }]);
      await src.stop();
      assert.deepEqual(await src.write(one), [{ ok: false, reason: `not connected to opc.tcp://127.0.0.1:${proxy.port} (stopped)` }]);
    } finally {
      await src.stop();
      await proxy.close();
    }
  });

  it('a connection lost during a write, or a server that does not answer, ends in a refusal within the request timeout', async () => {
    const proxy = await startTcpProxy(server.port);
    const src = source(`opc.tcp://127.0.0.1:${proxy.port}`, { requestTimeoutMs: 1500 });
    try {
      await connected(src);
      // the server takes 4 s to answer this one: longer than the request timeout
      let started = Date.now();
      let [r] = await src.write([to('SlowSetpoint', 1, 'Double')]);
      assert.ok(Date.now() - started < 3500, `answered after ${Date.now() - started} ms`);
      assert.equal(r!.ok, false);
      assert.equal(r!.reason, 'the write did not complete (the server did not answer within 1500 ms); the values may or may not have been written');

      await eventually(() => src.health().connected, 20_000, 'a working session again');
      started = Date.now();
      const pending = src.write([to('SlowSetpoint', 2, 'Double')]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      proxy.block(true);
      proxy.cut();
      [r] = await pending;
      assert.ok(Date.now() - started < 3500, `answered after ${Date.now() - started} ms`);
      assert.equal(r!.ok, false);
      assert.match(r!.reason!, /^the write did not complete \(.+\); the values may or may not have been written$/);
    } finally {
      await src.stop();
      await proxy.close();
    }
  });
});
