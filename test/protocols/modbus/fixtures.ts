/**
 * Register images of known values in every type and word order. The words are
 * written out by hand (not produced by code under test), so the decoder and
 * the adapter are checked against independent facts.
 */
import type { RegisterType, WordOrder } from '../../../agent/protocols/modbus/decode';

export interface WordFixture {
  name: string;
  type: RegisterType;
  wordOrder: WordOrder;
  words: number[];
  expected: number | string | boolean;
  bit?: number;
  length?: number;
}

/** float32 123.456 = 0x42F6E979: the worked example of docs/adapters/modbus.md. */
export const FLOAT_EXAMPLE: Record<WordOrder, number[]> = {
  ABCD: [0x42f6, 0xe979],
  CDAB: [0xe979, 0x42f6],
  BADC: [0xf642, 0x79e9],
  DCBA: [0x79e9, 0xf642],
};

export const WORD_FIXTURES: WordFixture[] = [
  ...(['ABCD', 'CDAB', 'BADC', 'DCBA'] as const).map((o) => ({
    name: `float32 123.456 ${o}`,
    type: 'float32' as const,
    wordOrder: o,
    words: FLOAT_EXAMPLE[o],
    expected: 123.456,
  })),
  { name: 'int16 -2 ABCD', type: 'int16', wordOrder: 'ABCD', words: [0xfffe], expected: -2 },
  { name: 'int16 -2 BADC', type: 'int16', wordOrder: 'BADC', words: [0xfeff], expected: -2 },
  { name: 'int16 -2 DCBA', type: 'int16', wordOrder: 'DCBA', words: [0xfeff], expected: -2 },
  { name: 'int16 -2 CDAB', type: 'int16', wordOrder: 'CDAB', words: [0xfffe], expected: -2 },
  { name: 'uint16 4660 ABCD', type: 'uint16', wordOrder: 'ABCD', words: [0x1234], expected: 4660 },
  { name: 'uint16 4660 BADC', type: 'uint16', wordOrder: 'BADC', words: [0x3412], expected: 4660 },
  { name: 'int32 -123456789 ABCD', type: 'int32', wordOrder: 'ABCD', words: [0xf8a4, 0x32eb], expected: -123456789 },
  { name: 'int32 -123456789 CDAB', type: 'int32', wordOrder: 'CDAB', words: [0x32eb, 0xf8a4], expected: -123456789 },
  { name: 'int32 -123456789 BADC', type: 'int32', wordOrder: 'BADC', words: [0xa4f8, 0xeb32], expected: -123456789 },
  { name: 'int32 -123456789 DCBA', type: 'int32', wordOrder: 'DCBA', words: [0xeb32, 0xa4f8], expected: -123456789 },
  { name: 'uint32 4000000000 ABCD', type: 'uint32', wordOrder: 'ABCD', words: [0xee6b, 0x2800], expected: 4000000000 },
  { name: 'uint32 4000000000 CDAB', type: 'uint32', wordOrder: 'CDAB', words: [0x2800, 0xee6b], expected: 4000000000 },
  { name: 'uint32 4000000000 BADC', type: 'uint32', wordOrder: 'BADC', words: [0x6bee, 0x0028], expected: 4000000000 },
  { name: 'uint32 4000000000 DCBA', type: 'uint32', wordOrder: 'DCBA', words: [0x0028, 0x6bee], expected: 4000000000 },
  { name: 'int64 -2 ABCD', type: 'int64', wordOrder: 'ABCD', words: [0xffff, 0xffff, 0xffff, 0xfffe], expected: -2 },
  { name: 'int64 -2 CDAB', type: 'int64', wordOrder: 'CDAB', words: [0xfffe, 0xffff, 0xffff, 0xffff], expected: -2 },
  { name: 'int64 -2 BADC', type: 'int64', wordOrder: 'BADC', words: [0xffff, 0xffff, 0xffff, 0xfeff], expected: -2 },
  { name: 'int64 -2 DCBA', type: 'int64', wordOrder: 'DCBA', words: [0xfeff, 0xffff, 0xffff, 0xffff], expected: -2 },
  // 0x0102030405060708 is beyond 2^53: delivered as an exact decimal string.
  { name: 'int64 big ABCD', type: 'int64', wordOrder: 'ABCD', words: [0x0102, 0x0304, 0x0506, 0x0708], expected: '72623859790382856' },
  { name: 'int64 big CDAB', type: 'int64', wordOrder: 'CDAB', words: [0x0708, 0x0506, 0x0304, 0x0102], expected: '72623859790382856' },
  { name: 'int64 big BADC', type: 'int64', wordOrder: 'BADC', words: [0x0201, 0x0403, 0x0605, 0x0807], expected: '72623859790382856' },
  { name: 'int64 big DCBA', type: 'int64', wordOrder: 'DCBA', words: [0x0807, 0x0605, 0x0403, 0x0201], expected: '72623859790382856' },
  { name: 'uint64 max ABCD', type: 'uint64', wordOrder: 'ABCD', words: [0xffff, 0xffff, 0xffff, 0xffff], expected: '18446744073709551615' },
  { name: 'uint64 1000 ABCD', type: 'uint64', wordOrder: 'ABCD', words: [0, 0, 0, 0x03e8], expected: 1000 },
  { name: 'uint64 1000 DCBA', type: 'uint64', wordOrder: 'DCBA', words: [0xe803, 0, 0, 0], expected: 1000 },
  { name: 'float64 pi ABCD', type: 'float64', wordOrder: 'ABCD', words: [0x4009, 0x21fb, 0x5444, 0x2d18], expected: 3.141592653589793 },
  { name: 'float64 pi CDAB', type: 'float64', wordOrder: 'CDAB', words: [0x2d18, 0x5444, 0x21fb, 0x4009], expected: 3.141592653589793 },
  { name: 'float64 pi BADC', type: 'float64', wordOrder: 'BADC', words: [0x0940, 0xfb21, 0x4454, 0x182d], expected: 3.141592653589793 },
  { name: 'float64 pi DCBA', type: 'float64', wordOrder: 'DCBA', words: [0x182d, 0x4454, 0xfb21, 0x0940], expected: 3.141592653589793 },
  { name: 'bool 0', type: 'bool', wordOrder: 'ABCD', words: [0], expected: false },
  { name: 'bool 7', type: 'bool', wordOrder: 'ABCD', words: [7], expected: true },
  { name: 'bit 0 of 0x0005', type: 'bit', wordOrder: 'ABCD', words: [0x0005], bit: 0, expected: true },
  { name: 'bit 1 of 0x0005', type: 'bit', wordOrder: 'ABCD', words: [0x0005], bit: 1, expected: false },
  { name: 'bit 15 of 0x8000', type: 'bit', wordOrder: 'ABCD', words: [0x8000], bit: 15, expected: true },
  { name: 'bit 0 of 0x0005 byte-swapped', type: 'bit', wordOrder: 'BADC', words: [0x0500], bit: 0, expected: true },
  { name: 'string ABCD', type: 'string', wordOrder: 'ABCD', words: [0x4142, 0x2d31, 0x3200], length: 3, expected: 'AB-12' },
  { name: 'string CDAB', type: 'string', wordOrder: 'CDAB', words: [0x4142, 0x2d31, 0x3200], length: 3, expected: 'AB-12' },
  { name: 'string BADC', type: 'string', wordOrder: 'BADC', words: [0x4241, 0x312d, 0x0032], length: 3, expected: 'AB-12' },
  { name: 'string padded with spaces', type: 'string', wordOrder: 'ABCD', words: [0x4c4f, 0x5420, 0x2020], length: 3, expected: 'LOT' },
];
