import { isIP } from 'node:net';
import { z } from 'zod';
import { rollupRefusal } from '../buffer/flows';
import { EVENT_TYPES } from '../model/event';
import { mqttOutSchema } from '../protocols/mqtt/config';
import { releaseConfigSchema } from '../release/config';
import { adapterKinds, type SourceConfigBase } from '../protocols/registry';
import { buildRulesConfigSchema } from '../rules/config';
import { ruleKinds } from '../rules/kinds/index';
import { odooConfigSchema } from '../odoo/config';
import { genericMappingSchema } from '../sync/operations/generic-mapping';
import { secretRef } from './secrets';
import { certificateProblem } from '../http/certificate';
import { checkCron, cronExpr } from './cron';
import { AT_SHIFT_CHANGE, clocksConfigSchema, shiftsSchema, timeZoneSchema } from './clocks';

const eventType = z.enum(EVENT_TYPES as [string, ...string[]]);
/** A flow's release: a cron expression, or `@shift-change`. */
const flowCron = z.string().superRefine((v, ctx) => {
  if (v !== AT_SHIFT_CHANGE) checkCron(v, ctx);
});

/** An address to listen on: an IP address (a host name may stand for several, or change). */
const bindAddress = z
  .string()
  .refine((v) => isIP(v) !== 0, "must be an IP address, like 127.0.0.1, 0.0.0.0, ::1 or the gateway's LAN address (not a host name)");

/** One strict object per section: an unknown key is an error, never silently ignored. */
export const outboxConfigSchema = z
  .strictObject({
    /** SQLite file; relative paths are relative to stateDir. */
    path: z.string().min(1).default('outbox.db'),
    /** FULL: a committed event survives a power cut. NORMAL: faster; the last commits may be lost on power loss (never on a process crash). */
    synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
    groupCommit: z
      .strictObject({
        /** Under concurrent load, wait at most this long for more events to share one commit. 0 = commit on the next event-loop turn. */
        windowMs: z.number().min(0).max(10).default(2),
        /** At most this many events in one transaction. */
        maxBatch: z.number().int().min(1).max(10000).default(1000),
      })
      .prefault({}),
    /** Unfinished events (pending, retrying, parked) the outbox holds before it refuses new ones (sources then apply back-pressure). */
    maxEvents: z.number().int().min(100).default(1_000_000),
    /** Warn (status page, /metrics, one log line) before storing stops. */
    warnings: z
      .strictObject({
        /** Free space on the outbox's disk below this many MB. */
        lowDiskMb: z.number().min(0).default(256),
        /** The outbox holds this share of maxEvents. */
        highWater: z.number().gt(0).max(1).default(0.8),
      })
      .prefault({}),
    retention: z
      .strictObject({
        /** Delivered events are kept this many days as the audit trail, then pruned. */
        doneDays: z.number().min(0).default(30),
        /** Invalid input (malformed messages, unreadable scans) is kept this many days. */
        invalidDays: z.number().min(0).default(30),
      })
      .prefault({}),
  })
  .prefault({});

