import { z } from 'zod';

/** Config fields every scanner adapter shares (serial and keyboard). */
export const scannerCommonOptions = {
  /** Removed from the start of every scan when present (a prefix the scanner is set to add, such as "\u0002"). */
  stripPrefix: z.string().default(''),
  /** Removed from the end of every scan when present (a suffix the scanner adds before its terminator). */
  stripSuffix: z.string().default(''),
  /** Longest scan accepted, in characters (bytes on a serial line) without the terminator; longer ones are kept as unreadable input. */
  maxLength: z.number().int().min(1).max(65536).default(1024),
  /** Reopening the device after it was unplugged or failed to open: first wait, doubling up to maxMs. */
  reopen: z
    .strictObject({
      /** First wait before reopening, in ms. */
      initialMs: z.number().int().min(50).default(500),
      /** Longest wait between two attempts, in ms. */
      maxMs: z.number().int().min(100).default(30_000),
    })
    .prefault({})
    .refine((r) => r.maxMs >= r.initialMs, { message: 'reopen.maxMs must be at least reopen.initialMs' }),
  /** How often the device path is checked (unplugged, plugged back in, replaced), in ms. */
  watchIntervalMs: z.number().int().min(100).max(60_000).default(1000),
  /** Scans held in memory while the outbox refuses them; beyond this the adapter stops reading the scanner until there is room. */
  queueLimit: z.number().int().min(1).max(1_000_000).default(1000),
};
