import type { SignalValue } from '../../model/signal';
import { DataType, dataTypeName, payloadMessage } from './schema';

/**
 * Sparkplug B payload bytes to values. Pure, no I/O, never throws: what
 * cannot be read comes back with the reason.
 *
 * 64-bit integers (Int64, UInt64, and the elements of their arrays and data
 * sets) become a JavaScript number when they are safe integers
 * (|v| <= 2^53 - 1), otherwise their exact decimal text ("18446744073709551615").
 * A signal value must survive JSON (the outbox and the page keep it as JSON),
 * which a bigint does not. DateTime (milliseconds since 1970, UTC) becomes
 * ISO 8601 text, Bytes and File base64 text.
 */

/** What protobufjs gives for a uint64 field (a `long` Long), or a plain number. */
export type Uint64 = number | { low: number; high: number };

/** A metric as protobufjs decoded it (fields absent from the message read as their prototype's default). */
export interface RawMetric extends RawScalar {
  name: string;
  alias: Uint64;
  timestamp: Uint64;
  datatype: number;
  isHistorical: boolean;
  isTransient: boolean;
  isNull: boolean;
  properties?: RawPropertySet | null;
  metadata?: Record<string, unknown> | null;
  bytesValue: Uint8Array;
  datasetValue?: RawDataSet | null;
  templateValue?: RawTemplate | null;
}

export interface RawTemplate {
  version: string;
  metrics: RawMetric[];
  parameters: Array<RawScalar & { name: string; type: number }>;
  templateRef: string;
  isDefinition: boolean;
}

/** A value holder (metric, data set cell, parameter, property) as protobufjs decoded it. */
interface RawScalar {
  /** The oneof member that holds the value (`intValue`, `longValue`, ...), or undefined. */
  value?: string;
  intValue: number;
  longValue: Uint64;
  floatValue: number;
  doubleValue: number;
  booleanValue: boolean;
  stringValue: string;
}

export interface RawDataSet {
  numOfColumns: Uint64;
  columns: string[];
  types: number[];
  rows: Array<{ elements: RawScalar[] }>;
}

export interface RawPropertySet {
  keys: string[];
  values: Array<
    RawScalar & { type: number; isNull: boolean; propertysetValue?: RawPropertySet | null; propertysetsValue?: { propertyset: RawPropertySet[] } | null }
  >;
}

export interface RawPayload {
  timestamp: Uint64;
  metrics: RawMetric[];
  seq: Uint64;
  uuid: string;
  body: Uint8Array;
}

export type ReadPayload = { ok: true; payload: RawPayload } | { ok: false; reason: string };

/** Decode the protobuf bytes of a Sparkplug B payload. */
export function readPayload(bytes: Uint8Array): ReadPayload {
  try {
    const payload = payloadMessage().decode(bytes) as unknown as RawPayload;
    return { ok: true, payload };
  } catch (err) {
    return { ok: false, reason: `not a Sparkplug B payload (protobuf: ${err instanceof Error ? err.message : String(err)})` };
  }
}

const TWO_32 = 4294967296;
/** 2^21: a high word below this keeps the 64-bit value under 2^53. */
const SAFE_HIGH = 2097152;

/** An unsigned 64-bit value: a number when safe, otherwise its decimal text. */
export function unsigned64(v: Uint64): number | string {
  if (typeof v === 'number') return v;
  const high = v.high >>> 0;
  const low = v.low >>> 0;
  if (high < SAFE_HIGH) return high * TWO_32 + low;
  return ((BigInt(high) << 32n) | BigInt(low)).toString();
}

/** A signed (two's complement) 64-bit value: a number when safe, otherwise its decimal text. */
export function signed64(v: Uint64): number | string {
  if (typeof v === 'number') return v;
  const high = v.high | 0;
  const low = v.low >>> 0;
  if (high >= -SAFE_HIGH && high < SAFE_HIGH) return high * TWO_32 + low;
  return BigInt.asIntN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(low)).toString();
}

/** A uint64 that must be small (sequence numbers, aliases kept as map keys): the number, or undefined past 2^53. */
export function smallUnsigned(v: Uint64): number | undefined {
  const n = unsigned64(v);
  return typeof n === 'number' ? n : undefined;
}

