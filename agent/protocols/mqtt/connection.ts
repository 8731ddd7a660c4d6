import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { IClientOptions } from 'mqtt';
import { AgentError } from '../../errors';
import { secretRef } from '../../config/secrets';

/**
 * Connection settings shared by the MQTT source and the MQTT status
 * publisher: where the broker is, how to log in, TLS, keepalive, reconnect.
 */

const brokerUrl = z.string().superRefine((u, ctx) => {
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a URL; expected mqtt://host:1883 or mqtts://host:8883' });
    return;
  }
  if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') {
    ctx.addIssue({ code: 'custom', message: 'the broker URL must start with mqtt:// or mqtts://' });
  } else if (!parsed.hostname) {
    ctx.addIssue({ code: 'custom', message: 'the broker URL needs a host name' });
  }
  if (parsed.username || parsed.password) {
    ctx.addIssue({ code: 'custom', message: 'no user or password in the URL: use `username` and `password` (a secret reference)' });
  }
});

/** Characters a client id may hold: brokers accept these everywhere. */
const CLIENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export const clientIdField = z.string().regex(CLIENT_ID, 'letters, digits, _ . : - (1 to 128 characters)');

export const tlsSchema = z
  .strictObject({
    /** PEM file of the certificate authority that signed the broker's certificate (absolute, or relative to the state directory). Default: the system's trusted CAs. */
    caFile: z.string().min(1).optional(),
    /** PEM client certificate, when the broker authenticates clients by certificate. */
    certFile: z.string().min(1).optional(),
    /** PEM private key of the client certificate, as a file (absolute, or relative to the state directory). Or `key`. */
    keyFile: z.string().min(1).optional(),
    /** PEM private key of the client certificate, as a secret reference (${credential:NAME}, ${file:/path}, ${env:NAME}). Or `keyFile`. */
    key: secretRef().optional(),
    /** Passphrase of the private key, as a secret reference (${env:NAME}, ${file:/path}, ${credential:NAME}). */
    keyPassphrase: secretRef().optional(),
    /** Check the broker's certificate and host name. Turn off only on a test bench. */
    rejectUnauthorized: z.boolean().default(true),
  })
  .superRefine((t, ctx) => {
    if (t.keyFile !== undefined && t.key !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'give the client key once: keyFile or key, not both' });
    } else if ((t.certFile === undefined) !== (t.keyFile === undefined && t.key === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'certFile and keyFile go together (or certFile and key)' });
    }
  });

/** A problem with `tls` on a plain mqtt:// URL: mqtt.js would silently connect without TLS. */
export function tlsUrlProblem(c: { url: string; tls?: unknown }, ctx: z.RefinementCtx): void {
  if (c.tls !== undefined && c.url.startsWith('mqtt://')) {
    ctx.addIssue({ code: 'custom', path: ['url'], message: 'tls is set but the URL is mqtt:// (no TLS); use mqtts://host:8883' });
  }
}

export const connectionFields = {
  /** Broker address: mqtt://host:1883 or mqtts://host:8883. */
  url: brokerUrl,
  /** MQTT protocol version: 4 is MQTT 3.1.1 (every broker), 5 is MQTT 5. */
  protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
  /** User name for the broker, if it asks for one. */
  username: z.string().min(1).max(256).optional(),
  /** Password for the broker, as a secret reference (${env:NAME}, ${file:/path}, ${credential:NAME}). */
  password: secretRef().optional(),
  /** TLS files and checks (with mqtts://). */
  tls: tlsSchema.optional(),
  /** Seconds between keepalive pings; the broker drops the client after 1.5 times this without traffic. */
  keepaliveS: z.number().int().min(5).max(65535).default(30),
  /** Milliseconds to wait before connecting again after the connection is lost. */
  reconnectPeriodMs: z.number().int().min(100).max(600_000).default(2000),
  /** Milliseconds to wait for the broker to accept a connection before giving up on that attempt. */
  connectTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
};

export interface ConnectionConfig {
  url: string;
  protocolVersion: 4 | 5;
  username?: string | undefined;
  password?: string | undefined;
  tls?: z.output<typeof tlsSchema> | undefined;
  keepaliveS: number;
  reconnectPeriodMs: number;
  connectTimeoutMs: number;
}

/** A broker client id from the plant and a name: stable across restarts (a persistent session is bound to it). */
export function defaultClientId(plant: string, name: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '');
  const id = `edge-agent.${clean(plant) || 'plant'}.${clean(name) || 'client'}`;
  return id.length <= 128 ? id : id.slice(0, 128);
}

