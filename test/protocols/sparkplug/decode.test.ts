import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { arrayValue, metricValue, readPayload, Refusal, signed64, unsigned64 } from '../../../agent/protocols/sparkplug/decode';
import { DataType } from '../../../agent/protocols/sparkplug/schema';
import { parseTopic } from '../../../agent/protocols/sparkplug/topic';
import { sparkplugSourceSchema } from '../../../agent/protocols/sparkplug/config';
import { encode } from './edge-node';

describe('Sparkplug B decoding (pure)', () => {
  const sixtyFour: Array<[string, { low: number; high: number }, number | string, number | string]> = [
    ['zero', { low: 0, high: 0 }, 0, 0],
    ['2^53 - 1', { low: 0xffffffff, high: 0x1fffff }, 9007199254740991, 9007199254740991],
    ['2^53', { low: 0, high: 0x200000 }, '9007199254740992', '9007199254740992'],
    ['all ones', { low: 0xffffffff, high: 0xffffffff }, '18446744073709551615', -1],
    ['-2^53', { low: 0, high: -0x200000 }, '18437736874454810624', -9007199254740992],
    ['-2^53 - 1', { low: 0xffffffff, high: -0x200001 }, '18437736874454810623', '-9007199254740993'],
  ];
  for (const [name, bits, u, s] of sixtyFour) {
    test(`64-bit ${name}: unsigned ${u}, signed ${s}`, () => {
      assert.equal(unsigned64(bits), u);
      assert.equal(signed64(bits), s);
    });
  }

  test('Int8 / Int16 / UInt16 from Tahu (sign-extended in int_value) come back signed or unsigned as declared', () => {
    const r = readPayload(
      encode({
        timestamp: 1,
        metrics: [
          { name: 'a', type: 'Int8', value: -128 },
          { name: 'b', type: 'Int16', value: -2 },
          { name: 'c', type: 'UInt16', value: 65535 },
          { name: 'd', type: 'Int32', value: -2147483648 },
          { name: 'e', type: 'DateTime', value: Date.UTC(2026, 1, 2) },
          { name: 'f', type: 'Bytes', value: new Uint8Array([1, 2, 255]) },
          { name: 'g', type: 'String', value: null },
        ],
      }),
    );
    assert.ok(r.ok);
    const values = r.payload.metrics.map((m) => metricValue(m, m.datatype));
    assert.deepEqual(values, [-128, -2, 65535, -2147483648, '2026-02-02T00:00:00.000Z', 'AQL/', null]);
  });

  test('arrays (Sparkplug 3.0, little-endian in bytes_value)', () => {
    const b = Buffer.alloc(8);
    b.writeInt16LE(-5, 0);
    b.writeInt16LE(300, 2);
    b.writeFloatLE(1.5, 4);
    assert.deepEqual(arrayValue(b.subarray(0, 4), DataType.Int16Array), [-5, 300]);
    assert.deepEqual(arrayValue(b.subarray(4), DataType.FloatArray), [1.5]);
    assert.deepEqual(arrayValue(Buffer.from('ab\0c\0'), DataType.StringArray), ['ab', 'c']);
    assert.ok(arrayValue(Buffer.alloc(3), DataType.Int16Array) instanceof Refusal);
  });

  test("BooleanArray: a count, then the bits first-high; the specification's own example", () => {
    // Sparkplug 3.0, "Sparkplug Array Types": [F, F, T, T, F, T, F, F, T, T, F, T] -> 0C 00 00 00 34 D0.
    const spec = [false, false, true, true, false, true, false, false, true, true, false, true];
    assert.deepEqual(arrayValue(Buffer.from([0x0c, 0, 0, 0, 0x34, 0xd0]), DataType.BooleanArray), spec);
    // The padding bits of the last byte are "do not care".
    assert.deepEqual(arrayValue(Buffer.from([0x0c, 0, 0, 0, 0x34, 0xdf]), DataType.BooleanArray), spec);
    assert.deepEqual(arrayValue(Buffer.from([0, 0, 0, 0]), DataType.BooleanArray), []);
    assert.deepEqual(arrayValue(Buffer.from([8, 0, 0, 0, 0x81]), DataType.BooleanArray), [true, false, false, false, false, false, false, true]);
    assert.match((arrayValue(Buffer.from([1, 0, 0]), DataType.BooleanArray) as Refusal).reason, /no 4-byte count/);
    assert.match((arrayValue(Buffer.from([0x0c, 0, 0, 0, 0x34]), DataType.BooleanArray) as Refusal).reason, /12 values needs 2 bytes after its count, not 1/);
    // A count far beyond the bytes is refused, not allocated.
    assert.match((arrayValue(Buffer.from([0xff, 0xff, 0xff, 0xff, 0]), DataType.BooleanArray) as Refusal).reason, /needs 536870912 bytes/);
  });

  test('topics: node and device messages, and why others are not Sparkplug B', () => {
    assert.deepEqual(parseTopic('spBv1.0/G/NDATA/n1'), { group: 'G', type: 'NDATA', node: 'n1' });
    assert.deepEqual(parseTopic('spBv1.0/G/DDATA/n1/d1'), { group: 'G', type: 'DDATA', node: 'n1', device: 'd1' });
    assert.match((parseTopic('spBv1.0/G/NDATA/n1/d1') as { problem: string }).problem, /edge node message/);
    assert.match((parseTopic('spBv1.0/G/DDATA/n1') as { problem: string }).problem, /device message/);
    assert.match((parseTopic('spBv1.0/G/XDATA/n1') as { problem: string }).problem, /unknown Sparkplug B message type/);
    assert.match((parseTopic('spAv1.0/G/NDATA/n1') as { problem: string }).problem, /does not start with spBv1.0/);
  });

  test('config: defaults, and a group id with a wildcard is refused', () => {
    const c = sparkplugSourceSchema.parse({ type: 'sparkplug', name: 'uns', url: 'mqtt://127.0.0.1:1883' });
    assert.deepEqual(
      [c.groups, c.qos, c.requestRebirth, c.rebirthIntervalS, c.primaryHostId, c.clean, c.maxInflight],
      [[], 1, true, 5, undefined, false, 1000],
    );
    const bad = sparkplugSourceSchema.safeParse({ type: 'sparkplug', name: 'uns', url: 'mqtt://127.0.0.1:1883', groups: ['Plant/1'] });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error!.issues), /group id may not hold/);
  });
});
