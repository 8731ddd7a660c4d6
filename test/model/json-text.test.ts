import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { nestingBeyond, parseJsonText } from '../../agent/model/json-text';
import { propertyRuns } from '../helpers/property';

/** How deep a parsed value nests, counted without recursion. */
function depthOf(value: unknown): number {
  let max = 0;
  const todo: Array<[unknown, number]> = [[value, 0]];
  while (todo.length > 0) {
    const [v, d] = todo.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d + 1);
    for (const x of Object.values(v)) todo.push([x, d + 1]);
  }
  return max;
}

describe('JSON text with a nesting limit', () => {
  it('refuses exactly the texts nested deeper than the limit (brackets in strings do not count)', (t) => {
    const brackety = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a'), maxLength: 8 });
    const value = fc.jsonValue({ maxDepth: 8 }).chain((v) => fc.tuple(fc.constant(v), brackety).map(([x, s]) => ({ x, s })));
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 10 }), fc.boolean(), ({ x, s }, limit, spaced) => {
        const wrapped = { note: s, x };
        const text = JSON.stringify(wrapped, null, spaced ? 1 : undefined);
        const deep = depthOf(wrapped) > limit;
        assert.equal(nestingBeyond(text, limit) >= 0, deep);
        const r = parseJsonText(text, limit);
        assert.equal(r.ok, !deep);
        if (!r.ok) assert.equal(r.tooDeep, true);
      }),
      propertyRuns(t, 400),
    );
  });

  it('a text nested 100,000 deep is refused at once, without parsing it', () => {
    const r = parseJsonText('['.repeat(100_000) + ']'.repeat(100_000));
    assert.deepEqual(r, { ok: false, reason: 'nested deeper than 64 levels (at character 65)', tooDeep: true });
  });
});
