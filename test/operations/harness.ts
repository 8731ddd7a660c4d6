/**
 * Where the operation tests run: the Odoo simulator (always), and a real Odoo
 * when ODOO_URL, ODOO_DB, ODOO_USER and ODOO_API_KEY are set. Test data
 * (products, work centers, orders) is made with a second, administrator
 * client: ODOO_ADMIN_USER + ODOO_ADMIN_API_KEY on a real Odoo (the agent's own
 * user may not create master data, as in production).
 */
import { after, before, describe } from 'node:test';
import pino from 'pino';
import { randomEventId } from '../../agent/model/event-ids';
import { canonicalEventSchema, type EventOf, type EventType, type PayloadOf } from '../../agent/model/event';
import { createOdooClient } from '../../agent/odoo/client';
import { odooConfigSchema } from '../../agent/odoo/config';
import type { OdooClient, OdooServerInfo } from '../../agent/odoo/types';
import type { OperationContext } from '../../agent/sync/operations/types';
import { startOdooSim, type OdooSimOptions } from '../odoo-sim';

export const silent = pino({ level: 'silent' });

export interface Target {
  label: string;
  /** The agent's client (the bot user). */
  odoo: OdooClient;
  /** A client allowed to create master data. */
  admin: OdooClient;
  server: OdooServerInfo;
  /** Unique per run: every name made by a test carries it. */
  run: string;
  ctx: OperationContext;
  /** True on the simulator. */
  simulated: boolean;
  close(): Promise<void>;
}

let secretN = 0;
/** The client config wants a secret reference; park the key in an env variable of our own. */
function keyRef(value: string): string {
  const name = `EDGE_OPS_TEST_KEY_${process.pid}_${++secretN}`;
  process.env[name] = value;
  return `\${env:${name}}`;
}

export function makeClient(url: string, database: string, username: string | undefined, apiKey: string, version?: number): OdooClient {
  const config = odooConfigSchema.parse({
    url,
    database,
    username,
    apiKey: keyRef(apiKey),
    ...(version !== undefined ? { version } : {}),
    // ODOO_COMPANY (a name or an id): every call of the suite carries allowed_company_ids, as a plant's agent does.
    ...(process.env.ODOO_COMPANY ? { company: /^\d+$/.test(process.env.ODOO_COMPANY) ? Number(process.env.ODOO_COMPANY) : process.env.ODOO_COMPANY } : {}),
    timeouts: { connectMs: 5000, headersMs: 60_000, bodyMs: 60_000 },
  });
  return createOdooClient(config, silent);
}

function runId(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`.toUpperCase();
}

/** Why the real-Odoo run is skipped, or undefined when it can run. */
export function realOdooSkipReason(): string | undefined {
  const missing = ['ODOO_URL', 'ODOO_DB', 'ODOO_USER', 'ODOO_API_KEY'].filter((n) => !process.env[n]);
  if (missing.length > 0) return `real Odoo not configured (${missing.join(', ')} unset)`;
  if (!process.env.ODOO_ADMIN_API_KEY)
    return 'real Odoo: ODOO_ADMIN_API_KEY unset (an administrator key is needed to create test products, work centers and orders)';
  return undefined;
}

export async function openRealOdoo(): Promise<Target> {
  const env = process.env;
  const version = env.ODOO_VERSION ? Number(env.ODOO_VERSION) : undefined;
  const odoo = makeClient(env.ODOO_URL!, env.ODOO_DB!, env.ODOO_USER, env.ODOO_API_KEY!, version);
  const admin = makeClient(env.ODOO_URL!, env.ODOO_DB!, env.ODOO_ADMIN_USER ?? 'admin', env.ODOO_ADMIN_API_KEY!, version);
  const server = await odoo.connect();
  await admin.connect();
  const run = runId();
  return {
    label: `real Odoo ${server.serverVersion} (${server.protocol})`,
    odoo,
    admin,
    server,
    run,
    simulated: false,
    ctx: { odoo, server, xmlidModule: `edge_test_${run.toLowerCase()}`, log: silent },
    async close() {
      await odoo.close();
      await admin.close();
    },
  };
}

// ---- running one suite on every Odoo there is -------------------------------

export interface Suite {
  /** The target (valid inside tests). */
  readonly t: Target;
}

/**
 * Register `body` once per Odoo: the simulator, then the real Odoo from the
 * environment. A target that cannot run is skipped with its reason printed.
 */
export function onEveryOdoo(title: string, body: (s: Suite) => void, simOptions: OdooSimOptions = {}): void {
  const targets: Array<{ kind: string; skip?: string; open: () => Promise<Target> }> = [
    { kind: 'simulator', open: () => openSimulator(simOptions) },
    { kind: 'real Odoo', skip: realOdooSkipReason(), open: openRealOdoo },
  ];
  for (const target of targets) {
    describe(`${title} [${target.kind}]`, { skip: target.skip }, () => {
      let current: Target | undefined;
      const suite: Suite = {
        get t() {
          if (!current) throw new Error('target not open');
          return current;
        },
      };
      before(async () => {
        current = await target.open();
      });
      after(async () => {
        await current?.close();
      });
      body(suite);
    });
  }
}

/** The simulator; its Odoo version from EDGE_OPS_SIM_VERSION (default 19). */
async function openSimulator(options: OdooSimOptions): Promise<Target> {
  const version = Number(process.env.EDGE_OPS_SIM_VERSION ?? 19) as 17 | 18 | 19;
  const sim = await startOdooSim({ version, ...options });
  const odoo = makeClient(sim.url, sim.db, sim.login, sim.apiKey);
  const admin = makeClient(sim.url, sim.db, 'admin', sim.adminApiKey);
  const server = await odoo.connect();
  await admin.connect();
  const run = runId();
  return {
    label: `simulated Odoo ${server.major}`,
    odoo,
    admin,
    server,
    run,
    simulated: true,
    ctx: { odoo, server, xmlidModule: `edge_test_${run.toLowerCase()}`, log: silent },
    async close() {
      await odoo.close();
      await admin.close();
      await sim.close();
    },
  };
}

let seq = 0;
/** A valid canonical event (checked by the schema, defaults applied). */
export function ev<T extends EventType>(
  type: T,
  payload: PayloadOf<T> | Record<string, unknown>,
  over: { id?: string; occurredAt?: string; sequenceKey?: string } = {},
): EventOf<T> {
  seq++;
  const occurredAt = over.occurredAt ?? new Date(Date.UTC(2026, 10, 26, 8, 0, 0) + seq * 1000).toISOString();
  const parsed = canonicalEventSchema.parse({
    id: over.id ?? randomEventId(),
    type,
    sequenceKey: over.sequenceKey ?? 'test',
    occurredAt,
    receivedAt: occurredAt,
    source: 'ops-test',
    payload,
  });
  return parsed as EventOf<T>;
}
