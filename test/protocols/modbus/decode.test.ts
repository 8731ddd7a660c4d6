import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyScale,
  decodeRaw,
  decodeRegisters,
  registerCount,
  shortestFloat32,
  shouldEmit,
  toBigEndianBytes,
  type ValueSpec,
} from '../../../agent/protocols/modbus/decode';
import { FLOAT_EXAMPLE, WORD_FIXTURES } from './fixtures';

const spec = (over: Partial<ValueSpec>): ValueSpec => ({ type: 'uint16', wordOrder: 'ABCD', scale: 1, offset: 0, ...over });

describe('modbus decode: the worked example float32 123.456 = 0x42F6E979', () => {
  it('0x42F6E979 is the float32 nearest 123.456', () => {
    assert.equal(Buffer.from('42F6E979', 'hex').readFloatBE(0), Math.fround(123.456));
  });
  for (const [order, words] of Object.entries(FLOAT_EXAMPLE)) {
    it(`${order}: registers ${words.map((w) => w.toString(16).toUpperCase()).join(' ')} give the bytes 42 F6 E9 79`, () => {
      assert.equal(toBigEndianBytes(words, order as ValueSpec['wordOrder']).toString('hex'), '42f6e979');
    });
  }
});

describe('modbus decode: the ABCD registers of 123.456 read in a wrong order (as in the docs)', () => {
  const table: Array<[ValueSpec['wordOrder'], string]> = [
    ['CDAB', '-1.88e+25'],
    ['BADC', '-9.86e+32'],
    ['DCBA', '1.52e+35'],
  ];
  for (const [order, shown] of table) {
    it(order, () => {
      const v = decodeRegisters(spec({ type: 'float32', wordOrder: order }), FLOAT_EXAMPLE.ABCD).value as number;
      assert.equal(v.toPrecision(3), shown);
    });
  }
});

describe('modbus decode: every type in every word order', () => {
  for (const f of WORD_FIXTURES) {
    it(f.name, () => {
      const s = spec({ type: f.type, wordOrder: f.wordOrder, bit: f.bit, length: f.length });
      assert.deepEqual(decodeRegisters(s, f.words), { value: f.expected, quality: 'good' });
    });
  }
});

describe('modbus decode: details', () => {
  it('register counts per type', () => {
    const table: Array<[ValueSpec['type'], number | undefined, number]> = [
      ['int16', undefined, 1],
      ['uint16', undefined, 1],
      ['bool', undefined, 1],
      ['bit', undefined, 1],
      ['int32', undefined, 2],
      ['uint32', undefined, 2],
      ['float32', undefined, 2],
      ['int64', undefined, 4],
      ['uint64', undefined, 4],
      ['float64', undefined, 4],
      ['string', 7, 7],
    ];
    for (const [type, length, count] of table) assert.equal(registerCount(type, length), count, type);
  });

  it('64-bit integers come back as bigint before scaling', () => {
    assert.equal(decodeRaw(spec({ type: 'int64' }), [0xffff, 0xffff, 0xffff, 0xfffe]), -2n);
  });

  it('rejects a wrong number of registers', () => {
    assert.throws(() => decodeRaw(spec({ type: 'float32' }), [1]), /float32 needs 2 registers, got 1/);
  });

  it('scale and offset', () => {
    const table: Array<[Partial<ValueSpec>, number[], number]> = [
      [{ type: 'uint16', scale: 0.1 }, [1234], 123.4],
      [{ type: 'uint16', scale: 0.1 }, [3], 0.3],
      [{ type: 'int16', scale: 0.5, offset: 10 }, [0xfffe], 9],
      [{ type: 'int32', scale: 0.01, offset: -273.15 }, [0, 27315], 0],
      [{ type: 'int32', scale: 0.01, offset: -273.15 }, [0, 29315], 20],
      [{ type: 'float32', scale: 2 }, FLOAT_EXAMPLE.ABCD, 246.912],
      [{ type: 'uint64', scale: 0.001 }, [0, 0, 0, 0x03e8], 1],
    ];
    for (const [over, words, expected] of table) {
      assert.deepEqual(decodeRegisters(spec(over), words), { value: expected, quality: 'good' }, JSON.stringify(over));
    }
  });

  it('exact integers pass through unscaled; huge ones as decimal strings', () => {
    assert.equal(applyScale(5, 1, 0), 5);
    assert.equal(applyScale(2n ** 53n - 1n, 1, 0), 9007199254740991);
    assert.equal(applyScale(2n ** 53n + 1n, 1, 0), '9007199254740993');
  });

  it('NaN and infinity in a float register are bad quality, not numbers', () => {
    assert.deepEqual(decodeRegisters(spec({ type: 'float32' }), [0x7fc0, 0]), { value: null, quality: 'bad', reason: 'not a number (NaN)' });
    assert.deepEqual(decodeRegisters(spec({ type: 'float32' }), [0x7f80, 0]), { value: null, quality: 'bad', reason: 'infinite' });
  });

  it('float32 values read as their shortest decimal', () => {
    const table: Array<[number, number]> = [
      [Math.fround(123.456), 123.456],
      [Math.fround(0.1), 0.1],
      [Math.fround(-1.5), -1.5],
      [Math.fround(16777217), 16777216],
      [0, 0],
    ];
    for (const [input, expected] of table) assert.equal(shortestFloat32(input), expected, String(input));
  });
});

describe('modbus decode: when a reading becomes a signal', () => {
  const table: Array<[string, { value: unknown; quality: string } | undefined, { value: unknown; quality: string }, number | undefined, boolean]> = [
    ['first reading', undefined, { value: 1, quality: 'good' }, undefined, true],
    ['same number', { value: 1, quality: 'good' }, { value: 1, quality: 'good' }, undefined, false],
    ['changed number', { value: 1, quality: 'good' }, { value: 2, quality: 'good' }, undefined, true],
    ['inside deadband', { value: 10, quality: 'good' }, { value: 10.5, quality: 'good' }, 0.5, false],
    ['past deadband', { value: 10, quality: 'good' }, { value: 10.6, quality: 'good' }, 0.5, true],
    ['past deadband downwards', { value: 10, quality: 'good' }, { value: 9.4, quality: 'good' }, 0.5, true],
    ['quality changed, same value', { value: null, quality: 'bad' }, { value: null, quality: 'good' }, undefined, true],
    ['still bad', { value: null, quality: 'bad' }, { value: null, quality: 'bad' }, undefined, false],
    ['string changed', { value: 'A', quality: 'good' }, { value: 'B', quality: 'good' }, undefined, true],
    ['bool unchanged', { value: true, quality: 'good' }, { value: true, quality: 'good' }, undefined, false],
  ];
  for (const [name, last, next, deadband, expected] of table) {
    it(name, () => assert.equal(shouldEmit(last, next, deadband), expected));
  }
});
