import { z } from 'zod';

/** Fields every source has. Adapter config schemas extend this with z.strictObject({...sourceBase, type: z.literal('x'), ...}). */
export const sourceBase = {
  /** Unique name of this source; appears in events, logs and the status page. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (at most 64)'),
  /** Set false to keep the source in the file but not run it. */
  enabled: z.boolean().default(true),
};
