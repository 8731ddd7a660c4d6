// Re-exported first: adapter modules imported below read it while this module is still loading.
export { sourceBase } from './base';
import { z } from 'zod';
import type { AdapterFactory } from './types';

/** A source's config as every kind has it; a kind's own fields come from its schema. */
export type SourceConfigBase = { type: string; name: string; enabled?: boolean };

export interface AdapterKind<C extends SourceConfigBase = SourceConfigBase> {
  type: C['type'];
  configSchema: z.ZodType<C>;
  factory: AdapterFactory<C>;
}

/**
 * Every adapter type the agent knows, registered by `type`. The list is filled
 * in agent/runtime/builtins.ts (add your kind THERE, one line), not here: importing
 * adapters from this module would make an import cycle with their configs.
 */
export const adapterKinds: AdapterKind[] = [];

export function adapterKind(type: string): AdapterKind | undefined {
  return adapterKinds.find((k) => k.type === type);
}