/** Milliseconds since 1970 as ISO 8601, or undefined when out of the range a date can hold. */
export function isoFromMillis(ms: number | string): string | undefined {
  if (typeof ms !== 'number' || ms > 8.64e15) return undefined;
  // Messages in a row often carry the same time: the last text is kept.
  if (ms !== lastIso.ms) {
    lastIso.ms = ms;
    lastIso.text = new Date(ms).toISOString();
  }
  return lastIso.text;
}

const lastIso = { ms: NaN, text: '' };

/** Why a value was not taken. */
export class Refusal {
  constructor(readonly reason: string) {}
}

/** A value, or why it was not taken (a Refusal). The value itself, not wrapped: fifty of them per message add up. */
export type MetricValue = SignalValue | Refusal;

const ok = (value: SignalValue): MetricValue => value;
const refused = (reason: string): MetricValue => new Refusal(reason);

const VALUE_FIELDS = [
  'intValue',
  'longValue',
  'floatValue',
  'doubleValue',
  'booleanValue',
  'stringValue',
  'bytesValue',
  'datasetValue',
  'templateValue',
] as const;

/**
 * The field that holds a value (`intValue`, `longValue`, ...), or undefined.
 * protobufjs's own oneof getter lists the object's keys on every call; the
 * decoder sets only the field it read, so looking for it is cheaper.
 */
export function valueField(s: object): string | undefined {
  for (const f of VALUE_FIELDS) if (Object.hasOwn(s, f)) return f;
  return undefined;
}

/** The integer a scalar carries, from int_value or long_value (encoders differ on UInt32), as unsigned 32-bit low word and full 64-bit value. */
function integerOf(s: RawScalar, field: string | undefined): { low: number; wide: Uint64 } | undefined {
  if (field === 'intValue') return { low: s.intValue >>> 0, wide: s.intValue >>> 0 };
  if (field === 'longValue') {
    const l = s.longValue;
    return { low: typeof l === 'number' ? l >>> 0 : l.low >>> 0, wide: l };
  }
  return undefined;
}

/** The value of a scalar (metric, data set cell, parameter, property) of data type `type`. */
export function scalarValue(s: RawScalar, type: number, field = valueField(s)): MetricValue {
  switch (type) {
    case DataType.Int8:
    case DataType.Int16:
    case DataType.Int32:
    case DataType.UInt8:
    case DataType.UInt16:
    case DataType.UInt32:
    case DataType.Int64:
    case DataType.UInt64:
    case DataType.DateTime: {
      const n = integerOf(s, field);
      if (!n) return refused(`${dataTypeName(type)} value without an integer field (${field ?? 'no value field'})`);
      if (type === DataType.Int8) return ok((n.low << 24) >> 24);
      if (type === DataType.Int16) return ok((n.low << 16) >> 16);
      if (type === DataType.Int32) return ok(n.low | 0);
      if (type === DataType.UInt8) return ok(n.low & 0xff);
      if (type === DataType.UInt16) return ok(n.low & 0xffff);
      if (type === DataType.UInt32) return ok(n.low);
      if (type === DataType.Int64) return ok(signed64(n.wide));
      if (type === DataType.UInt64) return ok(unsigned64(n.wide));
      const iso = isoFromMillis(unsigned64(n.wide));
      return iso === undefined ? refused('DateTime out of range') : ok(iso);
    }
    case DataType.Float:
      if (field !== 'floatValue') return refused(`Float value without float_value (${field ?? 'no value field'})`);
      return ok(s.floatValue);
    case DataType.Double:
      if (field !== 'doubleValue') return refused(`Double value without double_value (${field ?? 'no value field'})`);
      return ok(s.doubleValue);
    case DataType.Boolean:
      if (field !== 'booleanValue') return refused(`Boolean value without boolean_value (${field ?? 'no value field'})`);
      return ok(s.booleanValue);
    case DataType.String:
    case DataType.Text:
    case DataType.UUID:
      if (field !== 'stringValue') return refused(`${dataTypeName(type)} value without string_value (${field ?? 'no value field'})`);
      return ok(s.stringValue);
    default:
      return refused(`data type ${dataTypeName(type) ?? type} is not a scalar`);
  }
}

