/**
 * OPC UA source (`type: opcua`): subscribes to variables of an OPC UA server
 * (PLC, MES gateway, Kepware-like servers) and turns each data change into a Signal.
 *
 * The node-opcua library (large: about a second to load) is loaded only when a
 * source is created, so commands that merely read the config stay quick.
 */
import type { AdapterKind } from '../registry';
import type { AdapterContext, AdapterFactory, SourceAdapter } from '../types';
import { opcuaConfigSchema, type OpcuaSourceConfig } from './config';

export const opcuaFactory: AdapterFactory<OpcuaSourceConfig> = {
  type: 'opcua',
  create(config: OpcuaSourceConfig, ctx: AdapterContext): SourceAdapter {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OpcuaSource } = require('./adapter') as typeof import('./adapter');
    return new OpcuaSource(config, ctx);
  },
};

/** The registry entry: `adapterKinds` in agent/protocols/registry.ts lists it. */
export const opcuaKind: AdapterKind<OpcuaSourceConfig> = {
  type: 'opcua',
  // built on first use: the registry imports this module while it is itself loading
  get configSchema() {
    return opcuaConfigSchema();
  },
  factory: opcuaFactory,
};

export { opcuaConfigSchema, type OpcuaSourceConfig } from './config';
export { listCertificates, trustCertificate, rejectCertificate, pkiDirFor, type CertificateEntry, type CertificateStatus } from './certs';
export { certsCommand } from '../../cli/certs';
