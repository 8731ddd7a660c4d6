import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node as YamlNode } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

/**
 * Find where a config path lives in the YAML source. A path that does not exist
 * (a missing required field) resolves to the nearest ancestor that does, so the
 * message still points at the block the field belongs in. With `key`, the
 * position of that key inside the map at `path` (for unknown keys).
 */
export function locate(doc: Document, lines: LineCounter, path: readonly PropertyKey[], key?: string): Position {
  let node: unknown = doc.contents;
  let at: number | undefined = rangeStart(node);
  for (const seg of path) {
    const next = child(node, seg);
    if (!next) break;
    if (next.keyStart !== undefined) at = next.keyStart;
    node = next.value;
    const start = rangeStart(node);
    if (start !== undefined) at = start;
  }
  if (key !== undefined && isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === key) {
        const start = rangeStart(item.key);
        if (start !== undefined) at = start;
        break;
      }
    }
  }
  if (at === undefined) return { line: 1, column: 1 };
  const p = lines.linePos(at);
  return { line: p.line, column: p.col };
}

function child(node: unknown, seg: PropertyKey): { value: unknown; keyStart?: number } | undefined {
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(seg)) {
        return { value: item.value, keyStart: rangeStart(item.key) };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof seg === 'number') {
    const v = node.items[seg];
    return v === undefined ? undefined : { value: v };
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/**
 * Where character `offset` (0-based) of a text value is in the YAML source: a
 * bad expression is named at its character, not only at its field. Plain and
 * quoted values on one line and block values (`|`, `>`) are followed exactly
 * (a quoted value with escapes before that character is off by their length);
 * anything else gives the value's start.
 */
export function locateInside(doc: Document, lines: LineCounter, source: string, path: readonly PropertyKey[], offset: number): Position {
  const node = doc.getIn(path as unknown[], true);
  const start = isScalar(node) ? node.range?.[0] : undefined;
  if (!isScalar(node) || start === undefined || typeof node.value !== 'string') return locate(doc, lines, path);
  const at = (o: number) => {
    const p = lines.linePos(o);
    return { line: p.line, column: p.col };
  };
  const value = node.value;
  const inside = Math.max(0, Math.min(offset, value.length));
  switch (node.type) {
    case 'PLAIN':
      return value.includes('\n') ? at(start) : at(start + inside);
    case 'QUOTE_DOUBLE':
    case 'QUOTE_SINGLE':
      return value.includes('\n') ? at(start) : at(start + 1 + inside);
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED': {
      const header = source.indexOf('\n', start);
      if (header === -1) return at(start);
      // The value's line k is the block's line k, after the block's indentation.
      const before = value.slice(0, inside);
      const line = before.split('\n').length - 1;
      const column = inside - (before.lastIndexOf('\n') + 1);
      const blockLines = source.slice(header + 1).split('\n');
      const indent = /^ */.exec(blockLines.find((l) => l.trim() !== '') ?? '')![0].length;
      if (line >= blockLines.length) return at(start);
      const lineStart = header + 1 + blockLines.slice(0, line).reduce((n, l) => n + l.length + 1, 0);
      return at(lineStart + indent + column);
    }
    default:
      return at(start);
  }
}
