import { z } from 'zod';
import type { IntakeOptions } from '../buffer/intake';
import { shiftProblems, systemTimeZone, timeZoneProblem } from '../model/plant-time';

/** A flow's `cron` that releases at every shift change of plant.shifts instead of on a cron schedule. */
export const AT_SHIFT_CHANGE = '@shift-change';

/** The plant's time zone: plant.timezone, else the gateway's own. */
export function plantTimeZone(config: { plant: { timezone?: string } }): string {
  return config.plant.timezone ?? systemTimeZone();
}

/** An IANA time zone this system knows (`Europe/Berlin`). */
export const timeZoneSchema = z.string().superRefine((tz, ctx) => {
  const problem = timeZoneProblem(tz);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** The plant's shift calendar: each shift's name and local start; a shift lasts until the next one starts. */
export const shiftsSchema = z
  .array(
    z.strictObject({
      /** In events (counter `shiftTotals`), logs and reports. */
      name: z.string().trim().min(1).max(64),
      /** Local start in plant time, `HH:MM` (24-hour). */
      start: z.string(),
    }),
  )
  .superRefine((shifts, ctx) => {
    for (const p of shiftProblems(shifts)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  });

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
