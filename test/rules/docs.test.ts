import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { rulesConfigSchema } from '../../agent/rules/config';
import { RuleEngine } from '../../agent/rules/engine';
import { ruleKinds } from '../../agent/rules/kinds';

describe('docs/rules.md examples', () => {
  const text = readFileSync(join(process.cwd(), 'docs', 'rules.md'), 'utf8');
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('has an example for every kind of this folder', () => {
    assert.ok(blocks.length >= 5, `found ${blocks.length} yaml blocks`);
    const kinds = new Set(blocks.flatMap((b) => (parse(b) as { rules: Array<{ kind: string }> }).rules.map((r) => r.kind)));
    for (const k of ['counter', 'order', 'state', 'threshold', 'capture']) assert.ok(kinds.has(k), `no example for ${k}`);
    for (const k of kinds)
      assert.ok(
        ruleKinds.some((rk) => rk.kind === k),
        `example of unknown kind ${k}`,
      );
  });

  blocks.forEach((block, i) => {
    it(`example ${i + 1} is valid config and builds`, () => {
      const doc = parse(block) as { rules: unknown };
      const r = rulesConfigSchema.safeParse(doc.rules);
      assert.ok(r.success, JSON.stringify(r.error?.issues));
      assert.equal(new RuleEngine(r.data).ruleNames.length, (doc.rules as unknown[]).length);
    });
  });
});
