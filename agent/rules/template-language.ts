/**
 * A tiny, pure template language for event fields built from signals.
 *
 *   "{{tags.lot}}"                         the value at a dotted path of the scope
 *   "WH/MO/{{value|pad:5}}"                text around placeholders makes a string
 *   "{{facts.workcenter:Press 1:production}}"  keys may hold `:`, spaces and `.`
 *
 * When the whole template is exactly one placeholder, the value keeps its type
 * (a number stays a number, a missing value stays undefined); otherwise the
 * result is a string, with missing values rendered as nothing.
 *
 * Paths: segments separated by `.`; a key that itself contains `.` is found too
 * (the longest key that exists wins). Arrays take numeric segments. Objects
 * with a `get(key)` method (a Map, the fact store) are asked with `get`.
 *
 * Filters, chained with `|`:
 *   number       to a number (`"42"` -> 42; text that is not a number gives NaN)
 *   string       to text
 *   trim, upper, lower
 *   pad:N        left-pad with zeros to N characters (`42|pad:5` -> `00042`)
 *   fixed:N      a number with N decimals, as text (`3.14159|fixed:1` -> `3.1`)
 *   default:X    X when the value is missing or empty
 *   json         JSON text of the value
 */

export type TemplateScope = Record<string, unknown>;

interface Placeholder {
  path: string[];
  filters: Array<{ name: string; arg: string | undefined }>;
}

type Part = string | Placeholder;

interface CompiledTemplate {
  parts: Part[];
  /** Set when the template is exactly one placeholder. */
  whole: Placeholder | undefined;
}

const FILTERS: Record<string, { needsArg: boolean; apply: (v: unknown, arg: string | undefined) => unknown }> = {
  number: { needsArg: false, apply: (v) => (v === undefined || v === null ? v : toNumberOrNaN(v)) },
  string: { needsArg: false, apply: (v) => (v === undefined || v === null ? v : toText(v)) },
  trim: { needsArg: false, apply: (v) => (typeof v === 'string' ? v.trim() : v) },
  upper: { needsArg: false, apply: (v) => (typeof v === 'string' ? v.toUpperCase() : v) },
  lower: { needsArg: false, apply: (v) => (typeof v === 'string' ? v.toLowerCase() : v) },
  pad: {
    needsArg: true,
    apply: (v, arg) => (v === undefined || v === null ? v : toText(v).padStart(Number(arg), '0')),
  },
  fixed: {
    needsArg: true,
    apply: (v, arg) => {
      if (v === undefined || v === null) return v;
      const n = toNumberOrNaN(v);
      return Number.isFinite(n) ? n.toFixed(Number(arg)) : toText(v);
    },
  },
  default: { needsArg: true, apply: (v, arg) => (v === undefined || v === null || v === '' ? arg : v) },
  json: { needsArg: false, apply: (v) => (v === undefined ? v : JSON.stringify(v)) },
};

const cache = new Map<string, CompiledTemplate>();
const CACHE_LIMIT = 1000;

/** Why a template cannot be rendered (unclosed braces, unknown filter), or undefined when it is fine. */
export function templateProblem(template: string): string | undefined {
  try {
    compile(template);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** True when the text holds at least one `{{...}}` placeholder. */
export function isTemplate(text: string): boolean {
  return text.includes('{{');
}

/**
 * Render one template against a scope. Exactly one placeholder keeps the
 * value's type; anything else gives a string. Throws on a malformed template
 * (check config with `templateProblem`).
 */
export function renderTemplate(template: string, scope: TemplateScope): unknown {
  const t = compile(template);
  if (t.whole) return evaluate(t.whole, scope);
  let out = '';
  for (const part of t.parts) out += typeof part === 'string' ? part : toText(evaluate(part, scope));
  return out;
}

/**
 * Render a map of fields: string values are templates, other values are kept
 * as they are; nested objects and arrays are rendered through. A field whose
 * result is undefined, null or empty text is left out, so an optional field
 * with no data is simply absent.
 */
export function renderFields(fields: Record<string, unknown>, scope: TemplateScope): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    const rendered = renderValue(value, scope);
    if (rendered === undefined || rendered === null || rendered === '') continue;
    out[key] = rendered;
  }
  return out;
}

