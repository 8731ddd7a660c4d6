import type Database from 'better-sqlite3';
import { AgentError, OutboxFullError } from '../errors';
import type { CanonicalEvent } from '../model/event';
import { IMPLAUSIBLE_TIME, implausibleTime, type EventTimeLimits } from '../model/event-time';
import type { FlowStore } from './flows';
import type { KeyIndex } from './key-index';
import type { EnqueueExtras, EnqueueResult } from './outbox';
import { eventOf, type OutboxStore } from './store';

export interface IntakeOptions {
  /** Under concurrent load, how long a batch may wait for more events (ms, 0-10). */
  windowMs?: number;
  maxBatch?: number;
  maxEvents?: number;
  /** Events whose time of the fact is implausible (far ahead, years old) are stored parked with the reason; unset: no check. */
  eventTime?: EventTimeLimits & {
    /** Types whose parked event does not block its key (sync.skippableTypes). */
    nonBlocking?: ReadonlySet<string>;
  };
}

export interface WriteHealth {
  /** When commits started failing (ms), or null while they succeed. */
  failingSince: number | null;
  lastError: { code: string; message: string; at: number } | null;
  /** Failed commits since the start. */
  failures: number;
}

interface Waiter {
  events: CanonicalEvent[];
  extras: EnqueueExtras | undefined;
  resolve: (r: EnqueueResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Events in: callers that arrive together share one transaction (group
 * commit), and each is resolved only after that transaction committed. Events
 * of a flow's types are held by the flow instead of queued (flows.ts).
 */
export class Intake {
  private readonly windowMs: number;
  private readonly maxBatch: number;
  readonly maxEvents: number;
  private queue: Waiter[] = [];
  private queuedEvents = 0;
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private flushKind: 'immediate' | 'timeout' | undefined;
  private lastBatchCallers = 1;
  private closed = false;
  /** Write transactions committed by enqueue (diagnostics: events per commit). */
  commits = 0;
  /** Events stored parked for an implausible time since the start. */
  implausibleTimes = 0;
  private readonly eventTime: IntakeOptions['eventTime'];
  private health: WriteHealth = { failingSince: null, lastError: null, failures: 0 };
  private readonly st: { ruleState: Database.Statement; invalid: Database.Statement; existing: Database.Statement; conflict: Database.Statement };

  constructor(
    private readonly store: OutboxStore,
    private readonly keys: KeyIndex,
    private readonly flows: FlowStore | undefined,
    opts: IntakeOptions,
  ) {
    this.windowMs = opts.windowMs ?? 2;
    this.maxBatch = opts.maxBatch ?? 1000;
    this.maxEvents = opts.maxEvents ?? 1_000_000;
    this.eventTime = opts.eventTime;
    this.st = {
      ruleState: store.db.prepare(`INSERT INTO rule_state(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`),
      invalid: store.db.prepare(`INSERT INTO invalid_input(source, origin, reason, raw, encoding, received_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      existing: store.db.prepare(`SELECT id, type, skey, body FROM events WHERE id = ?`),
      conflict: store.db.prepare(`INSERT INTO conflicts(id, kept, refused, at) VALUES (?, ?, ?, ?)`),
    };
  }

  /** Whether commits succeed now: since when they fail, the last failure, failures since the start. */
  writeHealth(): WriteHealth {
    return { ...this.health };
  }

  hasRoom(n = 1): boolean {
    return this.store.unfinished + (this.flows?.held ?? 0) + this.queuedEvents + n <= this.maxEvents;
  }

  enqueue(events: CanonicalEvent[], extras?: EnqueueExtras): Promise<EnqueueResult> {
    if (this.closed) return Promise.reject(new AgentError('OUTBOX_CLOSED', 'outbox is closed', { retryable: true }));
    if (events.length > 0 && !this.hasRoom(events.length)) return Promise.reject(new OutboxFullError(this.maxEvents));
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.queue.push({ events, extras, resolve, reject });
      this.queuedEvents += events.length;
      this.scheduleFlush();
    });
  }

  /** Commit what callers already handed over, then refuse new events. */
  close(): void {
    this.clearFlushTimer();
    while (this.queue.length) this.flush();
    this.closed = true;
  }

  private scheduleFlush(): void {
    if (this.queuedEvents >= this.maxBatch) {
      // A full batch goes out on the next loop turn, not after the window.
      if (this.flushKind === 'immediate') return;
      this.clearFlushTimer();
      this.flushKind = 'immediate';
      this.flushTimer = setImmediate(() => this.flush());
      return;
    }
    if (this.flushKind) return;
    // A lone caller commits on the next loop turn: no added latency. When the
    // previous batch had several callers, load is concurrent: wait a little
    // for more of them to share the commit.
    if (this.lastBatchCallers > 1 && this.windowMs > 0) {
      this.flushKind = 'timeout';
      this.flushTimer = setTimeout(() => this.flush(), this.windowMs);
    } else {
      this.flushKind = 'immediate';
      this.flushTimer = setImmediate(() => this.flush());
    }
  }

  private clearFlushTimer(): void {
    if (this.flushKind === 'timeout') clearTimeout(this.flushTimer as NodeJS.Timeout);
    else if (this.flushKind === 'immediate') clearImmediate(this.flushTimer as NodeJS.Immediate);
    this.flushTimer = undefined;
    this.flushKind = undefined;
  }

  private flush(): void {
    this.flushTimer = undefined;
    this.flushKind = undefined;
    if (this.queue.length === 0) return;
    const batch: Waiter[] = [];
    let n = 0;
    while (this.queue.length > 0 && (batch.length === 0 || n + this.queue[0]!.events.length <= this.maxBatch)) {
      const w = this.queue.shift()!;
      batch.push(w);
      n += w.events.length;
    }
    this.queuedEvents -= n;
    this.lastBatchCallers = batch.length;
    let results: EnqueueResult[];
    try {
      results = this.writeBatch(batch);
    } catch (err) {
      this.failed(err, n);
      const e = new AgentError('OUTBOX_WRITE_FAILED', `outbox commit failed: ${(err as Error).message}`, { cause: err, retryable: true });
      for (const w of batch) w.reject(e);
      if (this.queue.length) this.scheduleFlush();
      return;
    }
    if (this.health.failingSince !== null) {
      this.store.log?.info({ failedFor: Date.now() - this.health.failingSince }, 'the outbox commits again: ingest resumes');
      this.health.failingSince = null;
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
    if (this.queue.length) this.scheduleFlush();
  }

  /** A commit failed (a full disk, an I/O error): one error line per episode, as sources retry while it lasts. */
  private failed(err: unknown, events: number): void {
    const at = Date.now();
    const code = (err as { code?: string }).code ?? 'UNKNOWN';
    this.health.lastError = { code, message: (err as Error).message, at };
    this.health.failures++;
    if (this.health.failingSince === null) {
      this.health.failingSince = at;
      this.store.log?.error({ err, events, code }, 'the outbox cannot commit: new events are refused (sources hold them) until it can again');
    } else this.store.log?.debug({ code, events }, 'outbox commit failed again');
  }

  /**
   * An id already in the queue: the same fact seen twice (a resend, a retained
   * message) is a duplicate; the same id with other content (a MES resending a
   * corrected message) is kept as a conflict with both versions.
   */
  private conflicting(e: CanonicalEvent, now: number): boolean {
    const row = this.st.existing.get(e.id) as { id: string; type: string; skey: string; body: string } | undefined;
    if (!row) return false; // held or rolled up by a flow: compared there as ids only
    const kept = eventOf(row);
    if (sameFact(kept, e)) return false;
    this.st.conflict.run(e.id, JSON.stringify(kept), JSON.stringify(e), now);
    this.store.log?.warn(
      { id: e.id, kept, refused: e },
      'an event came again with the same id and other content: the first is kept, the second is kept as a conflict for a person',
    );
    return true;
  }

  private writeBatch(batch: Waiter[]): EnqueueResult[] {
    const now = this.store.now();
    const flows = this.flows;
    const out = this.store.write(() => {
      flows?.refresh();
      const results: EnqueueResult[] = [];
      let queued = 0;
      let parked = 0;
      let duplicates = 0;
      let conflicts = 0;
      let invalid = 0;
      for (const w of batch) {
        const r: EnqueueResult = { inserted: 0, duplicates: 0 };
        for (const e of w.events) {
          const implausible = this.eventTime ? implausibleTime(e.occurredAt, now, this.eventTime) : undefined;
          if (flows) {
            // Held by a flow, a duplicate of a held or rolled-up event, or queued after its key's held events.
            // An event held for its time is never held by a flow: a person sees it at once.
            const admission = flows.admit(e, now, implausible !== undefined);
            if (admission === 'held') {
              r.inserted++;
              r.held = (r.held ?? 0) + 1;
              continue;
            }
            if (admission === 'duplicate') {
              r.duplicates++;
              continue;
            }
            if (flows.released) {
              r.released = (r.released ?? 0) + flows.released;
              queued += flows.released;
              flows.released = 0;
            }
          }
          const park =
            implausible === undefined ? undefined : { reason: implausible, code: IMPLAUSIBLE_TIME, blocking: !this.eventTime!.nonBlocking?.has(e.type) };
          if (this.keys.insert(e, now, park)) {
            r.inserted++;
            if (park) {
              parked++;
              r.implausible = (r.implausible ?? 0) + 1;
              this.store.log?.warn(
                { id: e.id, type: e.type, sequenceKey: e.sequenceKey, occurredAt: e.occurredAt, reason: park.reason },
                'event held: its time is implausible',
              );
            } else queued++;
          } else {
            r.duplicates++;
            if (this.conflicting(e, now)) r.conflicts = (r.conflicts ?? 0) + 1;
          }
        }
        for (const [name, value] of w.extras?.ruleState ?? []) this.st.ruleState.run(name, JSON.stringify(value));
        for (const bad of w.extras?.invalid ?? []) {
          this.st.invalid.run(bad.source, bad.origin, bad.reason, bad.raw, bad.encoding ?? 'utf8', bad.receivedAt, now);
          invalid++;
        }
        duplicates += r.duplicates;
        conflicts += r.conflicts ?? 0;
        results.push(r);
      }
      this.store.bump(queued, 'pending');
      this.store.bump(parked, 'parked');
      this.implausibleTimes += parked;
      this.store.bump(duplicates, 'duplicates');
      this.store.bump(conflicts, 'conflicts');
      this.store.bump(invalid, 'invalid');
      return results;
    });
    this.commits++;
    return out;
  }
}

/** Same type, key, time of the fact and payload (the time compared as an instant, the payload whatever its key order). */
function sameFact(a: CanonicalEvent, b: CanonicalEvent): boolean {
  return (
    a.type === b.type &&
    a.sequenceKey === b.sequenceKey &&
    Date.parse(a.occurredAt) === Date.parse(b.occurredAt) &&
    canonical(a.payload) === canonical(b.payload)
  );
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
