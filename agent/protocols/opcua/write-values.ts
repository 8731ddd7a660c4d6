/**
 * What may be written to an OPC UA variable, and whether a read back shows
 * it. Pure: no I/O, no node-opcua import; table-tested in
 * test/protocols/opcua/write-values.test.ts.
 *
 * A value that does not fit the variable's data type is refused here, never
 * converted: "12" is not sent to a Double, 70000 not to an Int16.
 */
import type { WriteRequest } from '../types';
import { UaType } from './decode';

export type WriteDataType = NonNullable<Extract<WriteRequest, { kind: 'opcua' }>['dataType']>;

/** The data types a write may use, by their OPC UA names. */
export const WRITE_DATA_TYPES = ['String', 'Double', 'Float', 'Int16', 'Int32', 'UInt16', 'UInt32', 'Boolean'] as const satisfies readonly WriteDataType[];

const INTEGER_RANGE: Partial<Record<WriteDataType, [number, number]>> = {
  Int16: [-32768, 32767],
  UInt16: [0, 65535],
  Int32: [-2147483648, 2147483647],
  UInt32: [0, 4294967295],
};

/** The largest finite Float (single precision). */
const FLOAT_MAX = 3.4028234663852886e38;

/** The built-in type number of a write data type (as node-opcua's DataType numbers them). */
export function builtInOf(dataType: WriteDataType): number {
  return UaType[dataType];
}

/** The write data type of a built-in type number, or null when writes do not support it. */
export function writeDataTypeOf(builtIn: number): WriteDataType | null {
  const name = UaType[builtIn] as string | undefined;
  return name !== undefined && (WRITE_DATA_TYPES as readonly string[]).includes(name) ? (name as WriteDataType) : null;
}

/** Why `value` cannot be written as `dataType`, or null when it can. */
export function valueProblem(dataType: WriteDataType, value: unknown): string | null {
  if (!(WRITE_DATA_TYPES as readonly string[]).includes(dataType)) return `data type ${String(dataType)} cannot be written (${WRITE_DATA_TYPES.join(', ')})`;
  const shown = typeof value === 'string' ? `text "${value}"` : `${typeof value} ${String(value)}`;
  if (dataType === 'String') return typeof value === 'string' ? null : `String needs text, got ${shown}`;
  if (dataType === 'Boolean') return typeof value === 'boolean' ? null : `Boolean needs true or false, got ${shown}`;
  if (typeof value !== 'number') return `${dataType} needs a number, got ${shown}`;
  if (!Number.isFinite(value)) return `${value} is not a finite number`;
  if (dataType === 'Double') return null;
  if (dataType === 'Float') return Math.abs(value) > FLOAT_MAX ? `${value} is beyond the Float range (±3.4028235e38)` : null;
  const [min, max] = INTEGER_RANGE[dataType]!;
  if (!Number.isInteger(value)) return `${dataType} needs a whole number, got ${value}`;
  if (value < min || value > max) return `${value} is outside the ${dataType} range ${min}..${max}`;
  return null;
}

/** Whether the value read back is the one written (a Float as the nearest single-precision number). */
export function sameValue(dataType: WriteDataType, written: unknown, readBack: unknown): boolean {
  if (dataType === 'Float' && typeof written === 'number') return typeof readBack === 'number' && Math.fround(written) === readBack;
  return written === readBack;
}
