import type { z } from 'zod';

/**
 * A quick check built from a zod schema, for the event schemas that every
 * message passes through (docs/decisions.md 25).
 *
 * zod stays the one definition of what an event is: this file reads the
 * schema's own definition (zod 4 `_zod.def`) and builds plain functions from
 * it for the few kinds of schema the event model uses (strict objects,
 * strings with trim/length/pattern checks, numbers with bounds and safeint,
 * enums, literals, unions, optional and default, discriminated unions). It
 * does not explain failures: when the quick check says no, the caller asks
 * zod, which gives the answer and the reason. When the quick check says yes,
 * its output is what zod would return (same values, same key order), which
 * test/model/event-check.test.ts checks over thousands of generated inputs.
 *
 * A schema with anything else in it (a refinement, a transform, a check or
 * format this file does not know) gets no quick check at all (`compile`
 * returns undefined) and zod is used for everything.
 */

/** The quick check's "no": the value does not pass (or might not: ask zod). */
export const NO: unique symbol = Symbol('no');

export type QuickCheck = (value: unknown) => unknown;

/** zod 4's internal view of a schema (what `compile` reads). */
interface Internal {
  _zod: { def: Record<string, unknown> & { type: string } };
}

class Unsupported extends Error {}

function defOf(schema: unknown): Record<string, unknown> & { type: string } {
  const def = (schema as Internal | undefined)?._zod?.def;
  if (!def || typeof def.type !== 'string') throw new Unsupported('not a zod 4 schema');
  return def;
}