/** Resolve a dotted path in a value (see the path rules above). */
export function resolvePath(root: unknown, path: string | string[]): unknown {
  const segments = typeof path === 'string' ? (path === '' ? [] : path.split('.')) : path;
  return walk(root, segments, 0);
}

function renderValue(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') return renderTemplate(value, scope);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, scope));
  if (value !== null && typeof value === 'object') return renderFields(value as Record<string, unknown>, scope);
  return value;
}

function evaluate(p: Placeholder, scope: TemplateScope): unknown {
  let v = walk(scope, p.path, 0);
  for (const f of p.filters) v = FILTERS[f.name]!.apply(v, f.arg);
  return v;
}

function walk(node: unknown, segments: string[], from: number): unknown {
  if (from === segments.length) return node;
  if (node === null || node === undefined) return undefined;
  // Longest key first, so `facts.workcenter:Line 1.2:production` finds the key with a dot in it.
  for (let to = segments.length; to > from; to--) {
    const key = segments.slice(from, to).join('.');
    const child = childOf(node, key);
    if (child === undefined) continue;
    const found = walk(child, segments, to);
    if (found !== undefined) return found;
  }
  return undefined;
}

function childOf(node: unknown, key: string): unknown {
  if (node === null || typeof node !== 'object') return undefined;
  const getter = (node as { get?: unknown }).get;
  if (typeof getter === 'function') return (getter as (k: string) => unknown).call(node, key);
  if (Array.isArray(node)) return /^\d+$/.test(key) ? node[Number(key)] : undefined;
  return Object.prototype.hasOwnProperty.call(node, key) ? (node as Record<string, unknown>)[key] : undefined;
}

function compile(template: string): CompiledTemplate {
  const hit = cache.get(template);
  if (hit) return hit;
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    if (open === -1) {
      parts.push(template.slice(i));
      break;
    }
    if (open > i) parts.push(template.slice(i, open));
    const close = template.indexOf('}}', open + 2);
    if (close === -1) throw new Error(`unclosed "{{" at character ${open + 1} of "${template}"`);
    parts.push(parsePlaceholder(template.slice(open + 2, close), template));
    i = close + 2;
  }
  const only = parts.length === 1 ? parts[0] : undefined;
  const compiled: CompiledTemplate = { parts, whole: only !== undefined && typeof only !== 'string' ? only : undefined };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(template, compiled);
  return compiled;
}

function parsePlaceholder(body: string, template: string): Placeholder {
  const [pathText, ...filterTexts] = body.split('|').map((s) => s.trim());
  if (!pathText) throw new Error(`empty placeholder "{{${body}}}" in "${template}"`);
  const filters = filterTexts.map((text) => {
    const colon = text.indexOf(':');
    const name = (colon === -1 ? text : text.slice(0, colon)).trim();
    const arg = colon === -1 ? undefined : text.slice(colon + 1).trim();
    const filter = FILTERS[name];
    if (!filter) throw new Error(`unknown filter "${name}" in "${template}" (known: ${Object.keys(FILTERS).join(', ')})`);
    if (filter.needsArg && arg === undefined) throw new Error(`filter "${name}" needs an argument (${name}:...) in "${template}"`);
    if ((name === 'pad' || name === 'fixed') && !/^\d{1,2}$/.test(arg ?? '')) {
      throw new Error(`filter "${name}" needs a whole number from 0 to 99 (${name}:5) in "${template}"`);
    }
    return { name, arg };
  });
  return { path: pathText.split('.'), filters };
}

function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? '';
}

function toNumberOrNaN(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') return Number(v.trim());
  return Number.NaN;
}
