import { z } from 'zod';
import { scannerCommonOptions } from '../scanner/options';
import { sourceBase } from '../base';
import { eventSizeForArch } from './input-events';

/** The strict config schema of a `type: keyboard-scanner` source: a USB scanner in keyboard (HID) mode. */
export const keyboardScannerConfigSchema = z.strictObject({
  ...sourceBase,
  type: z.literal('keyboard-scanner'),
  /** Input device. Use the stable /dev/input/by-id/usb-...-event-kbd link: event numbers change when devices are plugged in. */
  path: z.string().min(1),
  /** Take the scanner for the agent alone (EVIOCGRAB), so its key presses do not reach the console or another program. */
  grab: z.boolean().default(true),
  /** The key the scanner sends after each code. */
  terminator: z.enum(['enter', 'tab']).default('enter'),
  /** Keyboard layout the scanner is set to. Only `us` is supported: set the scanner to the US layout. */
  layout: z.literal('us').default('us'),
  /** Bytes per input event record: 24 on 64-bit systems, 16 on 32-bit ones (the default follows this machine). */
  eventSize: z.union([z.literal(16), z.literal(24)]).default(eventSizeForArch(process.arch)),
  /** The Python 3 interpreter that runs the small reader which opens and grabs the device. */
  python: z.string().min(1).default('python3'),
  ...scannerCommonOptions,
});

export type KeyboardScannerConfig = z.output<typeof keyboardScannerConfigSchema>;
export type KeyboardScannerInput = z.input<typeof keyboardScannerConfigSchema>;