/** A data set as an object: `{columns, types, rows}`, each row an object by column name. */
export function dataSetValue(ds: RawDataSet): MetricValue {
  const columns = ds.columns ?? [];
  const types = ds.types ?? [];
  const declared = smallUnsigned(ds.numOfColumns);
  if (declared !== undefined && declared !== 0 && declared !== columns.length) {
    return refused(`DataSet declares ${declared} columns but names ${columns.length}`);
  }
  if (types.length !== columns.length) return refused(`DataSet has ${columns.length} columns but ${types.length} types`);
  const rows: Array<Record<string, SignalValue>> = [];
  for (const [r, row] of (ds.rows ?? []).entries()) {
    const elements = row.elements ?? [];
    if (elements.length !== columns.length) return refused(`DataSet row ${r} has ${elements.length} values for ${columns.length} columns`);
    const out: Record<string, SignalValue> = {};
    for (let c = 0; c < columns.length; c++) {
      const v = scalarValue(elements[c]!, types[c]!);
      if (v instanceof Refusal) return refused(`DataSet row ${r} column '${columns[c]}': ${v.reason}`);
      out[columns[c]!] = v;
    }
    rows.push(out);
  }
  return ok({ columns, types: types.map((t) => dataTypeName(t) ?? String(t)), rows });
}

/** A property set as a plain object: key -> value (nested sets as objects, lists of sets as arrays). Bad entries are left out with their reason. */
export function propertySetValue(ps: RawPropertySet, problems: string[], depth = 0): Record<string, SignalValue> {
  const out: Record<string, SignalValue> = {};
  const keys = ps.keys ?? [];
  const values = ps.values ?? [];
  if (depth > 8) {
    problems.push('property sets nested deeper than 8 levels');
    return out;
  }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const pv = values[i];
    if (!pv) {
      problems.push(`property '${key}' has no value`);
      continue;
    }
    if (pv.isNull) out[key] = null;
    else if (pv.type === DataType.PropertySet && pv.propertysetValue) out[key] = propertySetValue(pv.propertysetValue, problems, depth + 1);
    else if (pv.type === DataType.PropertySetList && pv.propertysetsValue) {
      out[key] = (pv.propertysetsValue.propertyset ?? []).map((p) => propertySetValue(p, problems, depth + 1));
    } else {
      const v = scalarValue(pv, pv.type);
      if (v instanceof Refusal) problems.push(`property '${key}': ${v.reason}`);
      else out[key] = v;
    }
  }
  return out;
}

/** Element width and reader of each fixed-width array type. */
const ARRAY_ELEMENT: Record<number, { width: number; read: (b: Buffer, o: number) => SignalValue | undefined }> = {
  [DataType.Int8Array]: { width: 1, read: (b, o) => b.readInt8(o) },
  [DataType.UInt8Array]: { width: 1, read: (b, o) => b.readUInt8(o) },
  [DataType.Int16Array]: { width: 2, read: (b, o) => b.readInt16LE(o) },
  [DataType.UInt16Array]: { width: 2, read: (b, o) => b.readUInt16LE(o) },
  [DataType.Int32Array]: { width: 4, read: (b, o) => b.readInt32LE(o) },
  [DataType.UInt32Array]: { width: 4, read: (b, o) => b.readUInt32LE(o) },
  [DataType.FloatArray]: { width: 4, read: (b, o) => b.readFloatLE(o) },
  [DataType.DoubleArray]: { width: 8, read: (b, o) => b.readDoubleLE(o) },
  [DataType.Int64Array]: { width: 8, read: (b, o) => signed64({ low: b.readUInt32LE(o), high: b.readInt32LE(o + 4) }) },
  [DataType.UInt64Array]: { width: 8, read: (b, o) => unsigned64({ low: b.readUInt32LE(o), high: b.readUInt32LE(o + 4) }) },
  [DataType.DateTimeArray]: { width: 8, read: (b, o) => isoFromMillis(signed64({ low: b.readUInt32LE(o), high: b.readInt32LE(o + 4) })) },
};

