import { zonedTime } from '../model/plant-time';
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

/** `YYYY-MM-DDTHH:MM:SS[.fff]Z`, checked by position (no regular expression on the hot path). */
function isCanonicalUtc(t: string): boolean {
  const n = t.length;
  return (
    (n === 20 || n === 24) &&
    t.charCodeAt(n - 1) === 90 &&
    t.charCodeAt(4) === 45 &&
    t.charCodeAt(7) === 45 &&
    t.charCodeAt(10) === 84 &&
    t.charCodeAt(13) === 58 &&
    t.charCodeAt(16) === 58 &&
    (n === 20 || t.charCodeAt(19) === 46)
  );
}

function digits(t: string, at: number): number {
  return (t.charCodeAt(at) - 48) * 10 + (t.charCodeAt(at + 1) - 48);
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Milliseconds of an ISO 8601 date and time (`2026-03-29T06:00:00Z`,
 * `2026-03-29 08:00:00+02:00`), or undefined when it is not one. A time
 * without a zone is plant time when `timeZone` is given (a MES that sends its
 * local time), else refused: it would be read in whatever zone the gateway
 * runs in. Other forms (`03/04/2026`, `March 3`) are refused, not guessed.
 */
export function timeMs(text: string, timeZone?: string): number | undefined {
  // The form every source stamps (`2026-03-29T06:00:00.000Z`): straight to Date.parse.
  if (isCanonicalUtc(text)) {
    const ms = Date.parse(text);
    if (!Number.isFinite(ms)) return undefined;
    const hour = digits(text, 11);
    const day = digits(text, 8);
    // Date.parse takes 24:00 and rolls 31 April over to 1 May: neither is a time that was read.
    if (hour > 23 || (day > 28 && new Date(ms).getUTCDate() !== day)) return undefined;
    return ms;
  }
  const m = ISO_TIME.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = sec === undefined ? 0 : Number(sec);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = frac === undefined ? 0 : Math.floor(Number(`0${frac}`) * 1000);
  if (zone === undefined) {
    if (timeZone === undefined) return undefined;
    const wall = { year: Number(y), month, day };
    // Reject a date that does not exist (31 April) before placing it in the zone.
    if (new Date(Date.UTC(wall.year, month - 1, day)).getUTCDate() !== day) return undefined;
    return zonedTime(wall, hour, minute, timeZone) + second * 1000 + ms;
  }
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const parsed = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${String(second).padStart(2, '0')}.${String(ms).padStart(3, '0')}${offset}`);
  if (!Number.isFinite(parsed)) return undefined;
  // Date.parse rolls 31 April over to 1 May: refuse a date that does not exist.
  if (new Date(Date.UTC(Number(y), month - 1, day)).getUTCDate() !== day) return undefined;
  return parsed;
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
