/**
 * Scan times of one scanner, strictly increasing by at least 1 ms. Event ids
 * are made from source + scan time + code, so two scans of the same label
 * that arrive in the same millisecond (a scanner emptying its memory in one
 * burst) must not share a time, or they would count as one.
 */
export class ScanClock {
  private last = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The time of a scan read now, as ms since the epoch. */
  next(atMs?: number): number {
    let t = Math.floor(atMs ?? this.now());
    if (t <= this.last) t = this.last + 1;
    this.last = t;
    return t;
  }
}
