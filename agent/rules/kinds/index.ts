import type { RuleKind } from './kind';
import { captureRule } from './capture';
import { counterRule } from './counter';
import { eventRule } from './event';
import { orderRule } from './order';
import { scanRuleKind } from './scan';
import { stateRule } from './state';
import { templateRule } from './template';
import { thresholdRule } from './threshold';

export type { RuleKind } from './kind';

/** Every rule kind the agent knows, by `kind`. One line per kind. */
export const ruleKinds: RuleKind[] = [counterRule, orderRule, stateRule, thresholdRule, captureRule, scanRuleKind, eventRule, templateRule];