export const syncConfigSchema = z
  .strictObject({
    /** Set false to only buffer (no delivery to Odoo). */
    enabled: z.boolean().default(true),
    /** Requests to Odoo in flight at once. */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** Requests per second to Odoo at most (also while draining a backlog). */
    maxRequestsPerSecond: z.number().min(0.1).default(20),
    /** Events of one model sent in one load() call at most. */
    batchSize: z.number().int().min(1).max(1000).default(100),
    /** Keys whose head is claimed per round. */
    claimLimit: z.number().int().min(1).max(10000).default(500),
    backoff: z
      .strictObject({
        /** First retry after about this long (full jitter). */
        initialMs: z.number().int().min(10).default(1000),
        /** Retries never wait longer than this. */
        maxMs: z.number().int().min(100).default(300_000),
      })
      .prefault({}),
    circuit: z
      .strictObject({
        /** Requests in a row that fail whole with an answer (5xx, lock conflicts, 429) and open the circuit (stop sending). No answer at all opens it at once. */
        failureThreshold: z.number().int().min(1).default(5),
        /** After Odoo answered with a failure (or refused the key): first probe this long after opening; doubles up to maxProbeIntervalMs. */
        probeIntervalMs: z.number().int().min(100).default(5000),
        maxProbeIntervalMs: z.number().int().min(100).default(60_000),
        /** While Odoo gives no answer (refused, reset, DNS, timeout): probe this often, however long it lasts. */
        linkProbeIntervalMs: z.number().int().min(100).max(10_000).default(1000),
      })
      .prefault({}),
    /**
     * A work-order start that Odoo refuses because the work center is blocked (an open downtime, whose
     * end may still be on its way on the work center's key after an outage) is retried with backoff for
     * this long from its first refusal, then parked.
     */
    blockedStartWaitMs: z.number().int().min(0).max(86_400_000).default(600_000),
    /** Event types whose parked (or flagged) head does not block later events of its key (telemetry-like types). All others block. */
    skippableTypes: z.array(eventType).default(['maintenance.requested', 'quality.recorded']),
    /**
     * Check every event against the master data cached from Odoo before it is queued, and flag for a person
     * what Odoo would refuse (an unknown work center, a draft order), also while Odoo cannot be reached.
     */
    edgeCheck: z.boolean().default(true),
    /** Generic mappings: an event type written into any model's fields through a keyed load(). */
    mappings: z.array(genericMappingSchema).default([]),
  })
  .prefault({});

/** The page's certificate and key, as references: the key never sits in the config file. */
export const httpTlsSchema = z
  .strictObject({
    /** PEM certificate, then any intermediate certificates: ${file:/etc/edge-agent/tls/page.crt}, ${credential:NAME} or ${env:NAME}. */
    certificate: secretRef(),
    /** PEM private key of that certificate, unencrypted, as a secret reference (${credential:NAME} keeps it readable by root only). */
    key: secretRef(),
  })
  .superRefine((t, ctx) => {
    // Unresolved references (commands that do not serve the page) are '' here: nothing to check.
    if (!t.certificate || !t.key) return;
    const problem = certificateProblem(t.certificate, t.key);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
  });

export const httpConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    port: z.number().int().min(0).max(65535).default(8470),
    /** Addresses to listen on: localhost always; add the gateway's LAN address for supervisors' tablets. */
    bind: z.array(bindAddress).default(['127.0.0.1']),
    /** `open`: anyone who reaches the page can view it; `login`: viewing needs a login too. Changes always need a login. */
    view: z.enum(['open', 'login']).default('open'),
    /** Local users (scrypt hashes), managed with `edge-agent users`. Relative to stateDir. */
    usersFile: z.string().default('users.json'),
    /** false: the agent does not start when the page cannot listen (exit 69). true: it runs without the page and tries again every 30 s. */
    optional: z.boolean().default(false),
    /** Serve the page over HTTPS (cookies then Secure). Without it, plain HTTP. */
    tls: httpTlsSchema.optional(),
  })
  .prefault({});

/** A batch or roll-up flow: events of its types are held until its schedule fires (docs/flows.md). */
export const flowConfigSchema = z.strictObject({
  /** In logs, on the status page, in metrics and in `edge-agent flows flush NAME`. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (at most 64, starting with a letter or digit)'),
  /** When the held events go into the queue: cron in plant time (an optional first field is seconds), or `@shift-change` (each start of a plant.shifts shift). */
  cron: flowCron,
  /** rollup: alike events become one event each time; batch: the held events go as they are. */
  mode: z.enum(['rollup', 'batch']),
  /** Event types this flow holds. A type belongs to one flow at most. */
  types: z.array(eventType).min(1, 'name at least one event type'),
});

