/**
 * Circuit breaker for the Odoo link. Closed: send. After `failureThreshold`
 * transient failures in a row it opens: nothing is sent; a cheap probe runs
 * after probeIntervalMs, doubling up to maxProbeIntervalMs. A successful probe
 * closes it again. An authentication failure holds it open until a probe
 * with the key succeeds.
 */
export type CircuitState = 'closed' | 'open' | 'auth-failed';

export interface CircuitOptions {
  failureThreshold: number;
  probeIntervalMs: number;
  maxProbeIntervalMs: number;
}

export class Circuit {
  state: CircuitState = 'closed';
  private failures = 0;
  private probeDelay: number;
  /** When the next probe may run (ms), while open. */
  nextProbeAt = 0;
  openedAt: number | null = null;
  lastReason: string | null = null;

  constructor(private readonly opts: CircuitOptions) {
    this.probeDelay = opts.probeIntervalMs;
  }

  success(): void {
    this.failures = 0;
  }

  /** A transient failure; returns true when this one opened the circuit. */
  transientFailure(now: number, reason: string): boolean {
    this.failures++;
    this.lastReason = reason;
    if (this.state === 'closed' && this.failures >= this.opts.failureThreshold) {
      this.open(now, 'open');
      return true;
    }
    return false;
  }

  authFailure(now: number, reason: string): void {
    this.lastReason = reason;
    this.open(now, 'auth-failed');
  }

  private open(now: number, state: CircuitState): void {
    if (this.state === 'closed') this.openedAt = now;
    this.state = state;
    this.probeDelay = this.opts.probeIntervalMs;
    this.nextProbeAt = now + this.probeDelay;
  }

  probeFailed(now: number, reason: string, auth = false): void {
    this.lastReason = reason;
    if (auth) this.state = 'auth-failed';
    this.probeDelay = Math.min(this.opts.maxProbeIntervalMs, this.probeDelay * 2);
    this.nextProbeAt = now + this.probeDelay;
  }

  probeSucceeded(): void {
    this.state = 'closed';
    this.failures = 0;
    this.openedAt = null;
    this.probeDelay = this.opts.probeIntervalMs;
  }
}
