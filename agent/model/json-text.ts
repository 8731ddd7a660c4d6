/**
 * JSON text from outside (an MQTT message, an imported line) parsed with a
 * nesting limit. JSON.parse itself copes with any depth, but code that walks
 * the value afterwards (JSON.stringify, zod, templates) recurses and would
 * overflow the stack on a message nested thousands deep.
 */

/** Nesting accepted unless a source says otherwise: plant messages are a few levels deep. */
export const DEFAULT_MAX_DEPTH = 64;

/**
 * The offset of the first `{` or `[` (outside strings) that opens a level
 * deeper than `maxDepth`, or -1. One pass over the text, no recursion; text
 * that is not JSON is left for JSON.parse to explain.
 */
export function nestingBeyond(text: string, maxDepth: number): number {
  if (text.length <= maxDepth) return -1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return -1;
}

export type ParsedJson = { ok: true; value: unknown } | { ok: false; reason: string; tooDeep: boolean };

/** Parse JSON text; nesting deeper than `maxDepth` is refused before parsing. The reason of a syntax error is JSON.parse's. */
export function parseJsonText(text: string, maxDepth = DEFAULT_MAX_DEPTH): ParsedJson {
  const at = nestingBeyond(text, maxDepth);
  if (at >= 0) return { ok: false, reason: `nested deeper than ${maxDepth} levels (at character ${at + 1})`, tooDeep: true };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err), tooDeep: false };
  }
}