/** An array metric (Sparkplug 3.0: little-endian elements packed in bytes_value; strings NUL-terminated). */
export function arrayValue(bytes: Uint8Array, type: number): MetricValue {
  const name = dataTypeName(type)!;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === DataType.StringArray) {
    if (buf.length === 0) return ok([]);
    if (buf[buf.length - 1] !== 0) return refused('StringArray does not end with a NUL byte');
    return ok(
      buf
        .subarray(0, buf.length - 1)
        .toString('utf8')
        .split('\0'),
    );
  }
  if (type === DataType.BooleanArray) return booleanArray(buf);
  const element = ARRAY_ELEMENT[type];
  if (element === undefined) return refused(`data type ${name} is not an array`);
  const { width, read } = element;
  if (buf.length % width !== 0) return refused(`${name} of ${buf.length} bytes is not a whole number of ${width}-byte elements`);
  const out: SignalValue[] = [];
  for (let o = 0; o < buf.length; o += width) {
    const v = read(buf, o);
    if (v === undefined) return refused(`${name} element ${o / width} is out of range`);
    out.push(v);
  }
  return ok(out);
}

/** A BooleanArray (Sparkplug 3.0): the count as a little-endian uint32, then the booleans packed eight to a byte, first one in the high bit, the last byte padded. */
function booleanArray(buf: Buffer): MetricValue {
  if (buf.length < 4) return refused(`BooleanArray of ${buf.length} bytes has no 4-byte count`);
  const count = buf.readUInt32LE(0);
  const bytes = Math.ceil(count / 8);
  if (buf.length - 4 !== bytes) return refused(`BooleanArray of ${count} values needs ${bytes} bytes after its count, not ${buf.length - 4}`);
  const out: boolean[] = new Array<boolean>(count);
  for (let i = 0; i < count; i++) out[i] = ((buf[4 + (i >> 3)]! >> (7 - (i & 7))) & 1) === 1;
  return ok(out);
}

/**
 * The value of a metric that is not a template (templates are spread into
 * their members by the caller). `type` is the metric's data type: its own, or
 * the one its birth declared.
 */
export function metricValue(m: RawMetric, type: number): MetricValue {
  if (m.isNull) return ok(null);
  const field = valueField(m);
  switch (type) {
    case DataType.DataSet:
      return field === 'datasetValue' && m.datasetValue ? dataSetValue(m.datasetValue) : refused('DataSet metric without dataset_value');
    case DataType.Bytes:
    case DataType.File:
      if (field !== 'bytesValue') return refused(`${dataTypeName(type)} metric without bytes_value`);
      return ok(Buffer.from(m.bytesValue.buffer, m.bytesValue.byteOffset, m.bytesValue.byteLength).toString('base64'));
    case DataType.PropertySet:
    case DataType.PropertySetList:
      return refused(`a metric of data type ${dataTypeName(type)} has no value field in Sparkplug B (property sets travel as a metric's properties)`);
    case DataType.Template:
      return refused('a template is read member by member');
    case DataType.Unknown:
      return refused('data type Unknown (0)');
    default:
      if (type >= DataType.Int8Array && type <= DataType.DateTimeArray) {
        if (field !== 'bytesValue') return refused(`${dataTypeName(type)} metric without bytes_value`);
        return arrayValue(m.bytesValue, type);
      }
      if (dataTypeName(type) === undefined) return refused(`unknown data type ${type}`);
      return scalarValue(m, type, field);
  }
}

/** Float values NaN and ±Infinity are not numbers JSON can keep: such a reading is passed on with quality bad and value null. */
export function isUnusableNumber(v: SignalValue): boolean {
  return typeof v === 'number' && !Number.isFinite(v);
}

/** The value of a template parameter. */
export function parameterValue(p: RawScalar & { type: number }): MetricValue {
  return scalarValue(p, p.type);
}

/** Encode a Sparkplug B payload (the agent's own commands: NCMD rebirth). */
export function encodePayload(payload: {
  timestamp: number;
  metrics: Array<{ name: string; timestamp: number; datatype: number; booleanValue: boolean }>;
  seq?: number;
}): Uint8Array {
  const type = payloadMessage();
  return type.encode(type.fromObject(payload)).finish();
}
