import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UaType, dataValueToSignal, int64ToValue, qualityOf, variantToValue, type RawVariant } from '../../../agent/protocols/opcua/decode';

const scalar = (dataType: UaType, value: unknown): RawVariant => ({ dataType, arrayType: 0, value });
const array = (dataType: UaType, value: unknown): RawVariant => ({ dataType, arrayType: 1, value });

describe('opcua decode: quality from StatusCode', () => {
  const cases: Array<[string, number, 'good' | 'uncertain' | 'bad']> = [
    ['Good', 0x00000000, 'good'],
    ['GoodLocalOverride (info bits)', 0x00960000, 'good'],
    ['UncertainLastUsableValue', 0x40900000, 'uncertain'],
    ['UncertainSensorNotAccurate', 0x40930000, 'uncertain'],
    ['BadNodeIdUnknown', 0x80340000, 'bad'],
    ['BadCommunicationError', 0x80050000, 'bad'],
    ['reserved severity 11 counts as bad', 0xc0000000, 'bad'],
  ];
  for (const [name, code, want] of cases) {
    it(`${name} -> ${want}`, () => assert.equal(qualityOf(code), want));
  }
});

describe('opcua decode: 64-bit integers', () => {
  const cases: Array<[string, unknown, boolean, number | string | null]> = [
    ['small unsigned', [0, 42], false, 42],
    ['2^32', [1, 0], false, 4294967296],
    ['largest safe integer', [0x1fffff, 0xffffffff], false, Number.MAX_SAFE_INTEGER],
    ['2^53 + 1 as text', [0x200000, 1], false, '9007199254740993'],
    ['UInt64 max as text', [0xffffffff, 0xffffffff], false, '18446744073709551615'],
    ['Int64 -1', [0xffffffff, 0xffffffff], true, -1],
    ['Int64 min as text', [0x80000000, 0], true, '-9223372036854775808'],
    ['Int64 -2^40', [0xffffff00, 0], true, -(2 ** 40)],
    ['already a number', 7, true, 7],
    ['bigint beyond 2^53', 2n ** 60n, false, '1152921504606846976'],
    ['garbage', 'x', false, null],
  ];
  for (const [name, words, signed, want] of cases) {
    it(name, () => assert.equal(int64ToValue(words, signed), want));
  }
});

describe('opcua decode: variant values', () => {
  const guid = '72962B91-FA75-4AE6-8D28-B404DC7DAF63';
  const cases: Array<[string, RawVariant | null, unknown]> = [
    ['null variant', null, null],
    ['Null type', scalar(UaType.Null, null), null],
    ['Boolean', scalar(UaType.Boolean, true), true],
    ['Int16', scalar(UaType.Int16, -5), -5],
    ['UInt32', scalar(UaType.UInt32, 4000000000), 4000000000],
    ['Double', scalar(UaType.Double, 20.125), 20.125],
    ['Float rounded to single precision digits', scalar(UaType.Float, Math.fround(20.1)), 20.1],
    ['UInt64 small', scalar(UaType.UInt64, [0, 5]), 5],
    ['Int64 large', scalar(UaType.Int64, [0x7fffffff, 0xffffffff]), '9223372036854775807'],
    ['String', scalar(UaType.String, 'LOT-42'), 'LOT-42'],
    ['DateTime as ISO', scalar(UaType.DateTime, new Date('2026-03-01T06:00:00.000Z')), '2026-03-01T06:00:00.000Z'],
    ['ByteString as base64', scalar(UaType.ByteString, Buffer.from([1, 2, 255])), 'AQL/'],
    ['Guid', scalar(UaType.Guid, guid), guid],
    ['LocalizedText', scalar(UaType.LocalizedText, { locale: 'en', text: 'Running' }), 'Running'],
    ['QualifiedName with namespace', scalar(UaType.QualifiedName, { namespaceIndex: 2, name: 'Line1' }), '2:Line1'],
    ['StatusCode by name', scalar(UaType.StatusCode, { value: 0, name: 'Good' }), 'Good'],
    ['NodeId as text', scalar(UaType.NodeId, { toString: () => 'ns=2;s=X' }), 'ns=2;s=X'],
    ['structure as plain object', scalar(UaType.ExtensionObject, { toJSON: () => ({ a: 1, b: 'x' }) }), { a: 1, b: 'x' }],
    ['Double array (typed)', array(UaType.Double, new Float64Array([1.5, 2.5])), [1.5, 2.5]],
    ['Float array rounded', array(UaType.Float, new Float32Array([0.1, 0.2])), [0.1, 0.2]],
    ['String array', array(UaType.String, ['a', 'b']), ['a', 'b']],
    ['empty array', array(UaType.Int32, null), []],
    [
      'UInt64 array',
      array(UaType.UInt64, [
        [0, 1],
        [0x200000, 1],
      ]),
      [1, '9007199254740993'],
    ],
  ];
  for (const [name, variant, want] of cases) {
    it(name, () => assert.deepEqual(variantToValue(variant), want));
  }
});

