import type { z } from 'zod';
import type { Rule } from '../types';
import { captureRule } from './capture';
import { counterRule } from './counter';
import { eventRule } from './event';
import { orderRule } from './order';
import { scanRuleKind } from './scan';
import { stateRule } from './state';
import { templateRule } from './template';
import { thresholdRule } from './threshold';

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

/** Every rule kind the agent knows, by `kind`. One line per kind. */
export const ruleKinds: RuleKind[] = [counterRule, orderRule, stateRule, thresholdRule, captureRule, scanRuleKind, eventRule, templateRule];
