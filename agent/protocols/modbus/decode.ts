/**
 * Turning Modbus registers into values. Pure: no I/O, table-tested in
 * test/protocols/modbus/decode.test.ts.
 *
 * A Modbus register is 16 bits and always travels high byte first. A value
 * wider than one register (32 or 64 bits) is spread over several registers,
 * and devices disagree on the order. We name the order by where the bytes of
 * the value end up, writing the value's bytes most significant first as
 * A B C D (for 64-bit values A..H):
 *
 *   ABCD  big-endian words, big-endian bytes. The Modbus standard order:
 *         the first register holds the most significant word, high byte first.
 *   CDAB  word-swapped: the first register holds the LEAST significant word;
 *         bytes inside each register are still high byte first.
 *   BADC  byte-swapped inside each register; words in standard order.
 *   DCBA  fully little-endian: words reversed and bytes swapped.
 *
 * Worked example, float32 123.456 = 0x42F6E979 (A=42 B=F6 C=E9 D=79):
 *   ABCD  registers [0x42F6, 0xE979]
 *   CDAB  registers [0xE979, 0x42F6]
 *   BADC  registers [0xF642, 0x79E9]
 *   DCBA  registers [0x79E9, 0xF642]
 * For 64-bit values the same rule applies to all four registers: CDAB reverses
 * the order of the four words (GH EF CD AB), BADC swaps the bytes in each
 * word (BA DC FE HG), DCBA does both (HG FE DC BA).
 *
 * 16-bit types (int16, uint16, bit) use only the byte part of the order:
 * BADC and DCBA swap the two bytes of the register. Strings likewise: with
 * ABCD or CDAB the first character is the high byte of the first register,
 * with BADC or DCBA it is the low byte; strings are never word-reversed.
 */

export const REGISTER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'bool', 'bit', 'string'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

export const WORD_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

/** What decoding needs to know about one configured value. */
export interface ValueSpec {
  type: RegisterType;
  wordOrder: WordOrder;
  /** Bit number for type bit (0 = least significant). */
  bit?: number;
  /** Registers for type string. */
  length?: number;
  scale: number;
  offset: number;
}

/** A decoded value ready for a signal: `quality: 'bad'` with a reason when the registers hold no usable number. */
export interface DecodedValue {
  value: number | boolean | string | null;
  quality: 'good' | 'bad';
  reason?: string;
}

/** How many registers (or bits, for coils and discrete inputs) a value occupies. */
export function registerCount(type: RegisterType, length?: number): number {
  switch (type) {
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 4;
    case 'string':
      return length ?? 1;
    default:
      return 1;
  }
}

function wordsReversed(order: WordOrder): boolean {
  return order === 'CDAB' || order === 'DCBA';
}

function bytesSwapped(order: WordOrder): boolean {
  return order === 'BADC' || order === 'DCBA';
}

/**
 * The value's bytes, most significant first (the ABCD form), from the
 * registers as they came off the wire in the given order.
 */
export function toBigEndianBytes(words: readonly number[], order: WordOrder): Buffer {
  const ordered = wordsReversed(order) ? [...words].reverse() : words;
  const out = Buffer.alloc(ordered.length * 2);
  ordered.forEach((w, i) => {
    const hi = (w >> 8) & 0xff;
    const lo = w & 0xff;
    if (bytesSwapped(order)) {
      out[2 * i] = lo;
      out[2 * i + 1] = hi;
    } else {
      out[2 * i] = hi;
      out[2 * i + 1] = lo;
    }
  });
  return out;
}

