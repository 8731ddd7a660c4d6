import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WORD_ORDERS, decodeRaw, shortestFloat32, toBigEndianBytes } from '../../../agent/protocols/modbus/decode';
import { WRITE_TYPES, encodeRegisters, fromBigEndianBytes, type WriteSpec, type WriteType } from '../../../agent/protocols/modbus/encode';
import { FLOAT_EXAMPLE, WORD_FIXTURES } from './fixtures';

const encode = (spec: WriteSpec, value: unknown): number[] => {
  const r = encodeRegisters(spec, value);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.words;
};

describe('modbus encode: the worked example float32 123.456 = 0x42F6E979', () => {
  for (const order of WORD_ORDERS) {
    it(`${order}: 123.456 gives the registers of the docs`, () => {
      assert.deepEqual(encode({ type: 'float32', wordOrder: order }, 123.456), FLOAT_EXAMPLE[order]);
    });
  }
});

describe('modbus encode: the hand-written register images of the decode tests', () => {
  // a string padded with spaces reads back trimmed; writes pad with NUL
  const writable = WORD_FIXTURES.filter((f) => (WRITE_TYPES as readonly string[]).includes(f.type) && !f.name.includes('padded with spaces'));
  it('covers every write type', () => {
    assert.deepEqual([...new Set(writable.map((f) => f.type))].sort(), ['float32', 'float64', 'int16', 'int32', 'string', 'uint16', 'uint32']);
  });
  for (const f of writable) {
    it(f.name, () => {
      assert.deepEqual(encode({ type: f.type as WriteType, wordOrder: f.wordOrder, length: f.length }, f.expected), f.words);
    });
  }
});

describe('modbus encode: fromBigEndianBytes undoes toBigEndianBytes', () => {
  const words = [0x0102, 0x0304, 0x0506, 0x0708];
  for (const order of WORD_ORDERS) {
    it(order, () => {
      assert.deepEqual(fromBigEndianBytes(toBigEndianBytes(words, order), order), words);
      assert.deepEqual(toBigEndianBytes(fromBigEndianBytes(Buffer.from('0102030405060708', 'hex'), order), order).toString('hex'), '0102030405060708');
    });
  }
});

describe('modbus encode: every type in every word order reads back as written', () => {
  const values: Record<WriteType, unknown[]> = {
    int16: [0, 1, -1, 32767, -32768, 1234, -4321],
    uint16: [0, 1, 65535, 4660, 0x8000],
    int32: [0, -1, 2147483647, -2147483648, 123456789, -123456789, 70000],
    uint32: [0, 1, 4294967295, 4000000000, 65536],
    float32: [0, -0, 1.5, -2.25, 123.456, 0.1, 3.4028234663852886e38, -1e-30, 16777217],
    float64: [0, Math.PI, -1e308, 5e-324, 0.1 + 0.2, 123456789.123],
    string: ['', 'A', 'AB-12', 'WH/MO/00042', 'Müller'],
  };
  for (const type of WRITE_TYPES) {
    for (const order of WORD_ORDERS) {
      it(`${type} ${order}`, () => {
        for (const value of values[type]) {
          const length = type === 'string' ? 6 : undefined;
          const words = encode({ type, wordOrder: order, length }, value);
          assert.ok(
            words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff),
            `${String(value)}: 16-bit registers`,
          );
          const back = decodeRaw({ type, wordOrder: order, length }, words);
          const expected = type === 'float32' ? shortestFloat32(Math.fround(value as number)) : value;
          if (type === 'float32') assert.equal(shortestFloat32(back as number), expected, `${String(value)}`);
          else assert.equal(back, expected, `${String(value)}`);
        }
      });
    }
  }
});

describe('modbus encode: strings', () => {
  it('pad with NUL, two characters per register, high byte first', () => {
    assert.deepEqual(encode({ type: 'string', wordOrder: 'ABCD', length: 3 }, 'AB-'), [0x4142, 0x2d00, 0x0000]);
  });
  it('BADC and DCBA swap the bytes but never the registers', () => {
    assert.deepEqual(encode({ type: 'string', wordOrder: 'DCBA', length: 2 }, 'ABC'), [0x4241, 0x0043]);
    assert.deepEqual(encode({ type: 'string', wordOrder: 'CDAB', length: 2 }, 'ABC'), [0x4142, 0x4300]);
  });
});

