import { wallTime, type WallTime } from '../model/plant-time';

/** Small pure helpers for the status page: escaping and the way times and numbers read. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value made safe for HTML. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** "45 s", "12 min", "3 h 05 min", "2 d 4 h". Negative spans (clock skew) read as "0 s". */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  const d = Math.floor(h / 24);
  return `${d} d ${h % 24} h`;
}

/** "12 min ago", or "never". */
export function formatAge(at: number | string | null | undefined, now: number): string {
  const t = toMs(at);
  return t === null ? 'never' : `${formatSpan(now - t)} ago`;
}

/**
 * Plant time (`timeZone`, plant.timezone; unset: the gateway's local time):
 * "14:07:31" for today, "2026-11-25 14:07" for another day.
 */
export function formatClock(at: number | string | null | undefined, now: number, timeZone?: string): string {
  const t = toMs(at);
  if (t === null) return '-';
  const d = wall(t, timeZone);
  const today = wall(now, timeZone);
  const hms = `${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}`;
  if (d.year === today.year && d.month === today.month && d.day === today.day) return hms;
  return `${d.year}-${pad(d.month)}-${pad(d.day)} ${hms.slice(0, 5)}`;
}

function wall(ms: number, timeZone: string | undefined): WallTime {
  if (timeZone) return wallTime(ms, timeZone);
  const d = new Date(ms);
  return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds() };
}

/** 1234567 -> "1 234 567" (a thin space reads well on a tablet in every locale). */
export function formatCount(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/** At most `max` characters, with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function toMs(at: number | string | null | undefined): number | null {
  if (at === null || at === undefined) return null;
  const t = typeof at === 'number' ? at : Date.parse(at);
  return Number.isFinite(t) ? t : null;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
