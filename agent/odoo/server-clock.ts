/**
 * Odoo's clock as read from the HTTP `Date` header of its answers. The header
 * holds whole seconds, so one answer only places the offset in a window of a
 * second plus the round trip; answers that straddle a second boundary narrow
 * it. The estimate is the middle of the window all answers agree on.
 */

export interface ClockOffset {
  /** Odoo's clock minus this gateway's, in ms: positive when Odoo is ahead. */
  offsetMs: number;
  /** The true offset lies within offsetMs ± this. */
  uncertaintyMs: number;
  /** Answers the estimate rests on. */
  samples: number;
}

export class ServerClock {
  private lo = -Infinity;
  private hi = Infinity;
  private samples = 0;

  /** One answer: its Date header, and when the request left and the answer arrived (local ms). */
  add(dateHeader: string | undefined, sentMs: number, receivedMs: number): void {
    if (!dateHeader || receivedMs < sentMs) return;
    const stamped = Date.parse(dateHeader);
    if (Number.isNaN(stamped)) return;
    // Odoo read its clock at some local moment t in [sent, received] and cut it to the second:
    // stamped <= t + offset < stamped + 1000.
    const lo = stamped - receivedMs;
    const hi = stamped + 1000 - sentMs;
    if (lo > this.hi || hi < this.lo) {
      // A clock stepped meanwhile: the earlier answers no longer hold.
      this.lo = lo;
      this.hi = hi;
      this.samples = 1;
      return;
    }
    this.lo = Math.max(this.lo, lo);
    this.hi = Math.min(this.hi, hi);
    this.samples++;
  }

  estimate(): ClockOffset | undefined {
    if (this.samples === 0) return undefined;
    return { offsetMs: Math.round((this.lo + this.hi) / 2), uncertaintyMs: Math.ceil((this.hi - this.lo) / 2), samples: this.samples };
  }
}
