/**
 * Turning a value into holding registers for a write: the inverse of
 * decode.ts, with the same word orders (ABCD, CDAB, BADC, DCBA; see there).
 * Pure: no I/O, table-tested in test/protocols/modbus/encode.test.ts.
 *
 * A value that does not fit its type is refused with a reason, never
 * clamped or rounded: an order quantity of 70000 in an int16 register must
 * not reach the line as 4464.
 */
import { WORD_ORDERS, registerCount, type WordOrder } from './decode';

/** The register types a write may use (a bit or bool inside a register would need a read-modify-write). */
export const WRITE_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'string'] as const;
export type WriteType = (typeof WRITE_TYPES)[number];

/** Registers one write (function 16) may carry. */
export const MAX_WRITE_REGISTERS = 123;

export interface WriteSpec {
  type: WriteType;
  wordOrder: WordOrder;
  /** For `string`: registers to fill, two characters each. */
  length?: number;
}

export type Encoded = { ok: true; words: number[] } | { ok: false; reason: string };

/** Smallest and largest value of each integer type. */
const INTEGER_RANGE: Record<'int16' | 'uint16' | 'int32' | 'uint32', [number, number]> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Registers, in the given order as they go on the wire, from the value's
 * bytes most significant first (the ABCD form). Inverse of toBigEndianBytes.
 */
export function fromBigEndianBytes(bytes: Buffer, order: WordOrder): number[] {
  if (bytes.length % 2 !== 0) throw new RangeError(`an even number of bytes is needed, got ${bytes.length}`);
  const swap = order === 'BADC' || order === 'DCBA';
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) {
    const hi = bytes[i]!;
    const lo = bytes[i + 1]!;
    words.push(swap ? (lo << 8) | hi : (hi << 8) | lo);
  }
  return order === 'CDAB' || order === 'DCBA' ? words.reverse() : words;
}

/** The registers for one value, or why it cannot be written as that type. */
export function encodeRegisters(spec: WriteSpec, value: unknown): Encoded {
  const problem = checkSpec(spec);
  if (problem) return { ok: false, reason: problem };
  if (spec.type === 'string') return encodeString(value, spec.length!, spec.wordOrder);
  if (typeof value !== 'number') return { ok: false, reason: `${spec.type} needs a number, got ${describeValue(value)}` };
  const buf = Buffer.alloc(registerCount(spec.type) * 2);
  switch (spec.type) {
    case 'float32':
      if (!Number.isFinite(value)) return { ok: false, reason: `${value} is not a finite number` };
      if (Math.abs(value) > FLOAT32_MAX) return { ok: false, reason: `${value} is beyond the float32 range (±3.4028235e38)` };
      buf.writeFloatBE(value, 0);
      break;
    case 'float64':
      if (!Number.isFinite(value)) return { ok: false, reason: `${value} is not a finite number` };
      buf.writeDoubleBE(value, 0);
      break;
    default: {
      const [min, max] = INTEGER_RANGE[spec.type];
      if (!Number.isInteger(value)) return { ok: false, reason: `${spec.type} needs a whole number, got ${value}` };
      if (value < min || value > max) return { ok: false, reason: `${value} is outside the ${spec.type} range ${min}..${max}` };
      if (spec.type === 'int16') buf.writeInt16BE(value, 0);
      else if (spec.type === 'uint16') buf.writeUInt16BE(value, 0);
      else if (spec.type === 'int32') buf.writeInt32BE(value, 0);
      else buf.writeUInt32BE(value, 0);
    }
  }
  return { ok: true, words: fromBigEndianBytes(buf, spec.wordOrder) };
}

/** Registers a value of this spec takes. */
export function writeRegisterCount(spec: WriteSpec): number {
  return registerCount(spec.type, spec.length);
}

function checkSpec(spec: WriteSpec): string | null {
  if (!(WRITE_TYPES as readonly string[]).includes(spec.type)) return `type ${String(spec.type)} cannot be written (${WRITE_TYPES.join(', ')})`;
  if (!(WORD_ORDERS as readonly string[]).includes(spec.wordOrder)) return `word order ${String(spec.wordOrder)} is not one of ${WORD_ORDERS.join(', ')}`;
  if (spec.type === 'string') {
    const n = spec.length;
    if (n === undefined) return 'type string needs length (registers, two characters each)';
    if (!Number.isInteger(n) || n < 1 || n > MAX_WRITE_REGISTERS) return `length ${n} must be a whole number 1..${MAX_WRITE_REGISTERS}`;
  } else if (spec.length !== undefined) {
    return `length is only for type string (this value is ${spec.type})`;
  }
  return null;
}

/** Latin-1 text, two characters per register, padded with NUL (decode.ts strips them again). */
function encodeString(value: unknown, length: number, order: WordOrder): Encoded {
  if (typeof value !== 'string') return { ok: false, reason: `string needs text, got ${describeValue(value)}` };
  const room = length * 2;
  if (value.length > room) return { ok: false, reason: `"${value}" has ${value.length} characters; ${length} registers hold ${room}` };
  const wide = [...value].find((c) => c.charCodeAt(0) > 0xff);
  if (wide !== undefined) return { ok: false, reason: `"${wide}" is not a Latin-1 character (one byte each)` };
  const bytes = Buffer.alloc(room);
  bytes.write(value, 'latin1');
  // strings are never word-reversed: only the byte part of the order applies
  const byteOrder: WordOrder = order === 'BADC' || order === 'DCBA' ? 'BADC' : 'ABCD';
  return { ok: true, words: fromBigEndianBytes(bytes, byteOrder) };
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `text "${value}"`;
  return `${typeof value} ${String(value)}`;
}
