/**
 * Whether an event's time of the fact is believable against the gateway's
 * clock when it is received. An event stamped far ahead (a source clock set
 * wrong, a local time sent as UTC) or years back (a controller whose clock
 * battery died) would write a wrong date into Odoo: the outbox holds it for a
 * person instead (decisions.md, "implausible event times are held").
 */

export interface EventTimeLimits {
  /** An event may be at most this far ahead of the gateway's clock (ms). */
  maxAheadMs: number;
  /** An event may be at most this old (ms). */
  maxAgeMs: number;
}

/** Code of an event held for its time (outbox error_code). */
export const IMPLAUSIBLE_TIME = 'IMPLAUSIBLE_TIME';

/** Why `occurredAt` is not believable at `nowMs`, or undefined when it is. */
export function implausibleTime(occurredAt: string, nowMs: number, limits: EventTimeLimits): string | undefined {
  const ms = Date.parse(occurredAt);
  if (!Number.isFinite(ms)) return `occurredAt ${JSON.stringify(occurredAt)} is not a time`;
  const ahead = ms - nowMs;
  if (ahead > limits.maxAheadMs) {
    return `the time of the fact (${occurredAt}) is ${span(ahead)} ahead of the gateway's clock (${iso(nowMs)}), more than the ${span(limits.maxAheadMs)} allowed (clocks.eventTime.maxAheadS): check the source's clock or time zone, then retry to send it as it is, or skip it`;
  }
  if (-ahead > limits.maxAgeMs) {
    return `the time of the fact (${occurredAt}) is ${span(-ahead)} before the gateway's clock (${iso(nowMs)}), older than the ${span(limits.maxAgeMs)} allowed (clocks.eventTime.maxAgeDays): check the source's clock, then retry to send it as it is, or skip it`;
  }
  return undefined;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/** `42 s`, `17 min`, `5.2 h`, `3 days`, `4.1 years`. */
export function span(ms: number): string {
  const s = Math.abs(ms) / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 3 * 86400) return `${round1(s / 3600)} h`;
  if (s < 730 * 86400) return `${Math.round(s / 86400)} days`;
  return `${round1(s / (365.25 * 86400))} years`;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
