import { z } from 'zod';
import { ruleKinds, type RuleKind } from './kinds';

/**
 * The `rules:` section of the config file: a list of rules, each picked by
 * its `kind` (counter, order, state, threshold, capture, ...). Rules apply in
 * the order they are listed.
 */

/** One rule, as read from config (the fields every kind has; the rest depends on the kind). */
export type RuleConfig = { kind: string; name: string; enabled?: boolean } & Record<string, unknown>;

/** Build the schema of one rule entry from a list of kinds (tests pass their own). */
export function buildRuleConfigSchema(kinds: readonly RuleKind[]): z.ZodType<RuleConfig> {
  if (kinds.length === 0) throw new Error('no rule kinds are registered');
  const names = kinds.map((k) => k.kind).join(', ');
  return z.discriminatedUnion('kind', kinds.map((k) => k.configSchema) as unknown as [z.ZodObject, ...z.ZodObject[]], {
    error: (issue) => (issue.code === 'invalid_union' ? `kind must be one of ${names}` : undefined),
  }) as unknown as z.ZodType<RuleConfig>;
}

/** Build the schema of the whole `rules:` list: every entry, and names unique. */
export function buildRulesConfigSchema(kinds: readonly RuleKind[]): z.ZodType<RuleConfig[]> {
  return z.array(buildRuleConfigSchema(kinds)).superRefine((rules, ctx) => {
    const seen = new Map<string, number>();
    rules.forEach((rule, index) => {
      const first = seen.get(rule.name);
      if (first === undefined) {
        seen.set(rule.name, index);
        return;
      }
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `rule name "${rule.name}" is already used by rule ${first + 1} of the list; every rule needs its own name (it keys the rule's saved state)`,
      });
    });
  });
}

/** Schema of one rule entry: a discriminated union on `kind` over every registered kind. */
export const ruleConfigSchema = buildRuleConfigSchema(ruleKinds);

/** Schema of the top-level `rules:` list (unique names). Use `rulesConfigSchema.default([])` for "no rules". */
export const rulesConfigSchema = buildRulesConfigSchema(ruleKinds);
