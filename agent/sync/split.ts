import type { OutboxRecord, Settlement } from '../buffer/outbox';
import { actionOf, type Result } from './outcome';

/** A batch where every row parks: maybe one bad row failed the whole load(). */
export function failedAsWhole(records: OutboxRecord[], results: Result[]): boolean {
  return records.length > 1 && results.every((r) => r instanceof Error && actionOf(r) === 'park');
}

/**
 * The halves of a batch that failed as a whole, to be sent to find the bad
 * row. Later events of a key whose run is in the first half go back to the
 * outbox (`back`): they must not be in flight beside it.
 */
export function splitBatch(records: OutboxRecord[]): { halves: OutboxRecord[][]; back: Settlement[] } {
  const mid = Math.ceil(records.length / 2);
  const first = records.slice(0, mid);
  const firstKeys = new Set(first.map((r) => r.sequenceKey));
  const second = records.slice(mid).filter((r) => !firstKeys.has(r.sequenceKey));
  const back: Settlement[] = [];
  for (const r of records.slice(mid)) if (firstKeys.has(r.sequenceKey)) back.push({ seq: r.seq, outcome: 'release' });
  return { halves: second.length ? [first, second] : [first], back };
}
