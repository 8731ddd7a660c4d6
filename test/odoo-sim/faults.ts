/**
 * Faults the simulator injects on demand, from a test (`sim.faults.set(...)`)
 * or over HTTP (`POST /__sim/faults` with the same JSON, for the demo).
 */

export type FaultKind =
  /** Stop listening and drop open connections (clients get ECONNREFUSED); `forMs` reopens by itself. */
  | 'refuse'
  /** Accept the request and never answer (clients hit their headers timeout). */
  | 'hang'
  /** Answer with an HTTP status from a proxy in front of Odoo (`status`, default 503; `retryAfter` adds the header). */
  | 'status'
  /** Fail the call with psycopg2.errors.SerializationFailure (nothing is committed). */
  | 'serialization'
  /** Make `load()` answer {ids: false, messages: ["could not serialize access ..."]} at HTTP 200. */
  | 'loadConflict'
  /** Commit the call, then destroy the socket instead of answering. */
  | 'dropAfterCommit'
  /** The API key is refused: JSON-2 401, JSON-RPC AccessDenied / authenticate false. */
  | 'revokeKey'
  /** Delay every answer by `ms`. */
  | 'latency';

export interface FaultSpec {
  kind: FaultKind;
  /** Only the next N matching calls (default: every call until cleared or `forMs` ends). */
  calls?: number;
  /** Only for this long, from now. */
  forMs?: number;
  /** For `status`: the HTTP status (503, 502, 504, 429, ...). */
  status?: number;
  /** For `status`: Retry-After header (seconds, or an HTTP date string). */
  retryAfter?: number | string;
  /** For `latency`: the delay. */
  ms?: number;
  /** Only calls on this model. */
  model?: string;
  /** Only calls of this method. */
  method?: string;
}

export interface ActiveFault extends FaultSpec {
  /** Calls left (undefined: no limit). */
  remaining?: number;
  /** Ends at this time (ms since epoch). */
  until?: number;
  /** How many calls it hit so far. */
  hits: number;
}

export interface CallInfo {
  model?: string;
  method?: string;
}

const KINDS: FaultKind[] = ['refuse', 'hang', 'status', 'serialization', 'loadConflict', 'dropAfterCommit', 'revokeKey', 'latency'];

export function isFaultSpec(v: unknown): v is FaultSpec {
  return !!v && typeof v === 'object' && KINDS.includes((v as { kind?: unknown }).kind as FaultKind);
}

export class SimFaults {
  private active: ActiveFault[] = [];

  constructor(
    private readonly onRefuse: (forMs: number | undefined) => void,
    private readonly onClear: (kind: FaultKind | undefined) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Add a fault. `refuse` acts at once (closes the listener). */
  set(spec: FaultSpec): void {
    if (!isFaultSpec(spec)) throw new Error(`unknown fault ${JSON.stringify(spec)}; kinds: ${KINDS.join(', ')}`);
    if (spec.kind === 'refuse') {
      this.onRefuse(spec.forMs);
      return;
    }
    this.active.push({
      ...spec,
      remaining: spec.calls,
      until: spec.forMs !== undefined ? this.now() + spec.forMs : undefined,
      hits: 0,
    });
  }

  /** Remove all faults, or those of one kind (and reopen the listener after `refuse`). */
  clear(kind?: FaultKind): void {
    this.active = kind ? this.active.filter((f) => f.kind !== kind) : [];
    this.onClear(kind);
  }

  list(): ActiveFault[] {
    this.expire();
    return this.active.map((f) => ({ ...f }));
  }

  /** Consume one hit of the first live fault of `kind` that matches the call. */
  take(kind: FaultKind, call: CallInfo = {}): ActiveFault | undefined {
    this.expire();
    const f = this.active.find((x) => x.kind === kind && (!x.model || x.model === call.model) && (!x.method || x.method === call.method));
    if (!f) return undefined;
    f.hits++;
    if (f.remaining !== undefined) {
      f.remaining--;
      if (f.remaining <= 0) this.active = this.active.filter((x) => x !== f);
    }
    return f;
  }

  /** Current latency to add (does not consume). */
  latencyMs(): number {
    this.expire();
    return this.active.filter((f) => f.kind === 'latency').reduce((s, f) => s + (f.ms ?? 0), 0);
  }

  private expire(): void {
    const t = this.now();
    this.active = this.active.filter((f) => f.until === undefined || f.until > t);
  }
}
