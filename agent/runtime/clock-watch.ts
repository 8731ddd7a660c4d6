import type { Logger } from '../log';
import type { Signal } from '../model/signal';
import { describeClock } from '../odoo/dry-run/judge';
import type { ClockOffset } from '../odoo/server-clock';

/**
 * Clocks are measured, not trusted. Odoo's clock comes from the `Date`
 * header of its answers (agent/odoo/server-clock.ts: every answer the client
 * gets anyway, no request of its own); each source's from its signals' source
 * time against their arrival. Past `clocks.warnOffsetS` a clock is marked on
 * the status page and in /metrics and logged once when it crosses the line
 * (and once when it is back).
 *
 * A source's offset is the largest `source time - arrival` seen in the last
 * 5 to 10 minutes: the way from the source only ever makes a reading arrive
 * later, so the largest is the closest to the clocks' difference (it is low
 * by the shortest delay, well under a second on a plant network). A reading
 * whose source time did not change since the last of its tag (the value a
 * source sends again on reconnect, stamped when it last changed) says nothing
 * about the clock and is left out.
 */

export interface ClockReading {
  /** `odoo`, or the source's name. */
  name: string;
  kind: 'odoo' | 'source';
  /** The other clock minus the gateway's, in ms: positive when it is ahead. */
  offsetMs: number;
  /** The true offset lies within offsetMs ± this (Odoo); for a source, its delivery delay is not known (0). */
  uncertaintyMs: number;
  samples: number;
  /** Whether it is past the warning threshold. */
  warning: boolean;
}

/** How long one window of a source's readings lasts; the estimate spans this window and the one before. */
export const SOURCE_WINDOW_MS = 5 * 60_000;

interface SourceClock {
  /** Last source time per tag (text, compared as is). */
  lastByTag: Map<string, string>;
  window: number;
  current: number;
  previous: number;
  samples: number;
}

export class ClockWatch {
  private readonly sources = new Map<string, SourceClock>();
  /** Sources whose signals carry no time of their own (stamped by the gateway on arrival). */
  private readonly stampedHere = new Set<string>();
  private readonly warned = new Set<string>();
  /** The signals of one message share their times (50 metrics of a Sparkplug message): each text is parsed once. */
  private readonly sourceTimes = new LastParsed();
  private readonly arrivals = new LastParsed();
  private odoo: ClockOffset | undefined;
  private thresholdMs: number;

  constructor(
    opts: { warnOffsetMs: number },
    private readonly log?: Logger,
  ) {
    this.thresholdMs = opts.warnOffsetMs;
  }

  set warnOffsetMs(ms: number) {
    this.thresholdMs = ms;
  }

  /** One signal: its source time against its arrival. Cheap enough for every signal. */
  observe(signal: Signal): void {
    if (signal.sourceTime === signal.receivedAt) {
      if (!this.stampedHere.has(signal.source)) this.stampedHere.add(signal.source);
      return;
    }
    let clock = this.sources.get(signal.source);
    if (!clock) {
      clock = { lastByTag: new Map(), window: -1, current: -Infinity, previous: -Infinity, samples: 0 };
      this.sources.set(signal.source, clock);
    }
    const before = clock.lastByTag.get(signal.tag);
    if (before === signal.sourceTime) return;
    clock.lastByTag.set(signal.tag, signal.sourceTime);
    const source = this.sourceTimes.parse(signal.sourceTime);
    const arrival = this.arrivals.parse(signal.receivedAt);
    if (!Number.isFinite(source) || !Number.isFinite(arrival)) return;
    const window = Math.floor(arrival / SOURCE_WINDOW_MS);
    if (window !== clock.window) {
      clock.previous = window === clock.window + 1 ? clock.current : -Infinity;
      clock.current = -Infinity;
      clock.window = window;
    }
    const offset = source - arrival;
    if (offset > clock.current) clock.current = offset;
    clock.samples++;
  }

  /** Odoo's clock as the client measured it so far (undefined before its first answer). */
  observeOdoo(estimate: ClockOffset | undefined): void {
    if (estimate) this.odoo = estimate;
  }

  /** Every measured clock, Odoo first, with whether it is past the threshold; logs each crossing once. */
  readings(): ClockReading[] {
    const out: ClockReading[] = [];
    if (this.odoo) out.push(this.judge('odoo', 'odoo', this.odoo.offsetMs, this.odoo.uncertaintyMs, this.odoo.samples));
    for (const [name, c] of this.sources) {
      const best = Math.max(c.current, c.previous);
      if (best === -Infinity) continue;
      out.push(this.judge(name, 'source', best, 0, c.samples));
    }
    return out;
  }

  /** Sources seen so far whose signals carry only the gateway's arrival time. */
  gatewayStamped(): string[] {
    return [...this.stampedHere].filter((s) => !this.sources.has(s));
  }

  /** Forget a source (removed from the config). */
  forget(source: string): void {
    this.sources.delete(source);
    this.stampedHere.delete(source);
    this.warned.delete(`source:${source}`);
  }

  private judge(name: string, kind: ClockReading['kind'], offsetMs: number, uncertaintyMs: number, samples: number): ClockReading {
    const key = `${kind}:${name}`;
    const beyond = Math.abs(offsetMs) - uncertaintyMs;
    const was = this.warned.has(key);
    // Back within only below 80% of the threshold, so a clock that hovers at it is logged once, not at every look.
    const warning = was ? beyond > this.thresholdMs * 0.8 : beyond > this.thresholdMs;
    if (warning && !was) {
      this.warned.add(key);
      this.log?.warn(
        { clock: name, kind, offsetMs, uncertaintyMs, thresholdMs: this.thresholdMs },
        `${describeOffset(name, offsetMs, uncertaintyMs)}, past the ${seconds(this.thresholdMs)} allowed (clocks.warnOffsetS): set both to NTP`,
      );
    } else if (!warning && was) {
      this.warned.delete(key);
      this.log?.info({ clock: name, kind, offsetMs, uncertaintyMs }, `${describeOffset(name, offsetMs, uncertaintyMs)}: within the threshold again`);
    }
    return { name, kind, offsetMs, uncertaintyMs, samples, warning };
  }
}

/** `the clock of source plc1 is 2.4 s ahead of this gateway's (± 0.3 s)`. */
export function describeOffset(name: string, offsetMs: number, uncertaintyMs: number): string {
  if (name === 'odoo') return describeClock(offsetMs, uncertaintyMs);
  const who = `the clock of source ${name}`;
  const within = uncertaintyMs > 0 ? ` (± ${seconds(uncertaintyMs)})` : '';
  if (Math.abs(offsetMs) <= uncertaintyMs) return `${who} agrees with this gateway's${within}`;
  return `${who} is ${seconds(Math.abs(offsetMs))} ${offsetMs > 0 ? 'ahead of' : 'behind'} this gateway's${within}`;
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 100 ? Math.round(s) : Math.round(s * 10) / 10} s`;
}

/** Date.parse of the last text seen, kept while the same text comes again. */
class LastParsed {
  private text = '';
  private ms = Number.NaN;

  parse(text: string): number {
    if (text !== this.text) {
      this.text = text;
      this.ms = Date.parse(text);
    }
    return this.ms;
  }
}
