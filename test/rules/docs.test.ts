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
    for (const k of ['counter', 'order', 'state', 'threshold', 'capture', 'template']) assert.ok(kinds.has(k), `no example for ${k}`);
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

  it('the MES stop example maps the message shown to the event shown', async () => {
    const section = text.slice(text.indexOf('## `template`'), text.indexOf('## Units of measure'));
    const [message, expected] = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
    const rules = (parse([...section.matchAll(/```yaml\n([\s\S]*?)```/g)][0]![1]!) as { rules: unknown }).rules;
    const engine = RuleEngine.fromConfig(rules);
    const at = '2026-11-26T09:40:05.000Z';
    const r = await engine.processAsync(
      [{ source: 'mes-broker', tag: 'mes/line1/stops', value: message as never, quality: 'good', sourceTime: at, receivedAt: at }],
      {
        plant: 'plant1',
        now: at,
      },
    );
    assert.deepEqual(r.invalid, []);
    const { receivedAt: _r, source: _s, ...event } = r.events[0]!;
    assert.deepEqual(event, expected);
  });
});
