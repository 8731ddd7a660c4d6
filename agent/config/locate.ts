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