/** The raw value before scale and offset: bigint for 64-bit integers. Throws on a wrong register count. */
export function decodeRaw(spec: Pick<ValueSpec, 'type' | 'wordOrder' | 'bit' | 'length'>, words: readonly number[]): number | bigint | boolean | string {
  const need = registerCount(spec.type, spec.length);
  if (words.length !== need) throw new RangeError(`${spec.type} needs ${need} registers, got ${words.length}`);
  if (spec.type === 'string') return decodeString(words, spec.wordOrder);
  // 16-bit types: only the byte order matters (word reversal of one word is a no-op).
  const buf = toBigEndianBytes(words, spec.wordOrder);
  switch (spec.type) {
    case 'int16':
      return buf.readInt16BE(0);
    case 'uint16':
      return buf.readUInt16BE(0);
    case 'bool':
      return buf.readUInt16BE(0) !== 0;
    case 'bit':
      return ((buf.readUInt16BE(0) >> (spec.bit ?? 0)) & 1) === 1;
    case 'int32':
      return buf.readInt32BE(0);
    case 'uint32':
      return buf.readUInt32BE(0);
    case 'float32':
      return shortestFloat32(buf.readFloatBE(0));
    case 'int64':
      return buf.readBigInt64BE(0);
    case 'uint64':
      return buf.readBigUInt64BE(0);
    case 'float64':
      return buf.readDoubleBE(0);
  }
}

/** ASCII/Latin-1 text, two characters per register; trailing NULs and spaces removed. */
function decodeString(words: readonly number[], order: WordOrder): string {
  const swap = bytesSwapped(order);
  const bytes: number[] = [];
  for (const w of words) {
    const hi = (w >> 8) & 0xff;
    const lo = w & 0xff;
    if (swap) bytes.push(lo, hi);
    else bytes.push(hi, lo);
  }
  return Buffer.from(bytes)
    .toString('latin1')
    .replace(/[\0 ]+$/, '');
}

/**
 * A float32 read into a JavaScript number carries float noise
 * (123.456 becomes 123.45600128173828). Return the shortest decimal that
 * is the same float32, which is what the device's own display shows.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(x.toPrecision(digits));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

/**
 * raw * scale + offset. With the default scale 1 and offset 0 an integer is
 * returned exactly; a 64-bit integer beyond 2^53 is returned as a decimal
 * string so no digit is lost. With a scale or offset the result keeps 15
 * significant digits of its larger term (raw * scale or offset), which removes
 * float noise such as 0.30000000000000004.
 */
export function applyScale(raw: number | bigint, scale: number, offset: number): number | string {
  if (scale === 1 && offset === 0) {
    if (typeof raw === 'bigint') {
      const n = Number(raw);
      return Number.isSafeInteger(n) ? n : raw.toString();
    }
    return raw;
  }
  const scaled = Number(raw) * scale;
  const x = scaled + offset;
  if (!Number.isFinite(x)) return x;
  // Keep 15 significant digits of the larger term, so 293.15 - 273.15 is 0, not 5.7e-14.
  const magnitude = Math.max(Math.abs(scaled), Math.abs(offset));
  if (magnitude === 0) return x;
  const decimals = 14 - Math.floor(Math.log10(magnitude));
  if (decimals < 0) return Number(x.toPrecision(15));
  return Number(x.toFixed(Math.min(decimals, 100)));
}

/** Decode one configured value from its registers, then apply scale and offset. */
export function decodeRegisters(spec: ValueSpec, words: readonly number[]): DecodedValue {
  const raw = decodeRaw(spec, words);
  if (typeof raw === 'boolean' || typeof raw === 'string') return { value: raw, quality: 'good' };
  if (typeof raw === 'number' && !Number.isFinite(raw)) {
    // A float register holding NaN or infinity usually means a sensor fault.
    return { value: null, quality: 'bad', reason: Number.isNaN(raw) ? 'not a number (NaN)' : 'infinite' };
  }
  const value = applyScale(raw, spec.scale, spec.offset);
  if (typeof value === 'number' && !Number.isFinite(value)) return { value: null, quality: 'bad', reason: 'out of range after scaling' };
  return { value, quality: 'good' };
}

/**
 * Whether a new reading should become a signal: the first one, any change of
 * quality, and any change of value; for numbers with a deadband, only a move
 * of more than the deadband away from the last value sent.
 */
export function shouldEmit(last: { value: unknown; quality: string } | undefined, next: { value: unknown; quality: string }, deadband?: number): boolean {
  if (!last) return true;
  if (last.quality !== next.quality) return true;
  if (typeof last.value === 'number' && typeof next.value === 'number') {
    if (deadband !== undefined && deadband > 0) return Math.abs(next.value - last.value) > deadband;
    return last.value !== next.value;
  }
  return last.value !== next.value;
}
