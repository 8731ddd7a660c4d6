import { z } from 'zod';
import { secretRef } from '../config/secrets';

/** Connection timeouts, each for one request. */
const timeoutsSchema = z.strictObject({
  /** Time to open the TCP (and TLS) connection to Odoo. */
  connectMs: z.int().positive().default(10_000),
  /** Time from sending a request until Odoo's response headers arrive (Odoo works on the call meanwhile). */
  headersMs: z.int().positive().default(30_000),
  /** Longest pause while the response body is arriving. */
  bodyMs: z.int().positive().default(60_000),
});

/** How the agent checks Odoo's certificate (https URLs). */
const tlsSchema = z.strictObject({
  /** PEM file with the certificate authority that signed Odoo's certificate (a plant CA); the system CAs when unset. */
  caFile: z.string().min(1).optional(),
  /** Check Odoo's certificate. Leave true: false accepts any server claiming to be Odoo. */
  rejectUnauthorized: z.boolean().default(true),
});

/**
 * The `odoo:` section: where Odoo is and how the agent logs in. HTTP(S) proxies
 * come from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as for other
 * tools on the gateway.
 */
export const odooConfigSchema = z
  .strictObject({
    /** Odoo's base address, without a path: `https://erp.example.com` or `http://10.0.0.5:8069`. */
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// address' }).transform((u) => u.replace(/\/+$/, '')),
    /** Database name; sent with every call (X-Odoo-Database), so it works when several databases share a server. */
    database: z.string().min(1),
    /** API to use: `auto` picks JSON-2 on Odoo 19 and later and JSON-RPC before; `json2` or `jsonrpc` force one. */
    protocol: z.enum(['auto', 'json2', 'jsonrpc']).default('auto'),
    /** Odoo major version: `auto` asks the server at connect; a number (17, 18, 19, ...) skips the question. */
    version: z.union([z.literal('auto'), z.int().min(16).max(99)]).default('auto'),
    /** Login of the agent's Odoo user (JSON-RPC needs it to find the user id; JSON-2 does not use it). No default. */
    username: z.string().min(1).optional(),
    /** The user's API key, as a secret reference: `${env:ODOO_API_KEY}`, `${file:/path}` or `${credential:odoo-api-key}`. */
    apiKey: secretRef(),
    /** Certificate checks for https. */
    tls: tlsSchema.default({ rejectUnauthorized: true }),
    /** Per-request timeouts. */
    timeouts: timeoutsSchema.default({ connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 }),
    /** How long an idle connection to Odoo is kept open for the next call. */
    keepAliveMs: z.int().positive().default(4_000),
    /** Connections to Odoo open at once at most (calls beyond wait their turn). */
    maxConnections: z.int().positive().max(64).default(4),
    /**
     * The plant's company in a multi-company Odoo: its name or id. Sent as `allowed_company_ids` in the context of
     * every call, and master data is pulled for it only. Unset: the user's default company, as Odoo decides.
     */
    company: z.union([z.string().trim().min(1), z.int().positive()]).optional(),
    /**
     * The plant's warehouse: its name or short name (`WH`). Inventory transfers use its internal operation type when
     * their locations belong to no warehouse. Unset: the locations' own warehouse, else the first internal type.
     */
    warehouse: z.string().trim().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    const jsonrpc = c.protocol === 'jsonrpc' || (c.protocol === 'auto' && c.version !== 'auto' && c.version < 19);
    if (jsonrpc && !c.username) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: "required for JSON-RPC (Odoo 17/18): the login of the agent's Odoo user" });
    }
    if (c.protocol === 'json2' && c.version !== 'auto' && c.version < 19) {
      ctx.addIssue({ code: 'custom', path: ['protocol'], message: `json2 needs Odoo 19 or later (version is pinned to ${c.version})` });
    }
  });

/** The validated `odoo:` section (secrets resolved). */
export type OdooConfig = z.output<typeof odooConfigSchema>;
/** The `odoo:` section as written in the YAML file. */
export type OdooConfigInput = z.input<typeof odooConfigSchema>;
