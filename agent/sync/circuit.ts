/**
 * Circuit breaker for the Odoo link. Closed: send. Open: nothing is sent; a
 * cheap probe runs now and then, and the first that succeeds closes it, as
 * does any request still out that comes back done.
 *
 * - No answer at all (refused, reset, DNS, timeout) opens it at once, and it
 *   probes every `linkProbeIntervalMs` however long the cut lasts: a probe is
 *   one connection attempt, and a WAN that is back is used within that long.
 * - Whole requests failing with an answer (5xx, lock conflicts, 429) open it
 *   after `failureThreshold` in a row. Odoo is there but not serving: probes
 *   start at `probeIntervalMs` and double up to `maxProbeIntervalMs`, so a
 *   server that is restarting or overloaded gets room.
 * - A refused key opens it at once and holds it (`auth-failed`) until a probe
 *   with the key succeeds, probing at the growing cadence: Odoo counts every
 *   refused login against the plant's address and locks it out after a few.
 */
export type CircuitState = 'closed' | 'open' | 'auth-failed';

export interface CircuitOptions {
  failureThreshold: number;
  probeIntervalMs: number;
  maxProbeIntervalMs: number;
  /** Probe this often while Odoo gives no answer (default 1000). */
  linkProbeIntervalMs?: number;
}

/** What a failed probe said: no answer, an answer that is a failure, or the key refused. */
export type ProbeFailure = 'no-answer' | 'answered' | 'auth';

export class Circuit {
  state: CircuitState = 'closed';
  private failures = 0;
  private probeDelay: number;
  private readonly linkProbeMs: number;
  /** When the next probe may run (ms), while open. */
  nextProbeAt = 0;
  openedAt: number | null = null;
  lastReason: string | null = null;

  constructor(private readonly opts: CircuitOptions) {
    this.probeDelay = opts.probeIntervalMs;
    this.linkProbeMs = opts.linkProbeIntervalMs ?? 1000;
  }

  /** A request came back done; true when that closed the circuit (not one the key holds open). */
  success(): boolean {
    this.failures = 0;
    if (this.state !== 'open') return false;
    this.close();
    return true;
  }

  /** Every event of a request failed with an answer that may pass; true when this one opened the circuit. */
  transientFailure(now: number, reason: string): boolean {
    this.failures++;
    this.lastReason = reason;
    if (this.state === 'closed' && this.failures >= this.opts.failureThreshold) {
      this.open(now, 'open', this.opts.probeIntervalMs);
      return true;
    }
    return false;
  }

  /** Odoo gave no answer; true when this opened the circuit. */
  unreachable(now: number, reason: string): boolean {
    this.lastReason = reason;
    if (this.state === 'auth-failed') return false;
    const opened = this.state === 'closed';
    this.open(now, 'open', this.linkProbeMs);
    return opened;
  }

  authFailure(now: number, reason: string): void {
    this.lastReason = reason;
    this.open(now, 'auth-failed', this.opts.probeIntervalMs);
  }

  private open(now: number, state: CircuitState, firstProbeMs: number): void {
    if (this.state === 'closed') this.openedAt = now;
    this.state = state;
    this.probeDelay = this.opts.probeIntervalMs;
    this.nextProbeAt = now + firstProbeMs;
  }

  probeFailed(now: number, reason: string, failure: ProbeFailure): void {
    this.lastReason = reason;
    if (failure === 'auth') this.state = 'auth-failed';
    if (failure === 'no-answer') {
      // The link is away: watch it closely; growth starts over once Odoo answers.
      this.probeDelay = this.opts.probeIntervalMs;
      this.nextProbeAt = now + this.linkProbeMs;
      return;
    }
    this.probeDelay = Math.min(this.opts.maxProbeIntervalMs, this.probeDelay * 2);
    this.nextProbeAt = now + this.probeDelay;
  }

  probeSucceeded(): void {
    this.close();
  }

  private close(): void {
    this.state = 'closed';
    this.failures = 0;
    this.openedAt = null;
    this.probeDelay = this.opts.probeIntervalMs;
  }
}
