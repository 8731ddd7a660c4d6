import type { FlowDefinition } from '../../agent/buffer/flows';

/** The flow the crash child runs and the crash test checks. */
export const CRASH_FLOW: FlowDefinition = { name: 'consumption', cron: '0 * * * *', mode: 'rollup', types: ['material.consumed'] };
