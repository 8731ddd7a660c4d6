import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Outbox } from '../buffer/outbox';
import { eventId } from '../model/event-ids';
import { parseEvent, type CanonicalEvent } from '../model/event';

export interface ImportReport {
  lines: number;
  inserted: number;
  duplicates: number;
  /** Bad lines: 1-based line number and why. Nothing of them is committed. */
  rejected: Array<{ line: number; reason: string }>;
}

/**
 * Validate a JSON-lines file of canonical events and commit every good line.
 * A line may leave out `receivedAt` (now), `source` (`import`) and `id` (derived
 * from the line's content, so importing the same file twice adds nothing).
 */
export async function importEvents(file: string, outbox: Outbox, now = () => new Date()): Promise<ImportReport> {
  const report: ImportReport = { lines: 0, inserted: 0, duplicates: 0, rejected: [] };
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let batch: CanonicalEvent[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const r = await outbox.enqueue(batch);
    report.inserted += r.inserted;
    report.duplicates += r.duplicates;
    batch = [];
  };
  for await (const text of rl) {
    report.lines++;
    if (text.trim() === '') continue;
    const parsed = parseLine(text, now);
    if (!parsed.ok) {
      report.rejected.push({ line: report.lines, reason: parsed.reason });
      continue;
    }
    batch.push(parsed.event);
    if (batch.length >= 500) await flush();
  }
  await flush();
  return report;
}

export function parseLine(text: string, now: () => Date): { ok: true; event: CanonicalEvent } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const v = { ...(value as Record<string, unknown>) };
  v.receivedAt ??= now().toISOString();
  v.source ??= 'import';
  if (v.id === undefined && typeof v.occurredAt === 'string') {
    const t = Date.parse(v.occurredAt);
    if (!Number.isNaN(t)) v.id = eventId(t, 'import', String(v.type), String(v.sequenceKey), JSON.stringify(v.payload ?? null));
  }
  return parseEvent(v);
}
