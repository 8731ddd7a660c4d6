import type { AdapterKind } from '../registry';
import { KeyboardScannerAdapter } from './adapter';
import { type KeyboardScannerConfig, keyboardScannerConfigSchema } from './config';

export { KeyboardScannerAdapter } from './adapter';
export { keyboardScannerConfigSchema, type KeyboardScannerConfig, type KeyboardScannerInput } from './config';
export { EVIOCGRAB, GRAB_HELPER_SCRIPT, grabHelperArgs } from './grab-helper';
export {
  InputEventReader,
  KeyboardScanDecoder,
  decodeKeyboardScans,
  encodeInputEvent,
  eventSizeForArch,
  type EventSize,
  type InputEvent,
  type KeyboardScan,
} from './input-events';
export { KEY, keyChar, keyForChar } from './keymap';

/** `type: keyboard-scanner`: a USB barcode scanner in keyboard (HID) mode, read from /dev/input. */
export const keyboardScannerKind: AdapterKind<KeyboardScannerConfig> = {
  type: 'keyboard-scanner',
  configSchema: keyboardScannerConfigSchema,
  factory: {
    type: 'keyboard-scanner',
    create: (config, ctx) => new KeyboardScannerAdapter(config, ctx),
  },
};
