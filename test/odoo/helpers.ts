import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../agent/log';
import type { OdooConfig } from '../../agent/odoo/config';
import type { OdooSim } from '../odoo-sim';

/** A client config for a simulator (the shape odooConfigSchema produces, secrets resolved). */
export function simConfig(sim: OdooSim, over: Partial<OdooConfig> = {}): OdooConfig {
  return {
    url: sim.url,
    database: sim.db,
    protocol: 'auto',
    version: 'auto',
    username: sim.login,
    apiKey: sim.apiKey,
    tls: { rejectUnauthorized: true },
    timeouts: { connectMs: 2000, headersMs: 5000, bodyMs: 5000 },
    keepAliveMs: 4000,
    maxConnections: 4,
    ...over,
  };
}

/** The client config of the real Odoo in the environment (ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY), or undefined when it is not set. */
export function realOdooConfig(headersMs = 30_000): OdooConfig | undefined {
  const { ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY } = process.env;
  if (!ODOO_URL || !ODOO_DB || !ODOO_API_KEY) return undefined;
  return {
    url: ODOO_URL.replace(/\/+$/, ''),
    database: ODOO_DB,
    protocol: 'auto',
    version: 'auto',
    username: ODOO_USER,
    apiKey: ODOO_API_KEY,
    tls: { rejectUnauthorized: true },
    timeouts: { connectMs: 5000, headersMs, bodyMs: headersMs },
    keepAliveMs: 4000,
    maxConnections: 2,
  };
}

/** A logger that keeps every line it writes (to check that no secret is logged). */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

export const silentLogger: Logger = pino({ level: 'silent' });

/** Await a promise expected to reject; returns the error. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}