function readPem(file: string, baseDir: string, what: string): Buffer {
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new AgentError('MQTT_TLS_FILE', `cannot read the TLS ${what} ${path} (${code})`, { cause: err });
  }
}

/**
 * mqtt.js options for a connection. Reads the TLS files (relative paths are
 * taken from `baseDir`, the agent's state directory). Throws AgentError
 * `MQTT_TLS_FILE` when a file cannot be read.
 */
export function clientOptions(conn: ConnectionConfig, clientId: string, clean: boolean, baseDir: string): IClientOptions {
  const opts: IClientOptions = {
    clientId,
    clean,
    protocolVersion: conn.protocolVersion,
    keepalive: conn.keepaliveS,
    reconnectPeriod: conn.reconnectPeriodMs,
    connectTimeout: conn.connectTimeoutMs,
    // A broker that refuses us (wrong password, not yet allowed) may be fixed later: keep trying.
    reconnectOnConnackError: true,
    // Subscriptions are made by the adapter on each connect, not replayed by the library.
    resubscribe: false,
    // Never queue QoS 0 publishes while offline: they are status telemetry, current or nothing.
    queueQoSZero: false,
  };
  // mqtt.js traces every packet through the `debug` package (several calls
  // per packet, each building its arguments and checking whether tracing is
  // on). The agent logs what matters itself; mqtt.js's trace stays available
  // with DEBUG=mqttjs*.
  if (!/mqttjs/.test(process.env.DEBUG ?? '')) opts.log = quiet;
  if (conn.username !== undefined) opts.username = conn.username;
  if (conn.password !== undefined) opts.password = conn.password;
  if (conn.tls) {
    const t = conn.tls;
    if (t.caFile) opts.ca = readPem(t.caFile, baseDir, 'CA file');
    if (t.certFile) opts.cert = readPem(t.certFile, baseDir, 'certificate file');
    if (t.keyFile) opts.key = readPem(t.keyFile, baseDir, 'key file');
    if (t.key) opts.key = Buffer.from(t.key);
    if (t.keyPassphrase !== undefined) (opts as IClientOptions & { passphrase?: string }).passphrase = t.keyPassphrase;
    opts.rejectUnauthorized = t.rejectUnauthorized;
  }
  return opts;
}

function quiet(): void {}

/** Node's codes for a broker certificate that the configured CAs do not vouch for. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/**
 * A TLS failure of a broker connection said in the plant's words (which side
 * refused what, and which option to look at), as AgentError `MQTT_TLS_REFUSED`
 * with the original as cause; any other error is returned as it is.
 */
export function explainTlsError(err: unknown, conn: Pick<ConnectionConfig, 'url' | 'tls'>): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  const raw = (err as Error).message ?? String(err);
  const ca = conn.tls?.caFile ? `tls.caFile ${conn.tls.caFile}` : "the system's trusted CAs (set tls.caFile for a plant CA)";
  let message: string | undefined;
  if (UNTRUSTED.has(code)) message = `the broker's certificate is not signed by a CA the agent trusts (${ca}): ${code}`;
  else if (code === 'CERT_HAS_EXPIRED') message = `the broker's certificate has expired: ${code}`;
  else if (code === 'CERT_NOT_YET_VALID') message = `the broker's certificate is not valid yet (check the gateway's clock): ${code}`;
  else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') message = `the broker's certificate is not for the host in url (${safeUrl(conn.url)}): ${raw}`;
  else if (
    /^ERR_SSL_(TLSV1_ALERT_UNKNOWN_CA|SSLV3_ALERT_BAD_CERTIFICATE|TLSV1_ALERT_DECRYPT_ERROR|SSLV3_ALERT_CERTIFICATE_UNKNOWN|TLSV1_ALERT_ACCESS_DENIED)$/.test(
      code,
    )
  ) {
    message = conn.tls?.certFile
      ? `the broker refused the agent's client certificate (tls.certFile ${conn.tls.certFile}): ${code}`
      : `the broker refused the connection during the TLS handshake: ${code}`;
  } else if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
    message = `the broker asks for a client certificate (set tls.certFile and tls.keyFile): ${code}`;
  } else if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    message = `the broker does not speak TLS on this port (an mqtts:// URL to a plain listener?): ${code}`;
  }
  return message === undefined ? err : new AgentError('MQTT_TLS_REFUSED', message, { cause: err });
}

/** The broker address without user or password, for logs and health. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid url)';
  }
}
