import { z } from 'zod';
import { scannerCommonOptions } from '../scanner/options';
import { sourceBase } from '../base';

const framingSchema = z.union(
  [
    z.strictObject({
      /** What ends a scan: CR, LF, CRLF, or any other string the scanner is set to send (such as "\u0003"). */
      suffix: z.union([z.enum(['CR', 'LF', 'CRLF']), z.string().min(1).max(8)]),
    }),
    z.strictObject({
      /** Every scan is exactly this many bytes (scanners sending no terminator). */
      fixedLength: z.number().int().min(1).max(65536),
    }),
  ],
  { error: 'framing must be { suffix: CR | LF | CRLF | "<string>" } or { fixedLength: <bytes> }' },
);

/** The strict config schema of a `type: serial-scanner` source: a barcode scanner on a serial line (RS-232, or USB in serial/CDC-ACM mode). */
export const serialScannerConfigSchema = z
  .strictObject({
    ...sourceBase,
    type: z.literal('serial-scanner'),
    /** Device path. Use the stable /dev/serial/by-id/... link: /dev/ttyUSB0 can change number when the scanner is plugged back in. */
    path: z.string().min(1),
    /** Line speed, as set on the scanner. */
    baudRate: z.number().int().positive().default(9600),
    /** Data bits per character. */
    dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
    /** Parity bit. */
    parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
    /** Stop bits. */
    stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1),
    /** How scans are separated in the byte stream. */
    framing: framingSchema.default({ suffix: 'CR' }),
    /** An incomplete scan with no new byte for this long (ms) is kept as unreadable and reading starts afresh; 0 waits forever. */
    frameTimeoutMs: z.number().int().min(0).default(1000),
    ...scannerCommonOptions,
  })
  .superRefine((c, ctx) => {
    if ('fixedLength' in c.framing && c.framing.fixedLength > c.maxLength) {
      ctx.addIssue({ code: 'custom', path: ['framing', 'fixedLength'], message: 'fixedLength must not exceed maxLength' });
    }
  });

export type SerialScannerConfig = z.output<typeof serialScannerConfigSchema>;
export type SerialScannerInput = z.input<typeof serialScannerConfigSchema>;
