import { createReadStream } from 'node:fs';
import type { Outbox } from '../buffer/outbox';
import { AgentError, errorCode, errorMessage } from '../errors';
import { eventId } from '../model/event-ids';
import { parseEvent, type CanonicalEvent } from '../model/event';
import { parseJsonText } from '../model/json-text';

export interface ImportReport {
  lines: number;
  inserted: number;
  duplicates: number;
  /** Of `inserted`, events held for a person because their time is implausible (far ahead, years old): see `outbox list --state parked`. */
  heldForTime?: number;
  /** Bad lines: 1-based line number and why. Nothing of them is committed. */
  rejected: Array<{ line: number; reason: string }>;
  /** Set when the outbox refused (full, or a write failed): the import stopped, and this line and the ones after it are not committed. */
  stopped?: { line: number; reason: string };
}

/** A line longer than this is refused without being read into memory whole. */
export const MAX_LINE_BYTES = 1_048_576;

/** Good lines are committed this many at a time. */
const BATCH = 500;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Validate a JSON-lines file of canonical events and commit every good line.
 * A line may leave out `receivedAt` (now), `source` (`import`) and `id` (derived
 * from the line's content, so importing the same file twice adds nothing).
 * Each line stands on its own: a bad one (not UTF-8, not JSON, too deep, too
 * long, not a valid event) is reported with its number and the rest goes on.
 */
export async function importEvents(file: string, outbox: Outbox, now = () => new Date()): Promise<ImportReport> {
  const report: ImportReport = { lines: 0, inserted: 0, duplicates: 0, rejected: [] };
  let batch: Array<{ line: number; event: CanonicalEvent }> = [];
  const flush = async (): Promise<boolean> => {
    const todo = batch;
    batch = [];
    if (todo.length === 0) return true;
    try {
      count(report, await outbox.enqueue(todo.map((t) => t.event)));
      return true;
    } catch (err) {
      if (passing(err)) return stop(todo[0]!.line, err);
    }
    // An event the outbox would not take must not cost the others: commit them one by one.
    for (const t of todo) {
      try {
        count(report, await outbox.enqueue([t.event]));
      } catch (err) {
        if (passing(err)) return stop(t.line, err);
        report.rejected.push({ line: t.line, reason: `the outbox refused it: ${errorMessage(err)}` });
      }
    }
    return true;
  };
  const stop = (line: number, err: unknown): false => {
    report.stopped = { line, reason: errorMessage(err) };
    return false;
  };
  for await (const l of readLines(file, MAX_LINE_BYTES)) {
    report.lines++;
    const line = report.lines;
    const parsed = 'bytes' in l ? parseBytes(l.bytes, now) : { ok: false as const, reason: `the line is ${l.tooLong} bytes, more than ${MAX_LINE_BYTES}` };
    if (parsed === undefined) continue;
    if (!parsed.ok) {
      report.rejected.push({ line, reason: parsed.reason });
      continue;
    }
    batch.push({ line, event: parsed.event });
    if (batch.length >= BATCH && !(await flush())) return report;
  }
  await flush();
  return report;
}

/** The outbox is full or cannot write now: nothing more goes in until that passes. */
function passing(err: unknown): boolean {
  return err instanceof AgentError ? err.retryable : errorCode(err) === 'OUTBOX_FULL';
}

function count(report: ImportReport, r: { inserted: number; duplicates: number; implausible?: number }): void {
  report.inserted += r.inserted;
  report.duplicates += r.duplicates;
  if (r.implausible) report.heldForTime = (report.heldForTime ?? 0) + r.implausible;
}

type LineResult = { ok: true; event: CanonicalEvent } | { ok: false; reason: string };

/** One line's bytes to an event; undefined for a blank line. Never throws. */
function parseBytes(bytes: Buffer, now: () => Date): LineResult | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes);
  } catch {
    return { ok: false, reason: 'not valid UTF-8 text' };
  }
  if (text.trim() === '') return undefined;
  try {
    return parseLine(text, now);
  } catch (err) {
    return { ok: false, reason: `cannot be read: ${errorMessage(err)}` };
  }
}

export function parseLine(text: string, now: () => Date): LineResult {
  const json = parseJsonText(text);
  if (!json.ok) return { ok: false, reason: json.tooDeep ? `JSON ${json.reason}` : `not JSON: ${json.reason}` };
  const value = json.value;
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

/** The file's lines as bytes (without the newline), or the size of a line over `maxBytes`. */
async function* readLines(file: string, maxBytes: number): AsyncGenerator<{ bytes: Buffer } | { tooLong: number }> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      size += end - start;
      // Past the limit the rest of the line is only counted.
      if (size <= maxBytes) parts.push(chunk.subarray(start, end));
      else parts = [];
      if (nl === -1) break;
      yield size <= maxBytes ? { bytes: Buffer.concat(parts, size) } : { tooLong: size };
      parts = [];
      size = 0;
      start = nl + 1;
    }
  }
  if (size > 0) yield size <= maxBytes ? { bytes: Buffer.concat(parts, size) } : { tooLong: size };
}
