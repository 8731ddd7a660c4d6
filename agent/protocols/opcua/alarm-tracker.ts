import type { Signal } from '../../model/signal';
import { alarmSignal, alarmTag, type AlarmFields } from './alarm-decode';

/** What the tracker remembers of one alarm it reported. */
interface Known {
  /** The last event of this alarm that became a signal and its state (a refresh re-sends it with the same EventId). */
  key: string;
  last: AlarmFields;
}

/**
 * The alarms of one `alarms` entry of a source, across reconnects and server
 * restarts: which are active, which event of each was reported last.
 *
 * - An event whose EventId was already reported for that alarm (a refresh
 *   re-sending a known state) is not reported again.
 * - A refresh (from the agent's ConditionRefresh call to the server's
 *   RefreshEnd) re-sends every alarm the server still retains. An alarm the agent knows as active that the refresh does
 *   not mention has cleared while the agent was not listening (a server
 *   restart that forgot it, a connection loss longer than the session): it is
 *   reported inactive at the end of the refresh, marked `inferred`.
 */
export class AlarmTracker {
  private readonly known = new Map<string, Known>();
  /** Tags mentioned during the refresh in progress, or null outside a refresh. */
  private refreshing: Set<string> | null = null;
  /** Refreshes completed (RefreshEnd received). */
  refreshes = 0;

  constructor(
    private readonly source: string,
    private readonly alarms: string,
  ) {}

  /** A transition from the server: its signal, or null when it repeats what was reported. */
  onAlarm(a: AlarmFields, receivedAt: string): Signal | null {
    const tag = alarmTag(a);
    this.refreshing?.add(tag);
    const before = this.known.get(tag);
    const key = stateKey(a);
    if (before && before.key === key) return null;
    if (a.active || a.retain) this.known.set(tag, { key, last: a });
    else this.known.delete(tag);
    return alarmSignal(this.source, this.alarms, a, receivedAt, this.refreshing ? { refresh: true } : {});
  }

  /** The agent is about to call ConditionRefresh: what arrives from now until RefreshEnd is the server's current list. */
  beginRefresh(): void {
    this.refreshing = new Set();
  }

  /** The server refused the refresh: no end will come. */
  cancelRefresh(): void {
    this.refreshing = null;
  }

  /** The end of a refresh: alarms known as active that it did not mention, reported inactive. */
  onRefreshEnd(receivedAt: string): Signal[] {
    const seen = this.refreshing;
    this.refreshing = null;
    if (!seen) return [];
    this.refreshes += 1;
    const out: Signal[] = [];
    for (const [tag, k] of this.known) {
      if (seen.has(tag)) continue;
      this.known.delete(tag);
      if (!k.last.active) continue;
      const cleared: AlarmFields = {
        ...k.last,
        active: false,
        retain: false,
        time: receivedAt,
        transitionTime: receivedAt,
        message: `no longer reported by the server (cleared while the agent was not connected); last message: ${k.last.message}`,
      };
      out.push(alarmSignal(this.source, this.alarms, cleared, receivedAt, { inferred: true }));
    }
    return out;
  }

  /** Alarms known as active now. */
  get activeCount(): number {
    let n = 0;
    for (const k of this.known.values()) if (k.last.active) n += 1;
    return n;
  }
}

/** An event and the state it reports: the same EventId with the same state is a repeat. */
function stateKey(a: AlarmFields): string {
  return JSON.stringify([a.eventId, a.active, a.acked, a.severity, a.message, a.retain, a.transitionTime]);
}
