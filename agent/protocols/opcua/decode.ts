/**
 * OPC UA values to signal values, status codes to quality. Pure: no I/O, no
 * node-opcua import, so it is tested with plain tables.
 */
import type { Signal, SignalValue } from '../../model/signal';

/** OPC UA built-in data types (OPC 10000-6, 5.1.2), as node-opcua numbers them. */
export enum UaType {
  Null = 0,
  Boolean = 1,
  SByte = 2,
  Byte = 3,
  Int16 = 4,
  UInt16 = 5,
  Int32 = 6,
  UInt32 = 7,
  Int64 = 8,
  UInt64 = 9,
  Float = 10,
  Double = 11,
  String = 12,
  DateTime = 13,
  Guid = 14,
  ByteString = 15,
  XmlElement = 16,
  NodeId = 17,
  ExpandedNodeId = 18,
  StatusCode = 19,
  QualifiedName = 20,
  LocalizedText = 21,
  ExtensionObject = 22,
  DataValue = 23,
  Variant = 24,
  DiagnosticInfo = 25,
}

/** What the adapter hands over from a node-opcua Variant. */
export interface RawVariant {
  dataType: number;
  /** 0 scalar, 1 array, 2 matrix. */
  arrayType: number;
  value: unknown;
}

/**
 * Quality from the two severity bits of a StatusCode: 00 good, 01 uncertain,
 * 10 and 11 bad (OPC 10000-4, 7.39).
 */
export function qualityOf(statusCode: number): Signal['quality'] {
  const severity = (statusCode >>> 30) & 0b11;
  if (severity === 0) return 'good';
  if (severity === 1) return 'uncertain';
  return 'bad';
}

/**
 * A 64-bit integer from node-opcua's [high, low] 32-bit words: a number when it is
 * exactly representable (|n| <= 2^53 - 1), otherwise its decimal string.
 */
export function int64ToValue(words: unknown, signed: boolean): number | string | null {
  if (typeof words === 'number') return words;
  if (typeof words === 'bigint') return Number.isSafeInteger(Number(words)) ? Number(words) : words.toString();
  if (!Array.isArray(words) || words.length !== 2) return null;
  const [high, low] = words as [number, number];
  let big = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
  if (signed && big >= 1n << 63n) big -= 1n << 64n;
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big.toString();
}

/** Float (single precision) values shown as the PLC programmer typed them: 20.1, not 20.100000381469727. */
function single(n: number): number {
  return Number.isFinite(n) ? Number(n.toPrecision(7)) : n;
}

function scalar(dataType: number, v: unknown): SignalValue {
  if (v === null || v === undefined) return null;
  switch (dataType) {
    case UaType.Boolean:
      return Boolean(v);
    case UaType.SByte:
    case UaType.Byte:
    case UaType.Int16:
    case UaType.UInt16:
    case UaType.Int32:
    case UaType.UInt32:
    case UaType.Double:
      return typeof v === 'number' ? v : Number(v);
    case UaType.Float:
      return single(typeof v === 'number' ? v : Number(v));
    case UaType.Int64:
      return int64ToValue(v, true);
    case UaType.UInt64:
      return int64ToValue(v, false);
    case UaType.String:
    case UaType.XmlElement:
    case UaType.Guid:
      return String(v);
    case UaType.DateTime:
      return v instanceof Date ? (Number.isNaN(v.getTime()) ? null : v.toISOString()) : String(v);
    case UaType.ByteString:
      return Buffer.isBuffer(v) ? v.toString('base64') : String(v);
    case UaType.NodeId:
    case UaType.ExpandedNodeId:
      return String(v);
    case UaType.StatusCode: {
      const name = (v as { name?: unknown }).name;
      return typeof name === 'string' ? name : String(v);
    }
    case UaType.QualifiedName: {
      const q = v as { namespaceIndex?: number; name?: string | null };
      return q.namespaceIndex ? `${q.namespaceIndex}:${q.name ?? ''}` : (q.name ?? '');
    }
    case UaType.LocalizedText:
      return (v as { text?: string | null }).text ?? null;
    case UaType.ExtensionObject:
    case UaType.DataValue:
    case UaType.Variant:
    case UaType.DiagnosticInfo:
      return plain(v);
    default:
      return typeof v === 'object' ? plain(v) : (v as SignalValue);
  }
}

/** A structure as plain JSON (structures from node-opcua have toJSON). */
function plain(v: unknown): SignalValue {
  try {
    return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))) as SignalValue;
  } catch {
    return String(v);
  }
}

/**
 * A Variant's value as a signal value: numbers, booleans, strings, arrays of them,
 * plain objects for structures. Int64/UInt64 become numbers when exact, else strings;
 * DateTime an ISO string; ByteString base64.
 */
export function variantToValue(variant: RawVariant | null | undefined): SignalValue {
  if (!variant || variant.dataType === UaType.Null) return null;
  const { dataType, arrayType, value } = variant;
  if (arrayType !== 0) {
    if (value === null || value === undefined) return [];
    const list = ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<number>) : (value as unknown[]);
    if (!Array.isArray(list)) return scalar(dataType, value);
    return list.map((x) => scalar(dataType, x));
  }
  return scalar(dataType, value);
}

/** What the adapter hands over from a node-opcua DataValue. */
export interface RawDataValue {
  value: RawVariant | null | undefined;
  statusCode: { value: number; name: string };
  sourceTimestamp: Date | null | undefined;
  serverTimestamp: Date | null | undefined;
}

let lastStampMs = Number.NaN;
let lastStampIso = '';

/** ISO text of a timestamp; the same instant twice in a row (a whole publish often shares one) is formatted once. */
function isoOf(d: Date): string {
  const ms = d.getTime();
  if (ms !== lastStampMs) {
    lastStampMs = ms;
    lastStampIso = d.toISOString();
  }
  return lastStampIso;
}

/**
 * One data change as a Signal. `receivedAt` is ISO text (the caller formats
 * it once per batch of changes); `meta` is the item's shared, frozen
 * `{ nodeId }` and is copied only when a status must be added.
 * A NaN or infinite number has no JSON form: it becomes null with quality bad
 * (a PLC usually reports NaN for a broken sensor).
 */
export function dataValueToSignal(source: string, tag: string, dv: RawDataValue, receivedAt: string, meta: Readonly<Record<string, unknown>>): Signal {
  let value = variantToValue(dv.value);
  let quality = qualityOf(dv.statusCode.value);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    value = null;
    quality = 'bad';
  }
  const st = dv.sourceTimestamp ?? dv.serverTimestamp;
  const sourceTime = st && st.getTime() > 0 ? isoOf(st) : receivedAt;
  return {
    source,
    tag,
    value,
    quality,
    sourceTime,
    receivedAt,
    meta: quality === 'good' ? meta : { ...meta, statusCode: dv.statusCode.name },
  };
}
