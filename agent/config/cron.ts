import cron from 'node-cron';
import { z } from 'zod';

/**
 * Checks a schedule's cron expression field by field. node-cron's own
 * validation lets through ranges that run backwards (minute `1-0`) and steps
 * of any size (every 99999999999999999999 minutes), which then fire at times
 * nobody meant (decisions.md 29). Accepted here: five fields (minute hour day
 * month weekday) or six with seconds first; in each field `*`, a number, a
 * name (months jan-dec, weekdays sun-sat, or in full), a range `a-b`, a step
 * after `*` or a range (`/15`), and lists of these with `,`; or one of
 * @yearly @annually @monthly @weekly @daily @midnight @hourly.
 */

interface Field {
  name: string;
  min: number;
  max: number;
  /** What `*` stands for, when not min-max. */
  starMax?: number;
  names?: readonly string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const SECOND: Field = { name: 'second', min: 0, max: 59 };
const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  // 0 and 7 are both Sunday.
  { name: 'weekday', min: 0, max: 7, starMax: 6, names: WEEKDAYS },
];

const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Days in each month at most (February in a leap year). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const ITEM = /^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:\/([0-9]+))?$/i;

/** Why `expr` is not a cron expression the agent runs, or undefined when it is one. */
export function cronProblem(expr: string): string | undefined {
  const text = NICKNAMES[expr.trim().toLowerCase()] ?? expr;
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) return `has ${parts.length} fields; it needs 5, or 6 with seconds first`;
  const fields = parts.length === 6 ? [SECOND, ...FIELDS] : FIELDS;
  const sets: Array<Set<number>> = [];
  for (let i = 0; i < parts.length; i++) {
    const r = fieldValues(parts[i]!, fields[i]!);
    if (typeof r === 'string') return `${fields[i]!.name} "${parts[i]}": ${r}`;
    sets.push(r);
  }
  // With any weekday, a day that no chosen month has never comes (cron fires on day OR weekday otherwise).
  const [day, month, weekday] = sets.slice(-3) as [Set<number>, Set<number>, Set<number>];
  if (weekday.size >= 7 && ![...month].some((m) => [...day].some((d) => d <= MONTH_DAYS[m - 1]!))) {
    return 'never fires: no chosen month has the chosen days';
  }
  return undefined;
}

function fieldValues(text: string, field: Field): Set<number> | string {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = ITEM.exec(item);
    if (!m) return `"${item}" is not a number, name, *, range a-b or step /n`;
    const [, star, from, to, step] = m;
    let lo = field.min;
    let hi = field.starMax ?? field.max;
    if (!star) {
      const a = value(from!, field);
      if (typeof a === 'string') return a;
      lo = hi = a;
      if (to !== undefined) {
        const b = value(to, field);
        if (typeof b === 'string') return b;
        if (b < a) return `the range ${from}-${to} runs backwards (write two ranges, like 22-23,0-5)`;
        hi = b;
      } else if (step !== undefined) return `a step needs * or a range before it (${field.min}-${field.max}/${step}, not ${item})`;
    }
    let by = 1;
    if (step !== undefined) {
      const span = (field.starMax ?? field.max) - field.min + 1;
      by = step.length > 3 ? Infinity : Number(step);
      if (!(by >= 1 && by <= span)) return `step ${step} is not between 1 and ${span}`;
    }
    for (let v = lo; v <= hi; v += by) out.add(field.name === 'weekday' && v === 7 ? 0 : v);
  }
  return out;
}

function value(token: string, field: Field): number | string {
  if (/^[0-9]+$/.test(token)) {
    const n = token.length > 3 ? Infinity : Number(token);
    return n >= field.min && n <= field.max ? n : `${token} is not between ${field.min} and ${field.max}`;
  }
  const i = field.names?.indexOf(token.toLowerCase().slice(0, 3)) ?? -1;
  if (i < 0 || !isName(token, field)) return `"${token}" is not a ${field.name}${field.names ? ` (${field.names.join(' ')} or a number)` : ''}`;
  return field.name === 'month' ? i + 1 : i;
}

/** A three-letter name, or the full English name (node-cron reads both). */
function isName(token: string, field: Field): boolean {
  const t = token.toLowerCase();
  const full = field.name === 'month' ? FULL_MONTHS : FULL_WEEKDAYS;
  return t.length === 3 || full.includes(t);
}

const FULL_MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const FULL_WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

const CRON_HINT = 'must be a cron expression such as "17 3 * * *" (minute hour day month weekday)';

/** Add an issue when `v` is not a cron expression (cronProblem, then node-cron itself). */
export function checkCron(v: string, ctx: z.RefinementCtx): void {
  const problem = cronProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${CRON_HINT}: ${problem}` });
  else if (!cron.validate(v)) ctx.addIssue({ code: 'custom', message: CRON_HINT });
}

/** A config field holding a cron expression. */
export const cronExpr = z.string().superRefine(checkCron);
