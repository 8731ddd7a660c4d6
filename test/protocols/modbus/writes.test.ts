/**
 * Writes to holding registers (order release) against a real modbus-serial
 * ServerTCP: verified by reading back, refusals with the device's exception,
 * and polling that goes on undisturbed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModbusAdapter } from '../../../agent/protocols/modbus/adapter';
import type { WriteRequest } from '../../../agent/protocols/types';
import { FLOAT_EXAMPLE } from './fixtures';
import { outbox, tcpConfig as config } from './helpers';
import { ModbusPeer, waitFor } from './modbus-peer';

/** A unit with one slow poll group, so tests that only write have a source to write through. */
const quietUnit = (unitId: number, timeoutMs = 500) => ({
  unitId,
  timeoutMs,
  groups: [{ intervalMs: 60_000, registers: [{ tag: `u${unitId}.heartbeat`, area: 'holding', address: 0 }] }],
});

const hold = (unitId: number, address: number, type: Extract<WriteRequest, { kind: 'modbus' }>['type'], value: string | number, more = {}): WriteRequest => ({
  kind: 'modbus',
  unitId,
  address,
  type,
  value,
  ...more,
});

const words = (peer: ModbusPeer, unit: number, address: number, count: number) =>
  Array.from({ length: count }, (_, i) => peer.maps.get(`${unit}:holding:${address + i}`));

