import type { OutboxCounts } from '../buffer/outbox';
import type { StorageStatus } from '../runtime/storage-watch';
import type { SyncStatus } from '../sync/worker';
import { formatClock, formatCount, formatSpan } from './format';

/**
 * The three lines at the top of the status page, written for a supervisor
 * glancing at a tablet at 3 a.m.: is Odoo reachable (and since when not),
 * how much waits, and whether anything is at risk. Pure, so every case is a
 * row in a table test.
 */

export type Level = 'ok' | 'warn' | 'alarm';

export interface HeadlineInput {
  /** The plant's time zone for the times it names (unset: the gateway's). */
  timeZone?: string;
  now: number;
  /** When the agent started (ms). */
  startedAt: number;
  /** Whether an Odoo section is configured and sending is enabled. */
  odooConfigured: boolean;
  sync: SyncStatus | undefined;
  counts: OutboxCounts;
  oldestUnfinishedAt: number | null;
  /** Unfinished events the outbox holds at most. */
  maxEvents: number;
  /** Signals refused since start because the outbox was full. */
  refused: number;
  /** Events held by batch and roll-up flows until their schedule (received, not yet queued). */
  held?: number;
  /** Whether events can be stored now; absent: as if ok. */
  storage?: StorageStatus;
}

export interface HeadlineLine {
  level: Level;
  text: string;
}

export interface Headline {
  level: Level;
  odoo: HeadlineLine;
  backlog: HeadlineLine;
  safety: HeadlineLine;
}

const worst = (...levels: Level[]): Level => (levels.includes('alarm') ? 'alarm' : levels.includes('warn') ? 'warn' : 'ok');

export function odooLine(i: HeadlineInput): HeadlineLine {
  const s = i.sync;
  const when = (at: number) => `${formatClock(at, i.now, i.timeZone)} (${formatSpan(i.now - at)})`;
  if (!i.odooConfigured || !s) return { level: 'warn', text: 'Odoo is not configured: events are kept on this gateway and not sent.' };
  if (!s.running) return { level: 'warn', text: 'Sending to Odoo is stopped (the agent is shutting down).' };
  const err = s.lastError ? ` Last error: ${s.lastError.message}` : '';
  if (s.circuit === 'auth-failed') {
    return {
      level: 'alarm',
      text: `Odoo refuses the agent's API key since ${when(s.circuitOpenedAt ?? s.lastError?.at ?? i.startedAt)}. Sending is paused until the key is fixed.${err}`,
    };
  }
  if (s.circuit === 'open') {
    if (s.lastSuccessAt === null && s.circuitOpenedAt === null) {
      // Never reached since start: the worker begins with the circuit open and the first probe connects.
      return s.lastError
        ? { level: 'alarm', text: `Odoo DOWN: not reached since the agent started at ${when(i.startedAt)}.${err}` }
        : { level: 'warn', text: 'Connecting to Odoo…' };
    }
    return { level: 'alarm', text: `Odoo DOWN since ${when(s.circuitOpenedAt ?? s.lastSuccessAt ?? i.startedAt)}. The agent checks again by itself.${err}` };
  }
  const version = s.server ? ` (Odoo ${s.server.serverVersion})` : '';
  const last = s.lastSuccessAt !== null ? `, last answer ${formatSpan(i.now - s.lastSuccessAt)} ago` : '';
  return { level: 'ok', text: `Odoo connected${version}${last}.` };
}

export function backlogLine(i: HeadlineInput): HeadlineLine {
  const c = i.counts;
  const waiting = c.unfinished;
  const held = i.held ?? 0;
  const heldText =
    held > 0
      ? ` ${formatCount(held)} ${held === 1 ? 'event is' : 'events are'} held for a batch or roll-up flow and go${held === 1 ? 'es' : ''} out at its next release (Flows below).`
      : '';
  if (waiting === 0) {
    if (held > 0) return { level: 'ok', text: `Nothing waits to be sent now.${heldText}` };
    return i.odooConfigured ? { level: 'ok', text: 'Nothing waits: every event has been delivered to Odoo.' } : { level: 'ok', text: 'No events waiting.' };
  }
  const oldest =
    i.oldestUnfinishedAt !== null
      ? `, the oldest since ${formatClock(i.oldestUnfinishedAt, i.now, i.timeZone)} (${formatSpan(i.now - i.oldestUnfinishedAt)})`
      : '';
  const parked = c.parked > 0 ? ` ${formatCount(c.parked)} of them ${c.parked === 1 ? 'needs' : 'need'} a person (exception queue below).` : '';
  const flagged = c.flagged ?? 0;
  const flaggedText =
    flagged > 0
      ? ` ${formatCount(flagged)} ${flagged === 1 ? 'was' : 'were'} flagged at the edge: Odoo would refuse ${flagged === 1 ? 'it' : 'them'} (below).`
      : '';
  // Waiting is normal for a moment; it needs an eye when nothing drains it, a person is needed, or it has waited long.
  const draining = i.odooConfigured && i.sync?.running === true && i.sync.circuit === 'closed';
  const old = i.oldestUnfinishedAt !== null && i.now - i.oldestUnfinishedAt > 15 * 60_000;
  const level: Level = c.parked > 0 || flagged > 0 || !draining || old ? 'warn' : 'ok';
  return { level, text: `${formatCount(waiting)} ${waiting === 1 ? 'event waits' : 'events wait'} to be sent${oldest}.${parked}${flaggedText}${heldText}` };
}

export function safetyLine(i: HeadlineInput): HeadlineLine {
  const st = i.storage;
  if (st?.state === 'failing') {
    const since =
      st.write.failingSince !== null ? ` since ${formatClock(st.write.failingSince, i.now, i.timeZone)} (${formatSpan(i.now - st.write.failingSince)})` : '';
    return {
      level: 'alarm',
      text: `Events CANNOT BE STORED${since}: ${st.reasons.join('; ')}. The sources hold what they read and the agent takes it as soon as the outbox can commit again; free disk space on the gateway.`,
    };
  }
  // Held events count against the limit too.
  const stored = i.counts.unfinished + (i.held ?? 0);
  const full = stored >= i.maxEvents;
  if (full || i.refused > 0) {
    return {
      level: 'alarm',
      text:
        `${full ? `The outbox is FULL (${formatCount(stored)} of ${formatCount(i.maxEvents)} events): new input is refused and the sources are told to hold back. ` : ''}` +
        `${i.refused > 0 ? `${formatCount(i.refused)} signals were refused since the agent started. ` : ''}` +
        'Events already stored are safe; get Odoo reachable or clear the exception queue to make room.',
    };
  }
  const where = i.counts.unfinished > 0 && i.odooConfigured ? ' and will be sent, oldest first, as soon as Odoo answers' : '';
  const low = st?.state === 'low' ? ` Storage is running low: ${st.reasons.join('; ')}.` : '';
  return { level: low ? 'warn' : 'ok', text: `Nothing is lost: every event is stored on this gateway's disk${where}.${low}` };
}

export function headline(i: HeadlineInput): Headline {
  const odoo = odooLine(i);
  const backlog = backlogLine(i);
  const safety = safetyLine(i);
  return { level: worst(odoo.level, backlog.level, safety.level), odoo, backlog, safety };
}