describe('opcua decode: data value to signal', () => {
  const received = '2026-03-01T06:00:01.000Z';
  const meta = Object.freeze({ nodeId: 'ns=2;s=Counter' });
  it('uses the source timestamp and keeps the node id', () => {
    const s = dataValueToSignal(
      'plc',
      'counter',
      {
        value: scalar(UaType.UInt32, 12),
        statusCode: { value: 0, name: 'Good' },
        sourceTimestamp: new Date('2026-03-01T06:00:00.500Z'),
        serverTimestamp: new Date('2026-03-01T06:00:00.900Z'),
      },
      received,
      meta,
    );
    assert.deepEqual(s, {
      source: 'plc',
      tag: 'counter',
      value: 12,
      quality: 'good',
      sourceTime: '2026-03-01T06:00:00.500Z',
      receivedAt: '2026-03-01T06:00:01.000Z',
      meta: { nodeId: 'ns=2;s=Counter' },
    });
  });
  it('falls back to the server timestamp, then to the receive time', () => {
    const server = dataValueToSignal(
      'plc',
      't',
      { value: scalar(UaType.Double, 1), statusCode: { value: 0, name: 'Good' }, sourceTimestamp: null, serverTimestamp: new Date('2026-03-01T05:59:59.000Z') },
      received,
      meta,
    );
    assert.equal(server.sourceTime, '2026-03-01T05:59:59.000Z');
    const none = dataValueToSignal(
      'plc',
      't',
      { value: scalar(UaType.Double, 1), statusCode: { value: 0, name: 'Good' }, sourceTimestamp: null, serverTimestamp: null },
      received,
      meta,
    );
    assert.equal(none.sourceTime, received);
  });
  it('marks a bad status and names it', () => {
    const s = dataValueToSignal(
      'plc',
      't',
      { value: null, statusCode: { value: 0x80050000, name: 'BadCommunicationError' }, sourceTimestamp: null, serverTimestamp: null },
      received,
      meta,
    );
    assert.equal(s.quality, 'bad');
    assert.equal(s.value, null);
    assert.deepEqual(s.meta, { nodeId: 'ns=2;s=Counter', statusCode: 'BadCommunicationError' });
    assert.deepEqual(meta, { nodeId: 'ns=2;s=Counter' }, 'the shared meta is not changed');
  });
  it('formats repeated timestamps consistently', () => {
    const t1 = new Date('2026-03-01T06:00:00.250Z');
    const a = dataValueToSignal(
      'plc',
      'a',
      { value: scalar(UaType.Double, 1), statusCode: { value: 0, name: 'Good' }, sourceTimestamp: t1, serverTimestamp: null },
      received,
      meta,
    );
    const b = dataValueToSignal(
      'plc',
      'b',
      { value: scalar(UaType.Double, 1), statusCode: { value: 0, name: 'Good' }, sourceTimestamp: new Date(t1.getTime()), serverTimestamp: null },
      received,
      meta,
    );
    const c = dataValueToSignal(
      'plc',
      'c',
      { value: scalar(UaType.Double, 1), statusCode: { value: 0, name: 'Good' }, sourceTimestamp: new Date(t1.getTime() + 1), serverTimestamp: null },
      received,
      meta,
    );
    assert.equal(a.sourceTime, '2026-03-01T06:00:00.250Z');
    assert.equal(b.sourceTime, '2026-03-01T06:00:00.250Z');
    assert.equal(c.sourceTime, '2026-03-01T06:00:00.251Z');
  });
  it('turns NaN into null with quality bad', () => {
    const s = dataValueToSignal(
      'plc',
      't',
      { value: scalar(UaType.Double, Number.NaN), statusCode: { value: 0, name: 'Good' }, sourceTimestamp: null, serverTimestamp: null },
      received,
      meta,
    );
    assert.equal(s.value, null);
    assert.equal(s.quality, 'bad');
  });
});
