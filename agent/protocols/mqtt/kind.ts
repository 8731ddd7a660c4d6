import type { AdapterKind } from '../registry';
import { MqttSourceAdapter } from './adapter';
import type { MqttSourceConfig } from './config';

/**
 * The `mqtt` entry of `adapterKinds`. The registry imports this file, and the
 * config schema imports `sourceBase` from the registry; reading the schema
 * lazily keeps that circle from handing either side a half-loaded module.
 */
export const mqttAdapterKind: AdapterKind<MqttSourceConfig> = {
  type: 'mqtt',
  get configSchema() {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('./config') as typeof import('./config')).mqttSourceSchema;
  },
  factory: {
    type: 'mqtt',
    create: (config, ctx) => new MqttSourceAdapter(config, ctx),
  },
};
