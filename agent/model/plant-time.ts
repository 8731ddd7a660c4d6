/**
 * The plant's wall clock: its IANA time zone (`plant.timezone`) and shift
 * calendar (`plant.shifts`). Events stay in UTC; shifts, days and the times
 * the page shows are in plant time. Pure, on the platform's time zone data
 * (Intl), daylight saving time included:
 *
 * - a shift that spans a change lasts an hour less (spring) or more (autumn);
 * - a start the clocks skip (02:30 on the spring night in Europe/Berlin) is
 *   taken as the moment after the gap (03:00 local);
 * - a start the clocks pass twice (02:30 on the autumn night) is the first.
 */

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export interface ShiftDefinition {
  name: string;
  /** Local start, `HH:MM` (24 h). */
  start: string;
}

export interface Shift {
  name: string;
  /** The plant's date the shift began on, `YYYY-MM-DD` (a night shift belongs to the evening it started). */
  day: string;
  startMs: number;
  /** The next shift's start. */
  endMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Why `timeZone` is not an IANA time zone this platform knows, or undefined when it is. */
export function timeZoneProblem(timeZone: string): string | undefined {
  if (timeZone.trim() === '') return 'a time zone name is required, like Europe/Berlin';
  try {
    formatter(timeZone);
    return undefined;
  } catch {
    return `"${timeZone}" is not a time zone this system knows: use an IANA name like Europe/Berlin, America/Chicago or UTC`;
  }
}

/** The gateway's own time zone (what schedules use when plant.timezone is not set). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The wall clock in `timeZone` at the instant `ms`. */
export function wallTime(ms: number, timeZone: string): WallTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** The zone's offset from UTC at `ms`, in ms (Europe/Berlin in summer: +7 200 000). */
export function zoneOffset(ms: number, timeZone: string): number {
  const s = Math.floor(ms / 1000) * 1000;
  const w = wallTime(s, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - s;
}

/** The instant a wall clock in `timeZone` shows `hour:minute` on a date (see the module comment for gaps and repeats). */
export function zonedTime(date: { year: number; month: number; day: number }, hour: number, minute: number, timeZone: string): number {
  const asUtc = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  const before = zoneOffset(asUtc - 86_400_000, timeZone);
  const after = zoneOffset(asUtc + 86_400_000, timeZone);
  const matches = [asUtc - before, asUtc - after].filter((t) => {
    const w = wallTime(t, timeZone);
    return w.hour === hour && w.minute === minute && w.day === date.day;
  });
  if (matches.length) return Math.min(...matches);
  // Skipped by the clocks: the moment the gap ends (the first instant of the new offset).
  let lo = asUtc - after;
  let hi = asUtc - before;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (mid <= lo) break;
    if (zoneOffset(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** `YYYY-MM-DD` of the plant's date at `ms`. */
export function plantDay(ms: number, timeZone: string): string {
  const w = wallTime(ms, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}

/** The instant the plant's day `YYYY-MM-DD` begins. */
export function dayStart(day: string, timeZone: string): number {
  const [year, month, d] = day.split('-').map(Number) as [number, number, number];
  return zonedTime({ year, month, day: d }, 0, 0, timeZone);
}

/** `HH:MM` (00:00 to 23:59) as minutes after midnight, or undefined. */
export function clockMinutes(text: string): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** Problems of a shift calendar, each with the index and field it is about. */
export function shiftProblems(shifts: readonly ShiftDefinition[]): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  const names = new Map<string, number>();
  const starts = new Map<number, number>();
  shifts.forEach((s, i) => {
    const first = names.get(s.name);
    if (first !== undefined) out.push({ path: [i, 'name'], message: `shift name "${s.name}" is already used by shifts[${first}]` });
    else names.set(s.name, i);
    const minutes = clockMinutes(s.start);
    if (minutes === undefined) {
      out.push({ path: [i, 'start'], message: `"${s.start}" is not a time of day: write it as HH:MM, 24-hour, like "06:00" or "22:30"` });
      return;
    }
    const same = starts.get(minutes);
    if (same !== undefined) out.push({ path: [i, 'start'], message: `shifts[${same}] already starts at ${s.start}` });
    else starts.set(minutes, i);
  });
  return out;
}

/** The shift under way at `ms`. `shifts` must be valid (shiftProblems) and not empty. */
export function shiftAt(ms: number, timeZone: string, shifts: readonly ShiftDefinition[]): Shift {
  const starts = shiftStarts(ms, timeZone, shifts);
  let i = starts.length - 1;
  while (i > 0 && starts[i]!.startMs > ms) i--;
  const s = starts[i]!;
  return { name: s.name, day: s.day, startMs: s.startMs, endMs: starts[i + 1]!.startMs };
}

/** The first shift change after `ms`. */
export function nextShiftChange(ms: number, timeZone: string, shifts: readonly ShiftDefinition[]): number {
  return shiftAt(ms, timeZone, shifts).endMs;
}

/** Every shift start from the day before `ms` to the day after, in time order. */
function shiftStarts(ms: number, timeZone: string, shifts: readonly ShiftDefinition[]): Array<{ name: string; day: string; startMs: number }> {
  const out: Array<{ name: string; day: string; startMs: number }> = [];
  const today = wallTime(ms, timeZone);
  const noon = Date.UTC(today.year, today.month - 1, today.day, 12);
  for (const offset of [-1, 0, 1]) {
    const d = new Date(noon + offset * 86_400_000);
    const date = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
    const day = `${date.year}-${pad(date.month)}-${pad(date.day)}`;
    for (const s of shifts) {
      const minutes = clockMinutes(s.start)!;
      out.push({ name: s.name, day, startMs: zonedTime(date, Math.floor(minutes / 60), minutes % 60, timeZone) });
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** `2026-03-29 06:00` (plant time) for pages and reports. */
export function formatPlantTime(ms: number, timeZone: string, withSeconds = false): string {
  const w = wallTime(ms, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}${withSeconds ? `:${pad(w.second)}` : ''}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
