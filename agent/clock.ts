/**
 * The current time as ISO 8601 (UTC, milliseconds), as stamped on every
 * received signal. Formatting a Date costs about as much as the rest of
 * receiving an MQTT message, and at thousands of messages per second many
 * share a millisecond: the text is made once per millisecond.
 */
let lastMs = Number.NaN;
let lastIso = '';

export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
