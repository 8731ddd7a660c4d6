import { isCollection, Parser, visit, type Alias, type CST, type Document, type LineCounter } from 'yaml';

/**
 * What the yaml library leaves to its caller: how deep a document nests (it
 * composes recursively, so thousands of levels overflow the stack), and
 * which alias an alias error is about (its errors carry no position).
 */

/**
 * The offset of the first collection nested deeper than `maxDepth`, or
 * undefined. Walks the library's own syntax tree (built without recursion)
 * with a list instead of recursion. Fills `lines` as it parses.
 */
export function nestedTooDeep(text: string, maxDepth: number, lines: LineCounter): number | undefined {
  const todo: Array<{ token: CST.Token | null | undefined; depth: number }> = [];
  for (const token of new Parser(lines.addNewLine).parse(text)) todo.push({ token, depth: 0 });
  while (todo.length > 0) {
    const { token, depth } = todo.pop()!;
    if (!token) continue;
    if (token.type === 'document') {
      todo.push({ token: token.value, depth });
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > maxDepth) return token.offset;
      for (const item of token.items) {
        todo.push({ token: item.key, depth: depth + 1 });
        todo.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/** Where an alias error of `toJS` comes from, and what to tell the person who wrote it. */
export function aliasProblem(doc: Document, err: unknown): { offset: number; message: string } | undefined {
  const aliases: Alias[] = [];
  visit(doc, {
    Alias: (_key, node) => {
      aliases.push(node);
    },
  });
  const message = err instanceof Error ? err.message : '';
  if (message.startsWith('Unresolved alias')) {
    const alias = aliases.find((a) => !a.resolve(doc));
    if (alias) return { offset: alias.range?.[0] ?? 0, message: `alias *${alias.source} has no anchor &${alias.source} before it` };
  }
  if (message.startsWith('Excessive alias count')) {
    // An alias of something that itself holds aliases is what multiplies.
    const alias = aliases.find((a) => holdsAlias(a.resolve(doc))) ?? aliases[0];
    if (alias) {
      return {
        offset: alias.range?.[0] ?? 0,
        message: `aliases expand to too many values (from *${alias.source}, which holds aliases itself); write the values out or use fewer aliases`,
      };
    }
  }
  return undefined;
}

function holdsAlias(node: unknown): boolean {
  if (!isCollection(node)) return false;
  let found = false;
  visit(node, {
    Alias: () => {
      found = true;
      return visit.BREAK;
    },
  });
  return found;
}
