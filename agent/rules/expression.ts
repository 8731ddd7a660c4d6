import jsonata from 'jsonata';

/**
 * Mapping expressions in JSONata (https://docs.jsonata.org), the language
 * Node-RED users already write. In a mapping field, text that starts with `=`
 * is an expression; anything else stays a template of the agent's own
 * language (agent/rules/template-language.ts) or a constant:
 *
 *   totalQuantity: "= value.good + value.rework"
 *   reason: "= $lookup($maps.lossReasons, value.code) ?: 'Equipment Failure'"
 *   startedAt: "= $fromMillis($toMillis(value.time) - value.duration_s * 1000)"
 *
 * Expressions are parsed when the config loads (a syntax error names its
 * character); each message is evaluated asynchronously (JSONata 2 only
 * evaluates asynchronously), with a time limit so a runaway expression fails
 * that message instead of holding the source.
 */

/** Text starting with this is an expression. */
export const EXPRESSION_PREFIX = '=';

/** Longest one evaluation may run before it fails (JSONata's own guard, checked between steps). */
export const EXPRESSION_TIMEOUT_MS = 250;

/** Deepest nesting of function calls one evaluation may reach. */
const EXPRESSION_STACK = 200;

export interface CompiledExpression {
  /** The expression as written, without the `=`. */
  readonly source: string;
  /** Evaluate against `input` (the message scope) with extra `$` variables; rejects with ExpressionError. */
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
  /** Each `$maps.<name>` read, with the offset of the name in the field text, to check them against the rule's maps. */
  readonly mapsRead: ReadonlyArray<{ name: string; offset: number }>;
}

/** Why an expression failed: JSONata's message, its code, and where in the field text (0-based). */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    /** Character of the field text (with its `=`) the failure points at, 0-based; undefined when JSONata gave none. */
    readonly offset: number | undefined,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/** True when the field text is an expression (starts with `=`). */
export function isExpression(text: string): boolean {
  return text.startsWith(EXPRESSION_PREFIX);
}

const cache = new Map<string, CompiledExpression>();
const CACHE_LIMIT = 1000;

/** Parse a field text that starts with `=`. Throws ExpressionError (with the offset in `text`) on a syntax error. */
export function compileExpression(text: string): CompiledExpression {
  const hit = cache.get(text);
  if (hit) return hit;
  const body = text.slice(EXPRESSION_PREFIX.length);
  const lead = body.length - body.trimStart().length;
  const source = body.trim();
  if (source === '') throw new ExpressionError('empty expression after "="', undefined, 0);
  let expr: jsonata.Expression;
  try {
    expr = jsonata(source, { timeout: EXPRESSION_TIMEOUT_MS, stack: EXPRESSION_STACK });
  } catch (err) {
    throw toExpressionError(err, EXPRESSION_PREFIX.length + lead);
  }
  const compiled: CompiledExpression = {
    source,
    mapsRead: mapsRead(expr.ast(), EXPRESSION_PREFIX.length + lead),
    async evaluate(input, bindings) {
      try {
        return plain(await expr.evaluate(input, bindings));
      } catch (err) {
        throw toExpressionError(err, EXPRESSION_PREFIX.length + lead);
      }
    },
  };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, compiled);
  return compiled;
}

/** Why a field text that starts with `=` is not a valid expression, with the character it points at; undefined when it is fine. */
export function expressionProblem(text: string, maps?: ReadonlySet<string>): { message: string; offset: number } | undefined {
  let compiled: CompiledExpression;
  try {
    compiled = compileExpression(text);
  } catch (err) {
    const e = err as ExpressionError;
    return { message: `expression does not parse: ${e.message}${e.code ? ` (${e.code})` : ''}`, offset: e.offset ?? 0 };
  }
  if (maps) {
    const unknown = compiled.mapsRead.find((read) => !maps.has(read.name));
    if (unknown !== undefined) {
      const known = [...maps].join(', ') || 'none';
      return { message: `expression reads $maps.${unknown.name}, which this rule does not define (maps: ${known})`, offset: unknown.offset };
    }
  }
  return undefined;
}

/** A failure from JSONata (a plain object with code, position, message) as an ExpressionError; `shift` is where the expression starts in the field text. */
function toExpressionError(err: unknown, shift: number): ExpressionError {
  if (err instanceof ExpressionError) return err;
  const e = (err ?? {}) as { message?: unknown; code?: unknown; position?: unknown };
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  const code = typeof e.code === 'string' ? e.code : undefined;
  // JSONata's position is 1-based, at the last character of the token it stopped at.
  const offset = typeof e.position === 'number' && e.position > 0 ? shift + e.position - 1 : undefined;
  return new ExpressionError(message, code, offset);
}

/** Every `$maps.<name>` in an expression's syntax tree, with where its name starts in the field text. */
function mapsRead(ast: unknown, shift: number): Array<{ name: string; offset: number }> {
  const out: Array<{ name: string; offset: number }> = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as { type?: unknown; steps?: unknown };
    if (n.type === 'path' && Array.isArray(n.steps)) {
      const [first, second] = n.steps as Array<{ type?: unknown; value?: unknown; position?: unknown }>;
      if (first?.type === 'variable' && first.value === 'maps' && second?.type === 'name' && typeof second.value === 'string') {
        // A name's position is 1-based at its last character.
        const end = typeof second.position === 'number' ? second.position : second.value.length;
        out.push({ name: second.value, offset: shift + end - second.value.length });
      }
    }
    for (const v of Object.values(node)) if (v !== null && typeof v === 'object') visit(v);
  };
  visit(ast);
  return out;
}

/** JSONata's results as plain JSON values: its sequences become arrays, functions become nothing. */
function plain(v: unknown): unknown {
  if (typeof v === 'function') return undefined;
  if (Array.isArray(v)) return v.map(plain);
  return v;
}
