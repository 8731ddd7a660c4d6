/**
 * Throughput of the last hour, minute by minute, kept in memory only (it
 * starts empty after a restart). The status page samples two running totals
 * every few seconds: events received into the outbox and events delivered to
 * Odoo. The difference between two samples lands in the minute of the later
 * one. A total that goes down (a restart of its counter, a prune) is taken as
 * a new start, never as negative throughput.
 */

export interface MinuteCounts {
  /** Start of the minute (ms since epoch). */
  minute: number;
  received: number;
  sent: number;
}

export class ThroughputHistory {
  private readonly buckets: MinuteCounts[] = [];
  private last: { received: number; sent: number } | undefined;

  constructor(private readonly keepMinutes = 60) {}

  /** Record the running totals as of `now`. The first sample only sets the starting point. */
  sample(now: number, totals: { received: number; sent: number }): void {
    const prev = this.last;
    this.last = { ...totals };
    if (!prev) return;
    const received = Math.max(0, totals.received - prev.received);
    const sent = Math.max(0, totals.sent - prev.sent);
    const minute = Math.floor(now / 60_000) * 60_000;
    // When the clock went back, the newest minute takes the counts rather than history being rewritten.
    let b = this.buckets[this.buckets.length - 1];
    if (!b || b.minute < minute) {
      b = { minute, received: 0, sent: 0 };
      this.buckets.push(b);
    }
    b.received += received;
    b.sent += sent;
    const oldest = minute - (this.keepMinutes - 1) * 60_000;
    while (this.buckets.length && this.buckets[0]!.minute < oldest) this.buckets.shift();
  }

  /** The last `minutes` minutes up to the one holding `now`, oldest first, with empty minutes filled in. */
  series(minutes: number, now: number): MinuteCounts[] {
    const current = Math.floor(now / 60_000) * 60_000;
    const out: MinuteCounts[] = [];
    for (let i = minutes - 1; i >= 0; i--) {
      const minute = current - i * 60_000;
      const b = this.buckets.find((x) => x.minute === minute);
      out.push({ minute, received: b?.received ?? 0, sent: b?.sent ?? 0 });
    }
    return out;
  }

  /** Sums over the last `minutes` minutes. */
  total(minutes: number, now: number): { received: number; sent: number } {
    return this.series(minutes, now).reduce((a, b) => ({ received: a.received + b.received, sent: a.sent + b.sent }), { received: 0, sent: 0 });
  }
}
