import { resolvePath } from './template-language';

/**
 * Reading plain values out of signals: numbers, on/off, state codes, a field
 * of a JSON payload, times. Pure; `undefined` means "cannot be read as that".
 */

/** A finite number from a number, a numeric text (`" 42.5 "`) or a boolean (1/0). */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** On/off from a boolean, a number (0 is off) or text (true/false, on/off, yes/no, 1/0). */
export function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v !== 0 : undefined;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['true', 'on', 'yes', '1'].includes(s)) return true;
    if (['false', 'off', 'no', '0'].includes(s)) return false;
  }
  return undefined;
}

/** A state code as text, so `3`, `"3"` and `3.0` are one code. */
export function toCode(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'string') return v.trim() === '' ? undefined : v.trim();
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * The value a rule reads: the signal's value, or the field at `path` of it
 * (an object, or JSON text that holds one).
 */
export function readValue(value: unknown, path: string | undefined): unknown {
  if (path === undefined) return value;
  let root = value;
  if (typeof root === 'string') {
    try {
      root = JSON.parse(root);
    } catch {
      return undefined;
    }
  }
  return resolvePath(root, path);
}

/** Milliseconds of an ISO 8601 time, or undefined when it is not a time. */
export function timeMs(iso: string): number | undefined {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A short printable form of a value for messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Round away binary noise from repeated float sums (0.1 + 0.2). */
export function roundQuantity(q: number): number {
  return Math.round(q * 1e9) / 1e9;
}
