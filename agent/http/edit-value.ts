/**
 * What a supervisor types into the edit form is text; the event needs the
 * field's own type. The field's current value decides: a number stays a
 * number, true/false stay booleans, text stays text. For a field the event
 * does not have yet, text is tried first and, when the text is a number,
 * the number after it (the outbox checks the result against the event's schema).
 */

/** `payload.` prefix optional; letters, digits and _ in dotted segments. Never a segment that reaches into JavaScript's object machinery. */
const FIELD = /^(payload\.)?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

export function fieldPath(field: string): string[] | undefined {
  const f = field.trim();
  if (f.length > 120 || !FIELD.test(f)) return undefined;
  const path = f.replace(/^payload\./, '').split('.');
  return path.some((s) => FORBIDDEN.has(s)) ? undefined : path;
}

export function currentValue(payload: unknown, path: string[]): unknown {
  let cur = payload;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

export type Candidates = { ok: true; values: unknown[] } | { ok: false; reason: string };

/** The values to try, in order, for `text` typed into a field whose value is now `current`. */
export function editCandidates(current: unknown, text: string): Candidates {
  const t = text.trim();
  if (t === '') return { ok: false, reason: 'enter a value' };
  const asNumber = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? Number(t) : NaN;
  if (typeof current === 'number') {
    return Number.isFinite(asNumber) ? { ok: true, values: [asNumber] } : { ok: false, reason: `"${t}" is not a number (this field holds a number)` };
  }
  if (typeof current === 'boolean') {
    if (t === 'true' || t === 'false') return { ok: true, values: [t === 'true'] };
    return { ok: false, reason: 'this field holds true or false' };
  }
  if (typeof current === 'string') return { ok: true, values: [t] };
  if (current !== undefined && current !== null) return { ok: false, reason: 'this field holds a list or a group of values; it cannot be edited here' };
  return { ok: true, values: Number.isFinite(asNumber) ? [t, asNumber] : [t] };
}