export const schedulesConfigSchema = z
  .strictObject({
    /** Prune delivered events and old invalid input. */
    retention: cronExpr.default('17 3 * * *'),
    /** Refresh products, lots, work centers and open orders from Odoo. */
    masterData: cronExpr.default('*/15 * * * *'),
    /** Write the daily reconciliation report (what was received, sent, parked). */
    reconciliation: cronExpr.default('5 6 * * *'),
    /** Batch and roll-up flows. */
    flows: z.array(flowConfigSchema).default([]),
  })
  .superRefine((s, ctx) => {
    uniqueNames(s.flows, ctx, 'flow', 'flows');
    const owner = new Map<string, number>();
    s.flows.forEach((f, i) => {
      f.types.forEach((type, j) => {
        const at = ['flows', i, 'types', j];
        const first = owner.get(type);
        if (first === i) ctx.addIssue({ code: 'custom', path: at, message: `${type} is listed twice in this flow` });
        else if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: at,
            message: `${type} is already held by flow "${s.flows[first]!.name}" (schedules.flows[${first}]); a type belongs to one flow at most`,
          });
        } else owner.set(type, i);
        const refusal = f.mode === 'rollup' ? rollupRefusal(type) : undefined;
        if (refusal) ctx.addIssue({ code: 'custom', path: at, message: refusal });
      });
    });
  })
  .prefault({});

/** The per-order sync view (docs/status-page.md). */
export const ordersConfigSchema = z
  .strictObject({
    /** Read Odoo's side of the orders the outbox names this often (seconds) while Odoo answers; 0: never (the view shows what was last read). */
    refreshSeconds: z.number().int().min(0).max(86_400).default(60),
  })
  .prefault({});

/** Reconciliation against Odoo (docs/reconcile.md). */
export const reconcileConfigSchema = z
  .strictObject({
    /** When the agent reconciles on its own (cron), or "off". Default daily at 05:40. */
    schedule: z.union([z.literal('off'), cronExpr]).default('40 5 * * *'),
    /** The scheduled run checks events delivered in this many hours before it (25: a day, and an hour of overlap). */
    windowHours: z.number().min(1).max(744).default(25),
    /** Requests per second at most for reconciliation; inside the agent it also waits for the sync worker's limit (sync.maxRequestsPerSecond), shared with delivery. */
    maxRequestsPerSecond: z.number().min(0.1).max(1000).default(2),
    /** Record ids per read (search_read). */
    idsPerCall: z.number().int().min(10).max(2000).default(500),
  })
  .prefault({});

/** Every registered adapter kind's source schema, picked by `type`; each kind reads its own fields from what it parsed. */
function sourcesSchema(): z.ZodDefault<z.ZodArray<z.ZodType<SourceConfigBase>>> {
  const schemas = adapterKinds.map((k) => k.configSchema);
  if (schemas.length === 0) return z.array(z.never() as z.ZodType<SourceConfigBase>).default([]);
  const union =
    schemas.length === 1
      ? schemas[0]!
      : (z.discriminatedUnion('type', schemas as unknown as [z.ZodObject, ...z.ZodObject[]]) as unknown as z.ZodType<SourceConfigBase>);
  return z.array(union).default([]);
}

function uniqueNames(list: Array<{ name: string }>, ctx: z.RefinementCtx, what: string, at: string) {
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    const first = seen.get(item.name);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: [at, i, 'name'], message: `${what} name "${item.name}" is already used by ${at}[${first}]` });
    } else seen.set(item.name, i);
  });
}

/** The release's writes go through sources that can write, to targets of their kind; its MQTT needs the agent's own connection. */
function checkRelease(cfg: { release?: z.output<typeof releaseConfigSchema>; mqttOut?: unknown; sources: unknown[] }, ctx: z.RefinementCtx): void {
  const r = cfg.release;
  if (!r?.enabled) return;
  if (r.mqtt.enabled && !cfg.mqttOut)
    ctx.addIssue({ code: 'custom', path: ['release', 'mqtt'], message: 'publishing released orders needs the mqttOut section (the broker)' });
  const sources = new Map((cfg.sources as Array<{ name: string; type: string }>).map((x) => [x.name, x.type]));
  r.writes.forEach((w, i) => {
    const type = sources.get(w.source);
    if (type !== 'opcua' && type !== 'modbus') {
      const message = type ? `source "${w.source}" is of type ${type}; writes go through an opcua or modbus source` : `no source named "${w.source}"`;
      ctx.addIssue({ code: 'custom', path: ['release', 'writes', i, 'source'], message });
      return;
    }
    for (const field of ['order', 'quantity', 'product'] as const) {
      const t = w[field];
      if (t && 'nodeId' in t !== (type === 'opcua'))
        ctx.addIssue({
          code: 'custom',
          path: ['release', 'writes', i, field],
          message: type === 'opcua' ? 'an opcua source writes to a nodeId' : 'a modbus source writes to unitId and address',
        });
    }
  });
}

