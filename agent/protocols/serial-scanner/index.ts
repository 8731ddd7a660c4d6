import type { AdapterKind } from '../registry';
import { SerialScannerAdapter } from './adapter';
import { type SerialScannerConfig, serialScannerConfigSchema } from './config';

export { SerialScannerAdapter } from './adapter';
export { serialScannerConfigSchema, type SerialScannerConfig, type SerialScannerInput } from './config';
export { FrameDecoder, terminatorBytes, type Frame, type Framing } from './framing';

/** `type: serial-scanner`: a barcode scanner on a serial line (RS-232, USB serial/CDC-ACM). */
export const serialScannerKind: AdapterKind<SerialScannerConfig> = {
  type: 'serial-scanner',
  configSchema: serialScannerConfigSchema,
  factory: {
    type: 'serial-scanner',
    create: (config, ctx) => new SerialScannerAdapter(config, ctx),
  },
};
