import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataType } from 'node-opcua';
import { WRITE_DATA_TYPES, builtInOf, sameValue, valueProblem, writeDataTypeOf, type WriteDataType } from '../../../agent/protocols/opcua/write-values';

describe('opcua write values: data types', () => {
  it("the built-in numbers are node-opcua's", () => {
    for (const t of WRITE_DATA_TYPES) assert.equal(builtInOf(t), DataType[t], t);
  });
  it('a built-in number back to its write type, null for those writes do not support', () => {
    assert.equal(writeDataTypeOf(DataType.Double), 'Double');
    assert.equal(writeDataTypeOf(DataType.Boolean), 'Boolean');
    for (const t of [DataType.Int64, DataType.DateTime, DataType.LocalizedText, DataType.Variant, DataType.Null, 99])
      assert.equal(writeDataTypeOf(t), null, String(t));
  });
});

describe('opcua write values: what fits', () => {
  const fits: Array<[WriteDataType, unknown]> = [
    ['String', ''],
    ['String', 'WH/MO/00042'],
    ['Boolean', false],
    ['Double', -1e308],
    ['Double', 0.1],
    ['Float', 3.4028234663852886e38],
    ['Float', 0.1],
    ['Int16', -32768],
    ['Int16', 32767],
    ['UInt16', 65535],
    ['Int32', -2147483648],
    ['UInt32', 4294967295],
  ];
  for (const [type, value] of fits) it(`${type} ${String(value)}`, () => assert.equal(valueProblem(type, value), null));
});

describe('opcua write values: refused with a reason, never converted', () => {
  const table: Array<[WriteDataType, unknown, string]> = [
    ['String', 42, 'String needs text, got number 42'],
    ['Boolean', 1, 'Boolean needs true or false, got number 1'],
    ['Boolean', 'true', 'Boolean needs true or false, got text "true"'],
    ['Double', '12.5', 'Double needs a number, got text "12.5"'],
    ['Double', NaN, 'NaN is not a finite number'],
    ['Float', Infinity, 'Infinity is not a finite number'],
    ['Float', 1e39, '1e+39 is beyond the Float range (±3.4028235e38)'],
    ['Int16', 32768, '32768 is outside the Int16 range -32768..32767'],
    ['UInt16', -1, '-1 is outside the UInt16 range 0..65535'],
    ['Int32', 2 ** 31, '2147483648 is outside the Int32 range -2147483648..2147483647'],
    ['UInt32', 2 ** 32, '4294967296 is outside the UInt32 range 0..4294967295'],
    ['Int32', 0.5, 'Int32 needs a whole number, got 0.5'],
    ['Int64' as WriteDataType, 1, 'data type Int64 cannot be written (String, Double, Float, Int16, Int32, UInt16, UInt32, Boolean)'],
  ];
  for (const [type, value, reason] of table) it(reason, () => assert.equal(valueProblem(type, value), reason));
});

describe('opcua write values: the read back shows the value written', () => {
  const table: Array<[WriteDataType, unknown, unknown, boolean]> = [
    ['Double', 0.1, 0.1, true],
    ['Double', 0.1, Math.fround(0.1), false],
    ['Float', 0.1, Math.fround(0.1), true],
    ['Float', 0.1, 0.1, false],
    ['Float', 0.1, Math.fround(0.2), false],
    ['String', 'A', 'A', true],
    ['String', 'A', 'A ', false],
    ['Int32', 5, 5, true],
    ['Int32', 5, 6, false],
    ['Boolean', true, true, true],
    ['Boolean', true, 1, false],
  ];
  for (const [type, written, back, same] of table) {
    it(`${type} ${String(written)} vs ${String(back)}`, () => assert.equal(sameValue(type, written, back), same));
  }
});