describe('modbus encode: refused with a reason, never clamped', () => {
  const table: Array<[string, WriteSpec, unknown, RegExp]> = [
    ['int16 too big', { type: 'int16', wordOrder: 'ABCD' }, 32768, /32768 is outside the int16 range -32768\.\.32767/],
    ['int16 too small', { type: 'int16', wordOrder: 'ABCD' }, -32769, /outside the int16 range/],
    ['int16 fraction', { type: 'int16', wordOrder: 'ABCD' }, 1.5, /int16 needs a whole number, got 1\.5/],
    ['uint16 negative', { type: 'uint16', wordOrder: 'ABCD' }, -1, /outside the uint16 range 0\.\.65535/],
    ['uint16 too big', { type: 'uint16', wordOrder: 'BADC' }, 65536, /outside the uint16 range/],
    ['int32 too big', { type: 'int32', wordOrder: 'CDAB' }, 2 ** 31, /outside the int32 range/],
    ['int32 too small', { type: 'int32', wordOrder: 'CDAB' }, -(2 ** 31) - 1, /outside the int32 range/],
    ['uint32 too big', { type: 'uint32', wordOrder: 'DCBA' }, 2 ** 32, /outside the uint32 range/],
    ['uint32 negative', { type: 'uint32', wordOrder: 'ABCD' }, -1, /outside the uint32 range/],
    ['int32 NaN', { type: 'int32', wordOrder: 'ABCD' }, NaN, /whole number, got NaN/],
    ['float32 too big', { type: 'float32', wordOrder: 'ABCD' }, 1e39, /beyond the float32 range/],
    ['float32 infinite', { type: 'float32', wordOrder: 'ABCD' }, Infinity, /not a finite number/],
    ['float32 NaN', { type: 'float32', wordOrder: 'ABCD' }, NaN, /not a finite number/],
    ['float64 infinite', { type: 'float64', wordOrder: 'ABCD' }, -Infinity, /not a finite number/],
    ['number given as text', { type: 'float32', wordOrder: 'ABCD' }, '12.5', /float32 needs a number, got text "12\.5"/],
    ['boolean for a number', { type: 'uint16', wordOrder: 'ABCD' }, true, /uint16 needs a number, got boolean true/],
    ['text too long', { type: 'string', wordOrder: 'ABCD', length: 2 }, 'ABCDE', /"ABCDE" has 5 characters; 2 registers hold 4/],
    ['text not Latin-1', { type: 'string', wordOrder: 'ABCD', length: 4 }, 'Lot €5', /"€" is not a Latin-1 character/],
    ['number for text', { type: 'string', wordOrder: 'ABCD', length: 4 }, 42, /string needs text, got number 42/],
    ['string without length', { type: 'string', wordOrder: 'ABCD' }, 'A', /type string needs length/],
    ['string length 0', { type: 'string', wordOrder: 'ABCD', length: 0 }, '', /length 0 must be a whole number 1\.\.123/],
    ['string longer than one write', { type: 'string', wordOrder: 'ABCD', length: 124 }, 'A', /1\.\.123/],
    ['length on a number', { type: 'int16', wordOrder: 'ABCD', length: 2 }, 1, /length is only for type string/],
    ['a type that reads but is not written', { type: 'bit' as WriteType, wordOrder: 'ABCD' }, 1, /type bit cannot be written/],
    ['unknown word order', { type: 'int32', wordOrder: 'BACD' as WriteSpec['wordOrder'] }, 1, /word order BACD is not one of ABCD, CDAB, BADC, DCBA/],
  ];
  for (const [name, spec, value, reason] of table) {
    it(name, () => {
      const r = encodeRegisters(spec, value);
      assert.equal(r.ok, false);
      assert.match((r as { reason: string }).reason, reason);
    });
  }
});
