import { hash, randomBytes } from 'node:crypto';

/**
 * Event ids are UUIDv7-shaped: 48 bits of milliseconds, then bits taken from a
 * SHA-256 of the source fact. The same fact always gives the same id (so a
 * re-poll or a replay is one event), and ids of one plant sort by time, which
 * keeps inserts into the outbox's unique index near its right edge
 * (docs/decisions.md, "time-ordered event ids").
 */
export function eventId(occurredAtMs: number, ...fact: Array<string | number | boolean | null | undefined>): string {
  // Each part followed by a NUL, hashed as one text: the same bytes as before, so ids never change across versions.
  let text = '';
  for (const part of fact) text += `${String(part ?? '')}\u0000`;
  return formatV7(occurredAtMs, hash('sha256', text, 'hex'));
}

/** A time-ordered id for a fact that has no natural identity (a manual import line without an id). */
export function randomEventId(nowMs = Date.now()): string {
  return formatV7(nowMs, randomBytes(10).toString('hex'));
}

/** 2^48 - 1: the largest time the id's 48 bits hold. */
const MAX_MS = 0xffffffffffff;

/** The id's 16 bytes as text: 6 of milliseconds, then 10 of `tail` (hex, at least 20 digits) with the version and variant bits set. */
function formatV7(ms: number, tail: string): string {
  const t = ms > 0 ? Math.floor(ms) : 0; // before 1970, or not a number: 0
  if (t > MAX_MS) throw new RangeError(`event time ${ms} does not fit an id's 48 bits of milliseconds`);
  const time = t.toString(16).padStart(12, '0');
  const variant = (0x80 | (parseInt(tail.slice(4, 6), 16) & 0x3f)).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${tail.slice(1, 4)}-${variant}${tail.slice(6, 8)}-${tail.slice(8, 20)}`;
}
