import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { readRegularFile } from '../../config/read-file';
import { MAX_SECRET_BYTES, secretRef } from '../../config/secrets';
import { sourceBase } from '../base';
import { parseBrowsePath, parseNodeId } from './addressing';

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;

function readableFile(what: 'certificate' | 'private key') {
  return z
    .string()
    .min(1)
    .superRefine((path, ctx) => {
      if (!isAbsolute(path)) {
        ctx.addIssue({ code: 'custom', message: `the ${what} file path must be absolute` });
        return;
      }
      const file = readRegularFile(path, MAX_SECRET_BYTES);
      if (!file.ok) {
        ctx.addIssue({ code: 'custom', message: `cannot read the ${what} file ${path} (${file.reason})` });
        return;
      }
      const text = file.bytes.toString('utf8');
      try {
        if (what === 'certificate') new X509Certificate(text);
        else createPrivateKey(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${path} does not hold a PEM ${what}` });
      }
    });
}

const deadbandSchema = z
  .strictObject({
    /** absolute: report a change only when the value moved by more than `value` (in the variable's own unit). percent: by more than `value` % of the variable's EURange (the server must publish an EURange for it). */
    type: z.enum(['absolute', 'percent']),
    /** The dead band: a positive number (for percent, at most 100). */
    value: z.number().positive(),
  })
  .superRefine((d, ctx) => {
    if (d.type === 'percent' && d.value > 100) ctx.addIssue({ code: 'custom', path: ['value'], message: 'a percent dead band is at most 100' });
  });

const itemSchema = z
  .strictObject({
    /** The signal's tag: what rules match on. Unique within the source. */
    tag: z.string().min(1).max(200),
    /** The variable's NodeId, e.g. "ns=2;s=Line1.Counter" or "nsu=urn:vendor:plc;i=1001". Exactly one of nodeId / browsePath. */
    nodeId: z.string().optional(),
    /** Or its browse path from the Root folder, e.g. "/Objects/2:Line1/2:Counter". Resolved on every connect. */
    browsePath: z.string().optional(),
    /** How often the server samples this variable, ms (0 = as fast as it can). Default: the subscription's samplingIntervalMs. */
    samplingIntervalMs: z.number().min(0).max(3_600_000).optional(),
    /** Changes the server keeps for this item between two publishes (older ones are dropped first). Default: the subscription's queueSize. */
    queueSize: z.number().int().min(1).max(10_000).optional(),
    /** Ignore changes smaller than this (numbers only). Default: none, every change is reported. */
    deadband: deadbandSchema.optional(),
  })
  .superRefine((item, ctx) => {
    const hasNodeId = item.nodeId !== undefined;
    const hasPath = item.browsePath !== undefined;
    if (hasNodeId === hasPath) {
      ctx.addIssue({
        code: 'custom',
        message: hasNodeId
          ? `item "${item.tag}" has both nodeId and browsePath: give exactly one`
          : `item "${item.tag}" needs exactly one of nodeId (e.g. "ns=2;s=Line1.Counter") or browsePath (e.g. "/Objects/2:Line1/2:Counter")`,
      });
      return;
    }
    if (item.nodeId !== undefined) {
      const r = parseNodeId(item.nodeId);
      if (!r.ok) ctx.addIssue({ code: 'custom', path: ['nodeId'], message: r.message });
    }
    if (item.browsePath !== undefined) {
      const r = parseBrowsePath(item.browsePath);
      if (!r.ok) ctx.addIssue({ code: 'custom', path: ['browsePath'], message: r.message });
    }
  });

const subscriptionSchema = z.strictObject({
  /** A name for logs and the status page. Default: "subscription-<n>" (1-based). */
  name: z.string().min(1).max(64).optional(),
  /** How often the server sends the changes it collected, ms. */
  publishingIntervalMs: z.number().min(10).max(3_600_000).default(1000),
  /** How often the server samples each variable, ms (0 = as fast as it can). Default: publishingIntervalMs. */
  samplingIntervalMs: z.number().min(0).max(3_600_000).optional(),
  /** Changes the server keeps per item between two publishes, so short pulses are not missed. */
  queueSize: z.number().int().min(1).max(10_000).default(10),
  /** The variables to watch. */
  items: z.array(itemSchema).min(1),
});

/** Well-known NodeIds of OPC UA Part 9 (namespace 0). */
export const SERVER_OBJECT = 'i=2253';
export const ALARM_CONDITION_TYPE = 'i=2915';

const nodeIdText = z.string().superRefine((text, ctx) => {
  const r = parseNodeId(text);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
});

const alarmsSchema = z.strictObject({
  /** A name for logs and the status page. Default: "alarms-<n>" (1-based). */
  name: z.string().min(1).max(64).optional(),
  /** The object whose events to receive: the Server object (i=2253, every alarm of the server) or an area / machine object that is an event notifier. */
  notifier: nodeIdText.default(SERVER_OBJECT),
  /** Event types to receive (NodeIds; subtypes included). Default: AlarmConditionType (i=2915), every alarm. */
  eventTypes: z.array(nodeIdText).min(1).max(20).default([ALARM_CONDITION_TYPE]),
  /** Only alarms of at least this severity (1-1000) are reported when they become active or change; the return to inactive is always reported. */
  minSeverity: z.number().int().min(0).max(1000).default(0),
  /** How often the server sends the events it collected, ms. */
  publishingIntervalMs: z.number().min(10).max(3_600_000).default(1000),
  /** Events the server keeps between two publishes; a burst beyond this loses the oldest (the server says so with an overflow event). */
  queueSize: z.number().int().min(1).max(100_000).default(1000),
});

const usernameAuth = z.strictObject({
  /** User name the server knows. */
  username: z.string().min(1),
  /** Its password: a secret reference (${env:NAME}, ${file:/path}, ${credential:NAME}), never inline. */
  password: secretRef(),
});

const certificateAuth = z.strictObject({
  /** A user certificate (PEM) the server maps to a user. Absolute path. */
  certificateFile: readableFile('certificate'),
  /** Its private key (PEM, not encrypted). Absolute path; keep it readable by the agent only. */
  privateKeyFile: readableFile('private key'),
});

type AuthConfig = 'anonymous' | z.output<typeof usernameAuth> | z.output<typeof certificateAuth>;

const AUTH_HELP = 'auth must be "anonymous", {username, password} or {certificateFile, privateKeyFile}';

/**
 * The login, picked by its shape so a mistake in one form gets that form's
 * message (a plain union would only say "invalid input").
 */
const authSchema = z.unknown().transform((value, ctx): AuthConfig => {
  let form: z.ZodType<AuthConfig> | null = null;
  if (value === 'anonymous') return 'anonymous';
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('username' in value || 'password' in value) form = usernameAuth;
    else if ('certificateFile' in value || 'privateKeyFile' in value) form = certificateAuth;
  }
  if (!form) {
    ctx.addIssue({ code: 'custom', message: AUTH_HELP });
    return z.NEVER;
  }
  const r = form.safeParse(value);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [...issue.path] as Array<string | number> });
  return z.NEVER;
});

function buildSchema() {
  return z
    .strictObject({
      ...sourceBase,
      type: z.literal('opcua'),
      /** The server's endpoint, e.g. "opc.tcp://plc-line1.plant.local:4840". */
      endpointUrl: z
        .string()
        .regex(/^opc\.tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[^\s/:[\]]+)(:\d{1,5})?(\/\S*)?$/, 'an OPC UA endpoint such as "opc.tcp://plc-line1:4840"'),
      /** None: no protection. Sign: messages are signed (not readable-proof). SignAndEncrypt: signed and encrypted (use this). */
      securityMode: z.enum(SECURITY_MODES).default('SignAndEncrypt'),
      /** The algorithms; must be None exactly when securityMode is None. Basic256Sha256 is what most PLCs offer. */
      securityPolicy: z.enum(SECURITY_POLICIES).default('Basic256Sha256'),
      /** Who the agent logs in as: "anonymous", {username, password} or {certificateFile, privateKeyFile}. */
      auth: authSchema.default('anonymous'),
      /** Trust any server certificate it is shown (and file it as trusted). For a first test on a bench only: never in production. */
      autoAcceptUnknownCertificate: z.boolean().default(false),
      /** The PKI folder: the agent's own certificate and the trusted/rejected server certificates. Default: <stateDir>/pki. Relative paths are relative to stateDir. */
      pkiDir: z.string().min(1).optional(),
      /** Application name in the agent's certificate and in the server's session list. */
      applicationName: z
        .string()
        .min(1)
        .max(64)
        .regex(/^[^:/]+$/, 'no ":" or "/" (it becomes part of a URN)')
        .default('odoo-edge-agent'),
      /** How long the server keeps the agent's session (and its subscriptions) after the connection drops, ms. */
      requestedSessionTimeoutMs: z.number().int().min(10_000).max(3_600_000).default(120_000),
      /** Time limit for each request to the server (connect, browse, create subscription, write), ms. */
      requestTimeoutMs: z.number().int().min(1000).max(300_000).default(15_000),
      reconnect: z
        .strictObject({
          /** First retry after a lost or failed connection, ms. Doubles per failed attempt. */
          initialDelayMs: z.number().int().min(100).max(600_000).default(1000),
          /** Retries never wait longer than this, ms. Retries never stop. */
          maxDelayMs: z.number().int().min(100).max(3_600_000).default(30_000),
        })
        .prefault({}),
      /** Subscriptions: groups of variables the server reports on change. */
      subscriptions: z.array(subscriptionSchema).min(1),
      /** Alarms and conditions: events of a notifier (Server object or an area), each alarm transition a signal. Default: none. */
      alarms: z.array(alarmsSchema).max(20).default([]),
    })
    .superRefine((cfg, ctx) => {
      if ((cfg.securityMode === 'None') !== (cfg.securityPolicy === 'None')) {
        ctx.addIssue({
          code: 'custom',
          path: ['securityPolicy'],
          message: `securityMode ${cfg.securityMode} needs ${cfg.securityMode === 'None' ? 'securityPolicy None' : 'a securityPolicy other than None (Basic256Sha256 is the usual one)'}`,
        });
      }
      if (cfg.reconnect.initialDelayMs > cfg.reconnect.maxDelayMs) {
        ctx.addIssue({ code: 'custom', path: ['reconnect', 'initialDelayMs'], message: 'must not be larger than reconnect.maxDelayMs' });
      }
      const tags = new Map<string, string>();
      const names = new Map<string, number>();
      const alarmNames = new Set<string>();
      cfg.alarms.forEach((a, i) => {
        const name = a.name ?? `alarms-${i + 1}`;
        if (alarmNames.has(name)) ctx.addIssue({ code: 'custom', path: ['alarms', i, 'name'], message: `alarms name "${name}" is used twice` });
        alarmNames.add(name);
      });
      cfg.subscriptions.forEach((sub, s) => {
        const name = sub.name ?? `subscription-${s + 1}`;
        const seen = names.get(name);
        if (seen !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['subscriptions', s, 'name'],
            message: `subscription name "${name}" is already used by subscriptions[${seen}]`,
          });
        else names.set(name, s);
        sub.items.forEach((item, i) => {
          const first = tags.get(item.tag);
          if (first !== undefined)
            ctx.addIssue({ code: 'custom', path: ['subscriptions', s, 'items', i, 'tag'], message: `tag "${item.tag}" is already used by ${first}` });
          else tags.set(item.tag, `subscriptions[${s}].items[${i}]`);
        });
      });
    });
}

let schema: ReturnType<typeof buildSchema> | undefined;

/** The strict schema of one `type: opcua` source (built on first use). */
export function opcuaConfigSchema(): ReturnType<typeof buildSchema> {
  schema ??= buildSchema();
  return schema;
}

export type OpcuaSourceConfig = z.output<ReturnType<typeof buildSchema>>;
export type OpcuaSourceInput = z.input<ReturnType<typeof buildSchema>>;
export type OpcuaItemConfig = OpcuaSourceConfig['subscriptions'][number]['items'][number];
export type OpcuaAlarmsConfig = OpcuaSourceConfig['alarms'][number];
export type OpcuaAuthConfig = OpcuaSourceConfig['auth'];
