import type { AdapterKind } from '../registry';
import { ModbusAdapter } from './adapter';
import { modbusSourceSchema, type ModbusSourceConfig } from './config';

export { ModbusAdapter } from './adapter';
export { MODBUS_EXCEPTIONS } from './read-failures';
export { modbusSourceSchema, type ModbusSourceConfig, type ModbusSourceInput } from './config';

/** The `type: modbus` source: polls Modbus TCP or RTU devices. Registered in agent/runtime/builtins.ts. */
export const modbusAdapterKind: AdapterKind<ModbusSourceConfig> = {
  type: 'modbus',
  configSchema: modbusSourceSchema,
  factory: {
    type: 'modbus',
    create: (config, ctx) => new ModbusAdapter(config, ctx),
  },
};
