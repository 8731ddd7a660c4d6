import { createHash, randomBytes } from 'node:crypto';

/**
 * Event ids are UUIDv7-shaped: 48 bits of milliseconds, then bits taken from a
 * SHA-256 of the source fact. The same fact always gives the same id (so a
 * re-poll or a replay is one event), and ids of one plant sort by time, which
 * keeps inserts into the outbox's unique index near its right edge
 * (docs/decisions.md, "time-ordered event ids").
 */
export function eventId(occurredAtMs: number, ...fact: Array<string | number | boolean | null | undefined>): string {
  const hash = createHash('sha256');
  for (const part of fact) {
    hash.update(String(part ?? ''));
    hash.update('\u0000');
  }
  return formatV7(occurredAtMs, hash.digest());
}

/** A time-ordered id for a fact that has no natural identity (a manual import line without an id). */
export function randomEventId(nowMs = Date.now()): string {
  return formatV7(nowMs, randomBytes(16));
}

function formatV7(ms: number, tail: Buffer): string {
  const b = Buffer.alloc(16);
  const t = Math.max(0, Math.floor(ms));
  b.writeUIntBE(t, 0, 6);
  tail.copy(b, 6, 0, 10);
  b[6] = 0x70 | (b[6]! & 0x0f); // version 7
  b[8] = 0x80 | (b[8]! & 0x3f); // variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
