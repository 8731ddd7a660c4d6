import type { AdapterKind } from '../registry';
import { MqttSourceAdapter } from './adapter';
import { mqttSourceSchema, type MqttSourceConfig } from './config';

/** The `mqtt` entry of the adapter registry (listed in agent/runtime/builtins.ts). */
export const mqttAdapterKind: AdapterKind<MqttSourceConfig> = {
  type: 'mqtt',
  configSchema: mqttSourceSchema,
  factory: {
    type: 'mqtt',
    create: (config, ctx) => new MqttSourceAdapter(config, ctx),
  },
};
