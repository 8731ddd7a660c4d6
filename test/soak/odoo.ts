import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { OdooClient } from '../../agent/odoo/types';
import { makeClient } from '../operations/harness';
import type { StormFault } from './plan';

/**
 * The Odoo the soak delivers to: the simulator as a process of its own (so it
 * outlives everything the driver does to the agent), or a real Odoo when
 * ODOO_URL is set (ODOO_DB, ODOO_USER, ODOO_API_KEY; ODOO_ADMIN_USER and
 * ODOO_ADMIN_API_KEY to make the work centers). Fault storms need the
 * simulator.
 */
export interface SoakOdoo {
  label: string;
  /** Where Odoo listens: the WAN proxy forwards here. */
  host: string;
  port: number;
  database: string;
  /** The agent's login (JSON-RPC on 17/18 needs it). */
  login: string;
  /** The agent's API key. */
  apiKey: string;
  /** A client allowed to make work centers and read everything back. */
  admin: OdooClient;
  /** Why fault storms cannot be injected, or undefined. */
  stormsSkipped: string | undefined;
  storm(faults: StormFault[]): Promise<void>;
  clearFaults(): Promise<void>;
  close(): Promise<void>;
}

const simMain = join(__dirname, '..', 'odoo-sim', 'main.js');

async function control(base: string, method: 'POST' | 'DELETE', body?: unknown): Promise<void> {
  // While a `refuse` fault of an earlier storm holds (at most 3.5 s), the simulator listens nowhere, its
  // control endpoint included; a keep-alive connection it just closed fails too. Try again for a while.
  const until = Date.now() + 6000;
  for (;;) {
    let res: Response;
    try {
      res = await fetch(`${base}/__sim/faults`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      if (Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      throw new Error(`odoo simulator: ${method} /__sim/faults: ${(err as Error).message} (${String((err as { cause?: unknown }).cause)})`, { cause: err });
    }
    if (res.status !== 200) throw new Error(`odoo simulator: ${method} /__sim/faults answered ${res.status}: ${await res.text()}`);
    return;
  }
}

export async function startSoakOdoo(simVersion: 17 | 18 | 19): Promise<SoakOdoo> {
  const env = process.env;
  if (env.ODOO_URL) {
    const missing = ['ODOO_DB', 'ODOO_USER', 'ODOO_API_KEY', 'ODOO_ADMIN_API_KEY'].filter((n) => !env[n]);
    if (missing.length > 0) throw new Error(`ODOO_URL is set but ${missing.join(', ')} is not`);
    const url = new URL(env.ODOO_URL);
    if (url.protocol !== 'http:')
      throw new Error('the soak puts a TCP proxy in front of Odoo: give a plain http:// ODOO_URL (the gateway side of a TLS terminator)');
    const version = env.ODOO_VERSION ? Number(env.ODOO_VERSION) : undefined;
    const admin = makeClient(env.ODOO_URL, env.ODOO_DB!, env.ODOO_ADMIN_USER ?? 'admin', env.ODOO_ADMIN_API_KEY!, version);
    const info = await admin.connect();
    return {
      label: `real Odoo ${info.serverVersion} at ${env.ODOO_URL}`,
      host: url.hostname,
      port: Number(url.port || 80),
      database: env.ODOO_DB!,
      login: env.ODOO_USER!,
      apiKey: env.ODOO_API_KEY!,
      admin,
      stormsSkipped: 'fault storms need the Odoo simulator (ODOO_URL is set)',
      storm: async () => undefined,
      clearFaults: async () => undefined,
      close: () => admin.close(),
    };
  }
  const child: ChildProcess = spawn(process.execPath, [simMain, '--port', '0', '--version', String(simVersion)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      if (lines.some((l) => l.startsWith('admin api key: '))) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the Odoo simulator ended at start (exit ${code})`)));
    child.once('error', reject);
  });
  const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))!.slice(name.length + 2);
  const base = lines[0]!;
  const url = new URL(base);
  const admin = makeClient(base, field('database'), 'admin', field('admin api key'));
  await admin.connect();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    label: `Odoo simulator ${simVersion} (own process)`,
    host: url.hostname,
    port: Number(url.port),
    database: field('database'),
    login: field('login'),
    apiKey: field('api key'),
    admin,
    stormsSkipped: undefined,
    storm: (faults) => control(base, 'POST', faults),
    clearFaults: () => control(base, 'DELETE'),
    async close() {
      await admin.close();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Make a work center per name (unique to the run); their ids. */
export async function makeWorkcenters(admin: OdooClient, names: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, name] of names.entries()) {
    const id = await admin.call<number | number[]>('mrp.workcenter', 'create', { kwargs: { vals_list: [{ name, code: `SK${i}` }] } });
    ids.push(Array.isArray(id) ? id[0]! : id);
  }
  return ids;
}
