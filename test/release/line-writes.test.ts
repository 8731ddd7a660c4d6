/**
 * The release writes a work center's current order to its controller through
 * a real OPC UA server (node-opcua) and a real Modbus server (modbus-serial):
 * the values land and are read back; a value the PLC refuses is retried,
 * counted and kept, and the next order is written again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { ModbusAdapter } from '../../agent/protocols/modbus/adapter';
import { OpcuaSource } from '../../agent/protocols/opcua/adapter';
import type { SourceAdapter } from '../../agent/protocols/types';
import { lineWriteSchema } from '../../agent/release/config';
import { LineWrites, orderNumber } from '../../agent/release/line-writes';
import { tcpConfig, outbox } from '../protocols/modbus/helpers';
import { ModbusPeer } from '../protocols/modbus/modbus-peer';
import { startTestServer, type TestServer } from '../protocols/opcua/fixture';
import { CollectingContext, opcuaConfig, tempDir } from '../protocols/opcua/helpers';
import { until } from '../helpers/until';

const log = pino({ level: 'silent' });

describe('release writes to the lines (node-opcua server, modbus-serial server)', () => {
  const tmp = tempDir('release-writes');
  let server: TestServer;
  const peer = new ModbusPeer();
  const adapters: SourceAdapter[] = [];

  before(async () => {
    server = await startTestServer({ pkiDir: join(tmp.dir, 'server-pki'), tickMs: 0 });
    const opc = new OpcuaSource(
      opcuaConfig({
        name: 'line1-plc',
        securityMode: 'None',
        securityPolicy: 'None',
        endpointUrl: server.endpointUrl,
        reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
        subscriptions: [{ publishingIntervalMs: 500, items: [{ tag: 'counter', nodeId: server.nodeIds.counter }] }],
      }),
      new CollectingContext(join(tmp.dir, 'state')),
    );
    const port = await peer.start();
    peer.set(1, 'holding', 0, new Array(32).fill(0));
    const mb = new ModbusAdapter(
      tcpConfig(port, [{ unitId: 1, groups: [{ intervalMs: 60_000, registers: [{ tag: 'heartbeat', area: 'holding', address: 0 }] }] }], { name: 'line2-plc' }),
      outbox().ctx,
    );
    adapters.push(opc, mb);
    await opc.start();
    await mb.start();
    await until(() => opc.health().connected && mb.health().connected, 'both sources connected', 15_000);
  });
  after(async () => {
    for (const a of adapters) await a.stop();
    await server?.stop();
    await peer.stop();
    tmp.remove();
  });

  it('writes order, quantity and product to an OPC UA node set and Modbus registers, verified by reading back', async () => {
    const refused: string[] = [];
    const writes = new LineWrites(
      [
        lineWriteSchema.parse({
          workcenter: 'Assembly Line 1',
          source: 'line1-plc',
          order: { nodeId: server.nodeIds.release('OrderNumber'), dataType: 'String' },
          quantity: { nodeId: server.nodeIds.release('TargetQuantity') },
        }),
        lineWriteSchema.parse({
          workcenter: 'CNC Machining',
          source: 'line2-plc',
          order: { unitId: 1, address: 10, type: 'uint32', wordOrder: 'CDAB' },
          quantity: { unitId: 1, address: 12, type: 'float32' },
          product: { unitId: 1, address: 14, type: 'string', length: 5 },
        }),
      ],
      () => adapters,
      log,
      (wc, detail) => refused.push(`${wc}: ${detail}`),
    );
    writes.set('Assembly Line 1', { order: 'WH/MO/00042', quantity: 12.5, product: 'FG-100' });
    writes.set('CNC Machining', { order: 'WH/MO/00042', quantity: 12.5, product: 'FG-100' });
    await writes.settled();
    assert.deepEqual(refused, []);
    assert.equal(server.valueOf('OrderNumber'), 'WH/MO/00042');
    assert.equal(server.valueOf('TargetQuantity'), 12.5);
    assert.deepEqual([peer.maps.get('1:holding:10'), peer.maps.get('1:holding:11')], [42, 0], 'order number 42, word-swapped');
    assert.deepEqual([peer.maps.get('1:holding:12'), peer.maps.get('1:holding:13')], [0x4148, 0x0000], '12.5 as float32');
    assert.equal(peer.maps.get('1:holding:14'), 0x4647, '"FG"');
    const status = writes.status();
    assert.deepEqual(
      status.map((s) => [s.workcenter, s.ok, s.writes, s.failures]),
      [
        ['Assembly Line 1', true, 1, 0],
        ['CNC Machining', true, 1, 0],
      ],
    );
    // An empty queue clears the line.
    writes.set('Assembly Line 1', null);
    await writes.settled();
    assert.equal(server.valueOf('OrderNumber'), '');
  });

  it('a write the PLC refuses is tried again, then counted with its reason; the next order is written', async () => {
    const refused: string[] = [];
    const writes = new LineWrites(
      [lineWriteSchema.parse({ workcenter: 'Test Bench', source: 'line2-plc', order: { unitId: 1, address: 20, type: 'uint16' }, attempts: 2 })],
      () => adapters,
      log,
      (wc, detail) => refused.push(`${wc}: ${detail}`),
    );
    peer.readOnly.add('1:20');
    const before = peer.writes.filter((w) => w.address === 20).length;
    writes.set('Test Bench', { order: 'WH/MO/00007', quantity: 1, product: 'X' });
    await writes.settled();
    assert.equal(peer.writes.filter((w) => w.address === 20).length - before, 2, 'two attempts');
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, /^Test Bench: unit 1 register 20: /);
    const [s] = writes.status();
    assert.deepEqual([s!.ok, s!.failures], [false, 1]);
    assert.ok(s!.lastError);
    peer.readOnly.delete('1:20');
    writes.set('Test Bench', { order: 'WH/MO/00008', quantity: 1, product: 'X' });
    await writes.settled();
    assert.equal(peer.maps.get('1:holding:20'), 8);
    assert.equal(writes.status()[0]!.ok, true);
  });

  it('takes the last digits of an order name as its number', () => {
    assert.equal(orderNumber('WH/MO/00042'), 42);
    assert.equal(orderNumber('WH/MO/00042-002'), 2);
    assert.equal(orderNumber('no digits'), 0);
  });
});
