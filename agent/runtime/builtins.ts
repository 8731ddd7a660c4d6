import { adapterKinds, type AdapterKind } from '../protocols/registry';
import { mqttAdapterKind } from '../protocols/mqtt/kind';
import { serialScannerKind } from '../protocols/serial-scanner';
import { keyboardScannerKind } from '../protocols/keyboard-scanner';
import { opcuaKind } from '../protocols/opcua';
import { modbusAdapterKind } from '../protocols/modbus';
import { sparkplugAdapterKind } from '../protocols/sparkplug/kind';

/** The adapter kinds built into the agent. One line per protocol. */
const BUILTIN_ADAPTERS: AdapterKind[] = [opcuaKind, mqttAdapterKind, serialScannerKind, keyboardScannerKind, modbusAdapterKind, sparkplugAdapterKind];

let done = false;

/** Fill the adapter registry once (before loading a config). */
export function registerBuiltins(): void {
  if (done) return;
  done = true;
  for (const k of BUILTIN_ADAPTERS) if (!adapterKinds.some((x) => x.type === k.type)) adapterKinds.push(k);
}
