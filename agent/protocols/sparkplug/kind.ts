import type { AdapterKind } from '../registry';
import { MqttSourceAdapter } from '../mqtt/adapter';
import { sparkplugSourceSchema, type SparkplugSourceConfig } from './config';
import { SparkplugReader } from './reader';

/** A Sparkplug B source: the MQTT source's connection with the Sparkplug reader. */
export function createSparkplugSource(
  config: SparkplugSourceConfig,
  ctx: ConstructorParameters<typeof MqttSourceAdapter>[1],
  plant?: string,
): MqttSourceAdapter {
  return new MqttSourceAdapter(config, ctx, {
    type: 'sparkplug',
    reader: new SparkplugReader(config, ctx.log, ctx.stateDir),
    ...(plant !== undefined ? { plant } : {}),
  });
}

/** The `sparkplug` entry of the adapter registry (listed in agent/runtime/builtins.ts). */
export const sparkplugAdapterKind: AdapterKind<SparkplugSourceConfig> = {
  type: 'sparkplug',
  configSchema: sparkplugSourceSchema,
  factory: {
    type: 'sparkplug',
    create: (config, ctx) => createSparkplugSource(config, ctx),
  },
};