/** A check's definition (a check has no `type`, but `check`). */
function checkDefOf(check: unknown): Record<string, unknown> {
  const def = (check as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def;
  if (!def || typeof def.check !== 'string') throw new Unsupported('not a zod 4 check');
  return def;
}

/** A quick check for `schema`, or undefined when the schema uses something this file does not know. */
export function compile(schema: z.ZodType): QuickCheck | undefined {
  try {
    return build(schema);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

function build(schema: unknown): QuickCheck {
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return stringCheck(def);
    case 'number':
      return numberCheck(def);
    case 'literal': {
      const values = def.values as unknown[];
      return (v) => (values.includes(v) ? v : NO);
    }
    case 'enum': {
      const values = new Set(Object.values(def.entries as Record<string, unknown>));
      return (v) => (values.has(v) ? v : NO);
    }
    case 'union': {
      if ('discriminator' in def) return discriminatedCheck(def);
      if (def.inclusive === false) throw new Unsupported('exclusive union');
      const options = (def.options as unknown[]).map(build);
      return (v) => {
        for (const option of options) {
          const out = option(v);
          if (out !== NO) return out;
        }
        return NO;
      };
    }
    case 'object':
      return objectCheck(def);
    default:
      throw new Unsupported(`schema type ${def.type}`);
  }
}

function stringCheck(def: Record<string, unknown>): QuickCheck {
  const steps: Array<(v: string) => string | typeof NO> = [];
  // A format schema (z.iso.datetime()) carries its check itself.
  if (def.check !== undefined) steps.push(formatStep(def));
  for (const c of (def.checks as unknown[] | undefined) ?? []) {
    const cd = checkDefOf(c);
    switch (cd.check) {
      case 'overwrite': {
        const tx = cd.tx as (v: string) => unknown;
        steps.push((v) => {
          const out = tx(v);
          return typeof out === 'string' ? out : NO;
        });
        break;
      }
      case 'min_length': {
        const min = cd.minimum as number;
        steps.push((v) => (v.length >= min ? v : NO));
        break;
      }
      case 'max_length': {
        const max = cd.maximum as number;
        steps.push((v) => (v.length <= max ? v : NO));
        break;
      }
      case 'string_format':
        steps.push(formatStep(cd));
        break;
      default:
        throw new Unsupported(`string check ${String(cd.check)}`);
    }
  }
  return (v) => {
    if (typeof v !== 'string') return NO;
    let s: string | typeof NO = v;
    for (const step of steps) {
      s = step(s);
      if (s === NO) return NO;
    }
    return s;
  };
}

/** Formats whose zod check is exactly a test of their pattern. */
const PATTERN_FORMATS = new Set(['datetime', 'regex']);

function formatStep(def: Record<string, unknown>): (v: string) => string | typeof NO {
  const pattern = def.pattern;
  if (def.check !== 'string_format' || !PATTERN_FORMATS.has(def.format as string) || !(pattern instanceof RegExp)) {
    throw new Unsupported(`string format ${String(def.format)}`);
  }
  return (v) => {
    pattern.lastIndex = 0;
    return pattern.test(v) ? v : NO;
  };
}

function numberCheck(def: Record<string, unknown>): QuickCheck {
  const steps: Array<(v: number) => boolean> = [];
  for (const c of (def.checks as unknown[] | undefined) ?? []) {
    const cd = checkDefOf(c);
    const value = cd.value as number;
    switch (cd.check) {
      case 'greater_than':
        steps.push(cd.inclusive ? (v) => v >= value : (v) => v > value);
        break;
      case 'less_than':
        steps.push(cd.inclusive ? (v) => v <= value : (v) => v < value);
        break;
      case 'number_format':
        if (cd.format !== 'safeint') throw new Unsupported(`number format ${String(cd.format)}`);
        steps.push((v) => Number.isSafeInteger(v));
        break;
      default:
        throw new Unsupported(`number check ${String(cd.check)}`);
    }
  }
  return (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return NO;
    for (const step of steps) if (!step(v)) return NO;
    return v;
  };
}

interface Field {
  key: string;
  check: QuickCheck;
  /** optional(): may be missing or undefined. */
  optional: boolean;
  /** default(): the value used when missing or undefined. */
  fallback?: () => unknown;
}

function field(key: string, schema: unknown): Field {
  const def = defOf(schema);
  if (def.type === 'optional') return { key, check: build(def.innerType), optional: true };
  if (def.type === 'default') {
    // zod reads its default on every parse (a function default is called each time): so does this.
    const sample: unknown = def.defaultValue;
    if (sample !== null && typeof sample === 'object') throw new Unsupported('default that is an object');
    return { key, check: build(def.innerType), optional: false, fallback: () => def.defaultValue };
  }
  return { key, check: build(schema), optional: false };
}

function objectCheck(def: Record<string, unknown>): QuickCheck {
  const catchall = def.catchall === undefined ? undefined : defOf(def.catchall).type;
  // Strict objects only: with zod's default (strip) unknown keys would have to be dropped, not refused.
  if (catchall !== 'never') throw new Unsupported('object that is not strict');
  const shape = def.shape as Record<string, unknown>;
  const fields = Object.keys(shape).map((k) => field(k, shape[k]));
  const known = new Set(fields.map((f) => f.key));
  return (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return NO;
    const input = v as Record<string, unknown>;
    for (const k in input) if (!known.has(k) || !Object.prototype.hasOwnProperty.call(input, k)) return NO;
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const value = input[f.key];
      if (value === undefined) {
        if (f.fallback) {
          out[f.key] = f.fallback();
          continue;
        }
        if (!f.optional) return NO;
        // zod keeps a key that was there with undefined, and leaves out a missing one.
        if (f.key in input) out[f.key] = undefined;
        continue;
      }
      const checked = f.check(value);
      if (checked === NO) return NO;
      out[f.key] = checked;
    }
    return out;
  };
}

function discriminatedCheck(def: Record<string, unknown>): QuickCheck {
  const key = def.discriminator as string;
  const byValue = new Map<unknown, QuickCheck>();
  for (const option of def.options as unknown[]) {
    const od = defOf(option);
    const tag = (od.shape as Record<string, unknown> | undefined)?.[key];
    if (!tag || defOf(tag).type !== 'literal') throw new Unsupported('discriminator that is not a literal');
    const check = objectCheck(od);
    for (const value of defOf(tag).values as unknown[]) {
      if (byValue.has(value)) throw new Unsupported('discriminator value used twice');
      byValue.set(value, check);
    }
  }
  return (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return NO;
    const check = byValue.get((v as Record<string, unknown>)[key]);
    return check ? check(v) : NO;
  };
}