describe('modbus writes (modbus-serial ServerTCP on 127.0.0.1)', () => {
  const peer = new ModbusPeer();
  let port = 0;
  before(async () => {
    port = await peer.start();
  });
  after(async () => {
    await peer.stop();
  });

  it('writes every type in its word order, reads it back, and the registers hold the documented images', async () => {
    peer.set(1, 'holding', 0, [0]);
    peer.set(1, 'holding', 200, new Array(16).fill(0));
    const adapter = new ModbusAdapter(config(port, [quietUnit(1)]), outbox().ctx);
    try {
      await adapter.start();
      await waitFor(() => adapter.health().connected, 3000, 'the connection');
      const results = await adapter.write([
        hold(1, 200, 'int16', -2),
        hold(1, 201, 'uint16', 4660, { wordOrder: 'BADC' }),
        hold(1, 202, 'float32', 123.456, { wordOrder: 'DCBA' }),
        hold(1, 204, 'uint32', 4000000000, { wordOrder: 'CDAB' }),
        hold(1, 206, 'int32', -123456789),
        hold(1, 208, 'float64', Math.PI, { wordOrder: 'BADC' }),
        hold(1, 212, 'string', 'MO/42', { length: 4 }),
      ]);
      assert.deepEqual(results, [
        { ok: true, readBack: -2 },
        { ok: true, readBack: 4660 },
        { ok: true, readBack: 123.456 },
        { ok: true, readBack: 4000000000 },
        { ok: true, readBack: -123456789 },
        { ok: true, readBack: Math.PI },
        { ok: true, readBack: 'MO/42' },
      ]);
      // the same hand-written images the decoder is tested with
      assert.deepEqual(words(peer, 1, 200, 1), [0xfffe]);
      assert.deepEqual(words(peer, 1, 201, 1), [0x3412]);
      assert.deepEqual(words(peer, 1, 202, 2), FLOAT_EXAMPLE.DCBA);
      assert.deepEqual(words(peer, 1, 204, 2), [0x2800, 0xee6b]);
      assert.deepEqual(words(peer, 1, 206, 2), [0xf8a4, 0x32eb]);
      assert.deepEqual(words(peer, 1, 208, 4), [0x0940, 0xfb21, 0x4454, 0x182d]);
      assert.deepEqual(words(peer, 1, 212, 4), [0x4d4f, 0x2f34, 0x3200, 0x0000]);
      assert.ok(
        peer.writes.filter((w) => w.unit === 1).every((w) => w.fn === 16),
        'function 16 for every value',
      );
      assert.equal((adapter.health().details as { writes: number }).writes, 7);
    } finally {
      await adapter.stop();
    }
  });

  it("reports the device's refusal (exception) and refuses what cannot be encoded without sending it", async () => {
    peer.set(2, 'holding', 0, [0]);
    peer.set(2, 'holding', 10, [1, 2]);
    peer.readOnly.add('2:11');
    peer.set(7, 'holding', 0, [0]);
    const adapter = new ModbusAdapter(config(port, [quietUnit(2), quietUnit(7)]), outbox().ctx);
    try {
      await adapter.start();
      await waitFor(() => adapter.health().connected, 3000, 'the connection');
      const sent = peer.writes.length;
      const results = await adapter.write([
        hold(2, 500, 'uint16', 1), // no such register
        hold(2, 10, 'uint32', 70000), // its second register is read-only
        hold(2, 10, 'int16', 70000), // does not fit
        hold(2, 10, 'string', 'WH/MO/00042', { length: 2 }), // too long
        { kind: 'opcua', nodeId: 'ns=2;s=X', value: 1 },
        hold(2, 65535, 'float32', 1), // past the last address
        hold(2, 10, 'uint16', 9), // still written: one refusal does not stop the rest
      ]);
      assert.deepEqual(results, [
        { ok: false, reason: 'Illegal data address (exception 2)' },
        { ok: false, reason: 'Illegal data address (exception 2)' },
        { ok: false, reason: '70000 is outside the int16 range -32768..32767' },
        { ok: false, reason: '"WH/MO/00042" has 11 characters; 2 registers hold 4' },
        { ok: false, reason: 'this Modbus source writes only kind modbus values (got opcua)' },
        { ok: false, reason: 'holding 65535..65536 is not within 0..65535' },
        { ok: true, readBack: 9 },
      ]);
      assert.deepEqual(words(peer, 2, 10, 2), [9, 2], 'the refused uint32 left both registers as they were');
      assert.equal(peer.writes.length - sent, 3, 'values refused before sending cost no request');

      peer.failingUnits.set(7, 4);
      assert.deepEqual(await adapter.write([hold(7, 0, 'uint16', 1)]), [{ ok: false, reason: 'Server device failure (exception 4)' }]);
      const h = adapter.health();
      assert.equal(h.connected, true, 'a refusal is an answer: the connection stays');
      assert.equal((h.details as { writesRefused: number }).writesRefused, 7);
    } finally {
      peer.failingUnits.delete(7);
      await adapter.stop();
    }
  });

  it('a unit that knows only function 6 gets one-register values by function 6; wider values are refused', async () => {
    peer.set(3, 'holding', 0, [0, 0, 0]);
    peer.singleWriteUnits.add(3);
    const adapter = new ModbusAdapter(config(port, [quietUnit(3)]), outbox().ctx);
    try {
      await adapter.start();
      await waitFor(() => adapter.health().connected, 3000, 'the connection');
      const from = peer.writes.length;
      assert.deepEqual(await adapter.write([hold(3, 1, 'uint16', 42)]), [{ ok: true, readBack: 42 }]);
      assert.deepEqual(await adapter.write([hold(3, 2, 'int16', -1)]), [{ ok: true, readBack: -1 }]);
      assert.deepEqual(await adapter.write([hold(3, 1, 'float32', 1.5)]), [{ ok: false, reason: 'Illegal function (exception 1)' }]);
      assert.deepEqual(
        peer.writes.slice(from).map((w) => w.fn),
        [16, 6, 6, 16],
        'function 16 first; after its refusal, 6 for one register; never 6 for a two-register value',
      );
      assert.deepEqual(words(peer, 3, 0, 3), [0, 42, 0xffff]);
    } finally {
      peer.singleWriteUnits.delete(3);
      await adapter.stop();
    }
  });

  it('writes between polls: the poll goes on undisturbed and sees the written value', async () => {
    peer.set(4, 'holding', 0, [11, 12, 13, 14]);
    peer.set(4, 'holding', 50, [0]);
    const out = outbox();
    const adapter = new ModbusAdapter(
      config(port, [
        {
          unitId: 4,
          timeoutMs: 500,
          groups: [
            {
              intervalMs: 20,
              registers: [
                { tag: 'good', area: 'holding', address: 0, type: 'uint32' },
                { tag: 'scrap', area: 'holding', address: 2 },
                { tag: 'speed', area: 'holding', address: 3 },
                { tag: 'target', area: 'holding', address: 50 },
              ],
            },
          ],
        },
      ]),
      out.ctx,
    );
    const reads = () => (adapter.health().details as { reads: number }).reads;
    try {
      await adapter.start();
      await waitFor(() => out.accepted.some((s) => s.tag === 'target'), 3000, 'the first poll');
      const readsBefore = reads();
      // one after the other, and calls that overlap each other and the polls
      for (let v = 1; v <= 20; v++) assert.deepEqual(await adapter.write([hold(4, 50, 'uint16', v)]), [{ ok: true, readBack: v }]);
      const together = await Promise.all(Array.from({ length: 10 }, (_, i) => adapter.write([hold(4, 50, 'uint16', 100 + i)])));
      assert.deepEqual(
        together,
        Array.from({ length: 10 }, (_, i) => [{ ok: true, readBack: 100 + i }]),
        'each call is verified on its own, in the order given',
      );
      await waitFor(() => out.accepted.filter((s) => s.tag === 'target').at(-1)?.value === 109, 3000, 'the poll to see the last written value');
      const h = adapter.health().details as { errors: number; reads: number; writes: number; devices: Array<{ status: string }> };
      assert.equal(h.errors, 0, 'no failed poll');
      assert.ok(reads() > readsBefore, 'polling went on while writing');
      assert.equal(h.devices[0]!.status, 'ok');
      assert.equal(h.writes, 30);
      for (const s of out.accepted) assert.equal(s.quality, 'good', `${s.tag} ${String(s.value)}`);
      const other = out.accepted.filter((s) => s.tag !== 'target');
      assert.deepEqual(
        other.map((s) => [s.tag, s.value]),
        [
          ['good', (11 << 16) + 12],
          ['scrap', 13],
          ['speed', 14],
        ],
        'the other values read right, once (they did not change)',
      );
    } finally {
      await adapter.stop();
    }
  });

  it('refused while not connected, after stop, and when the connection drops or the unit is silent during a write (never hangs)', async () => {
    peer.set(5, 'holding', 0, [0, 0]);
    peer.set(8, 'holding', 0, [0]);
    const down = new ModbusPeer();
    const downPort = await down.start();
    await down.stop(); // nobody listens here now
    const offline = new ModbusAdapter(config(downPort, [quietUnit(5)]), outbox().ctx);
    try {
      await offline.start();
      assert.deepEqual(await offline.write([hold(5, 0, 'uint16', 1)]), [{ ok: false, reason: `not connected (tcp 127.0.0.1:${downPort})` }]);
    } finally {
      await offline.stop();
    }
    assert.deepEqual(await offline.write([hold(5, 0, 'uint16', 1)]), [{ ok: false, reason: 'the source is not running' }]);

    const adapter = new ModbusAdapter(config(port, [quietUnit(5, 300), quietUnit(8, 300)]), outbox().ctx);
    try {
      await adapter.start();
      await waitFor(() => adapter.health().connected, 3000, 'the connection');
      peer.writeDelayMs = 1500;
      const started = Date.now();
      const pending = adapter.write([hold(5, 0, 'uint16', 1), hold(5, 1, 'uint16', 2)]);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(peer.dropConnections(), 1);
      const results = await pending;
      assert.ok(Date.now() - started < 1000, `answered within ${Date.now() - started} ms, not after the device's delay`);
      assert.equal(results[0]!.ok, false);
      assert.match(results[0]!.reason!, /^connection lost during the write: connection (closed|error)/);
      assert.deepEqual(results[1], { ok: false, reason: 'connection lost before the write' });
      peer.writeDelayMs = 0;

      await waitFor(() => adapter.health().connected, 3000, 'the reconnect');
      peer.silentUnits.add(8);
      const t0 = Date.now();
      const silentResult = await adapter.write([hold(8, 0, 'uint16', 1)]);
      assert.deepEqual(silentResult, [{ ok: false, reason: 'no answer to the write within 300 ms; the registers may or may not hold the value' }]);
      assert.ok(Date.now() - t0 < 1300, 'within the unit timeout');
      peer.silentUnits.delete(8);
      assert.deepEqual(await adapter.write([hold(5, 1, 'uint16', 3)]), [{ ok: true, readBack: 3 }], 'the next write works');
    } finally {
      peer.writeDelayMs = 0;
      peer.silentUnits.clear();
      await adapter.stop();
    }
  });
});