/** Built on demand so every registered adapter and rule kind is part of it. */
export function buildConfigSchema() {
  return z
    .strictObject({
      plant: z.strictObject({
        /** Short id of this plant/gateway: part of event ids and of Odoo external ids (edge_<id>). */
        id: z.string().regex(/^[a-z0-9][a-z0-9_]{0,31}$/, 'lower-case letters, digits and _ (at most 32)'),
        name: z.string().min(1).optional(),
        /** The plant's IANA time zone (Europe/Berlin): shifts, days, schedules, the times the page shows and the days Odoo keeps as a date. Events stay in UTC. Unset: the gateway's own. */
        timezone: timeZoneSchema.optional(),
        /** Shift calendar in plant time, e.g. [{name: early, start: "06:00"}, ...]; a shift lasts until the next starts. Default none. */
        shifts: shiftsSchema.default([]),
      }),
      /** Where the outbox, certificates and users live. Relative paths in the file are resolved against it. */
      stateDir: z.string().min(1).default('/var/lib/edge-agent'),
      log: z
        .strictObject({
          level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
        })
        .prefault({}),
      outbox: outboxConfigSchema,
      /** Without an odoo section the agent only buffers. */
      odoo: odooConfigSchema.optional(),
      sync: syncConfigSchema,
      sources: sourcesSchema(),
      rules: buildRulesConfigSchema(ruleKinds).default([]),
      http: httpConfigSchema,
      schedules: schedulesConfigSchema,
      orders: ordersConfigSchema,
      reconcile: reconcileConfigSchema,
      /** How far clocks may be apart, and which event times are believable (docs/guarantees.md, "Clocks"). */
      clocks: clocksConfigSchema,
      /** Agent state (online/offline) published on MQTT as retained birth and last-will messages. */
      mqttOut: mqttOutSchema.optional(),
      /** Order release, Odoo -> plant (docs/order-release.md). */
      release: releaseConfigSchema.optional(),
    })
    .superRefine((cfg, ctx) => {
      uniqueNames(cfg.sources as Array<{ name: string }>, ctx, 'source', 'sources');
      // A rule that names no configured source would never fire: a typo must not silently switch it off.
      const sourceNames = new Set((cfg.sources as Array<{ name: string }>).map((x) => x.name));
      (cfg.rules as Array<{ source?: string }>).forEach((r, i) => {
        if (r.source !== undefined && !sourceNames.has(r.source)) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'source'],
            message: `no source named "${r.source}" (sources: ${[...sourceNames].join(', ') || 'none'})`,
          });
        }
      });
      checkRelease(cfg, ctx);
      if (cfg.plant.shifts.length === 0) {
        (cfg.rules as Array<{ shiftTotals?: boolean }>).forEach((r, i) => {
          if (r.shiftTotals)
            ctx.addIssue({ code: 'custom', path: ['rules', i, 'shiftTotals'], message: 'shiftTotals needs a shift calendar: set plant.shifts' });
        });
        cfg.schedules.flows.forEach((f, i) => {
          if (f.cron === AT_SHIFT_CHANGE) {
            ctx.addIssue({ code: 'custom', path: ['schedules', 'flows', i, 'cron'], message: `${AT_SHIFT_CHANGE} needs a shift calendar: set plant.shifts` });
          }
        });
      }
      const mapped = new Map<string, number>();
      cfg.sync.mappings.forEach((m, i) => {
        const first = mapped.get(m.eventType);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['sync', 'mappings', i, 'eventType'],
            message: `${m.eventType} is already mapped by sync.mappings[${first}]; keep one`,
          });
        } else mapped.set(m.eventType, i);
      });
    });
}

export type AgentConfig = z.output<ReturnType<typeof buildConfigSchema>>;
