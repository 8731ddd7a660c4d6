import type { z } from 'zod';
import type { Rule } from '../types';

/**
 * A kind of rule: its strict config schema (with `kind: z.literal(...)` and a
 * unique `name`) and a constructor. Each kind lives in its own file here and
 * adds one line to `ruleKinds`.
 */
export interface RuleKind<C extends { kind: string; name: string } = { kind: string; name: string }> {
  kind: C['kind'];
  configSchema: z.ZodType<C>;
  create(config: C): Rule<unknown>;
}
