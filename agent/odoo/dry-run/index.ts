import type { AgentConfig } from '../../config/schema';
import type { ClockOffset } from '../server-clock';
import type { OdooClient, OdooServerInfo } from '../types';
import { askBasics, askQuestions, type OdooFacts } from './ask-odoo';
import { judge, type Finding } from './judge';
import { planQuestions } from './plan';
import { configDemands } from './references';

export { describeClock, type Finding, type Severity } from './judge';
export type { ConfigPath } from './references';

/**
 * The dry run: the config's names, mapped models and fields, and the rights
 * its event types need, checked against Odoo with the agent's own user,
 * before the agent runs (docs/check-config.md).
 */
export interface DryRunReport {
  server: OdooServerInfo;
  user: OdooFacts['user'];
  /** Installed apps among those the agent uses (stock, mrp, maintenance, quality_control, quality_control_oca, product, uom). */
  apps: string[];
  clock?: ClockOffset;
  findings: Finding[];
  /** How much was asked: names looked up, models read, rights asked. */
  asked: { names: number; models: number; rights: number; groups: number };
}

/** Ask Odoo; throws OdooError when Odoo cannot be reached or refuses the key. */
export async function checkAgainstOdoo(config: AgentConfig, client: OdooClient): Promise<DryRunReport> {
  const demands = configDemands(config);
  const basics = await askBasics(client);
  const questions = planQuestions(demands, basics.server.major, basics.apps);
  const facts = await askQuestions(client, basics, questions);
  let names = 0;
  for (const l of questions.lookups.values()) names += l.names.size;
  return {
    server: facts.server,
    user: facts.user,
    apps: [...facts.apps].sort(),
    ...(facts.clock ? { clock: facts.clock } : {}),
    findings: judge(demands, facts),
    asked: { names, models: questions.fieldModels.size, rights: questions.rights.size, groups: questions.groups.size },
  };
}
