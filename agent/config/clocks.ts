import { z } from 'zod';
import type { IntakeOptions } from '../buffer/intake';

/** `clocks`: how far clocks may be apart before a warning, and which event times are believable. */
export const clocksConfigSchema = z
  .strictObject({
    /** Warn (status page, /metrics, one log line per crossing) when Odoo's clock or a source's is further than this from the gateway's, in seconds. */
    warnOffsetS: z.number().positive().default(5),
    eventTime: z
      .strictObject({
        /** An event stamped more than this many seconds ahead of the gateway's clock is held for a person (parked, IMPLAUSIBLE_TIME). */
        maxAheadS: z.number().positive().default(900),
        /** An event stamped more than this many days before the gateway's clock is held for a person. */
        maxAgeDays: z.number().positive().default(30),
      })
      .prefault({}),
  })
  .prefault({});

export type ClocksConfig = z.output<typeof clocksConfigSchema>;

/** The outbox's check of event times, from config. */
export function eventTimeOptions(config: { clocks: ClocksConfig; sync: { skippableTypes: readonly string[] } }): IntakeOptions['eventTime'] {
  return {
    maxAheadMs: config.clocks.eventTime.maxAheadS * 1000,
    maxAgeMs: config.clocks.eventTime.maxAgeDays * 86_400_000,
    nonBlocking: new Set(config.sync.skippableTypes),
  };
}
