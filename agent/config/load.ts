import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { registerBuiltins } from '../runtime/builtins';
import { ConfigError, errorMessage } from '../errors';
import { locate, locateInside, type Position } from './locate';
import { formatBytes, readRegularFile } from './read-file';
import { plantTimeZone } from './clocks';
import { buildConfigSchema, type AgentConfig } from './schema';
import { aliasProblem, nestedTooDeep } from './yaml-checks';

export interface LoadedConfig {
  file: string;
  config: AgentConfig;
  /** Where a config path is in the file (a path the file leaves out: its nearest written ancestor). */
  position(path: readonly PropertyKey[]): Position;
}

/** A config file is a regular file of at most this size. */
export const MAX_CONFIG_BYTES = 4 * 1_048_576;

/** YAML nested deeper than this is refused before it is composed; a config needs fewer than ten levels. */
export const MAX_CONFIG_DEPTH = 64;

/** Aliases may expand to at most this many values (yaml's own guard against alias bombs). */
const MAX_ALIAS_COUNT = 100;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Read, parse and validate a config file. Throws ConfigError listing every problem as `file:line:col: path: message`. */
export function loadConfigFile(file: string): LoadedConfig {
  const read = readRegularFile(file, MAX_CONFIG_BYTES);
  if (!read.ok) {
    const why = read.reason.startsWith('larger') ? `${read.reason} (a config file is at most ${formatBytes(MAX_CONFIG_BYTES)})` : read.reason;
    throw new ConfigError([`${file}:1:1: (file): cannot read: ${why}`]);
  }
  return parseConfigSource(decodeText(read.bytes, file), file);
}

/** The file's text; bytes that are not UTF-8 are an error at their line, never replaced. */
function decodeText(bytes: Buffer, file: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    let line = 1;
    let start = 0;
    for (;;) {
      const nl = bytes.indexOf(0x0a, start);
      const end = nl === -1 ? bytes.length : nl;
      try {
        utf8.decode(bytes.subarray(start, end));
      } catch {
        break;
      }
      if (nl === -1) break;
      line++;
      start = nl + 1;
    }
    throw new ConfigError([`${file}:${line}:1: (file): not UTF-8 text (save the file as UTF-8)`]);
  }
}

export function parseConfigText(text: string, file = '<config>'): AgentConfig {
  return parseConfigSource(text, file).config;
}

/** Parse and validate config text, keeping the YAML positions for later messages (the Odoo dry run). */
export function parseConfigSource(text: string, file = '<config>'): LoadedConfig {
  try {
    return parseChecked(text, file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // Whatever else a file can make go wrong is still a problem of that file (exit 78, not a crash).
    throw new ConfigError([`${file}:1:1: (config): cannot be read as a config: ${errorMessage(err)}`]);
  }
}

function parseChecked(text: string, file: string): LoadedConfig {
  const lines = new LineCounter();
  const at = (offset: number) => {
    const p = lines.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  const deep = nestedTooDeep(text, MAX_CONFIG_DEPTH, lines);
  if (deep !== undefined) throw new ConfigError([`${at(deep)}: (yaml): nested deeper than ${MAX_CONFIG_DEPTH} levels`]);
  // `lines` is filled by the depth check's parse of the same text.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, stringKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${at(e.pos[0])}: (yaml): ${e.message.split('\n')[0]}`));
  }
  registerBuiltins();
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    const alias = aliasProblem(doc, err);
    if (alias) throw new ConfigError([`${at(alias.offset)}: (yaml): ${alias.message}`]);
    throw err;
  }
  const result = buildConfigSchema().safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => formatIssue(issue, doc, lines, file, text));
    throw new ConfigError([...new Set(problems)]);
  }
  return { file, config: resolvePaths(result.data, file), position: (path) => locate(doc, lines, path) };
}

/** `file:line:col: path` for a message about one place in the config. */
export function placeOf(loaded: LoadedConfig, path: readonly PropertyKey[]): string {
  const p = loaded.position(path);
  return `${loaded.file}:${p.line}:${p.column}: ${dotted(path)}`;
}

function formatIssue(issue: z.core.$ZodIssue, doc: Document, lines: LineCounter, file: string, text: string): string {
  const path = issue.path as PropertyKey[];
  // A check that knows the character inside the value (a mapping expression) names it.
  const offset = issue.code === 'custom' ? (issue.params as { offset?: unknown } | undefined)?.offset : undefined;
  if (typeof offset === 'number') {
    const pos = locateInside(doc, lines, text, path, offset);
    return `${file}:${pos.line}:${pos.column}: ${dotted(path)}: ${issue.message}`;
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((key) => {
        const pos = locate(doc, lines, path, key);
        return `${file}:${pos.line}:${pos.column}: ${dotted([...path, key])}: unknown key "${key}" (not an option here; check the spelling)`;
      })
      .join('\n');
  }
  const pos = locate(doc, lines, path);
  return `${file}:${pos.line}:${pos.column}: ${dotted(path)}: ${describe(issue, !doc.hasIn(path))}`;
}

function describe(issue: z.core.$ZodIssue, absent: boolean): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    return `required field is missing (expected ${issue.expected})`;
  }
  // A choice (an enum or literal) left out is a missing field, not a wrong value.
  if (issue.code === 'invalid_value' && absent) {
    return `required field is missing (one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')})`;
  }
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return `${issue.message}; check the "type"/"kind" value`;
  }
  return issue.message;
}

/** `rules[2].codes.E12.reason`: a config path as messages show it. */
export function dotted(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  // A key that is blank or holds dots or spaces is quoted, so the path reads as one.
  const key = (p: PropertyKey, i: number) => (/^[\w$-]+$/.test(String(p)) ? (i === 0 ? '' : '.') + String(p) : `[${JSON.stringify(String(p))}]`);
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : key(p, i))).join('');
}

function resolvePaths(config: AgentConfig, file: string): AgentConfig {
  const base = dirname(resolve(file));
  const stateDir = isAbsolute(config.stateDir) ? config.stateDir : resolve(base, config.stateDir);
  const inState = (p: string) => (isAbsolute(p) ? p : resolve(stateDir, p));
  return {
    ...config,
    stateDir,
    outbox: { ...config.outbox, path: config.outbox.path === ':memory:' ? ':memory:' : inState(config.outbox.path) },
    http: { ...config.http, usersFile: inState(config.http.usersFile) },
  };
}

/** A short human summary for check-config. */
export function summarize(config: AgentConfig): string {
  const sources = config.sources as Array<{ name: string; type: string; enabled?: boolean }>;
  const lines = [
    `plant ${config.plant.id}${config.plant.name ? ` (${config.plant.name})` : ''}`,
    // Shifts, schedules, the page and the days Odoo keeps as a date follow it: say which one, and where it comes from.
    config.plant.timezone ? `time zone ${config.plant.timezone}` : `time zone ${plantTimeZone(config)} (the gateway's: plant.timezone is not set)`,
    `state directory ${config.stateDir}`,
    `outbox ${config.outbox.path} (synchronous=${config.outbox.synchronous}, max ${config.outbox.maxEvents} unfinished events)`,
    config.odoo ? `odoo ${config.odoo.url} database ${config.odoo.database}` : 'odoo: not configured (buffering only)',
    `sources ${sources.length}: ${sources.map((s) => `${s.name} (${s.type}${s.enabled === false ? ', disabled' : ''})`).join(', ') || 'none'}`,
    `rules ${config.rules.length}`,
    config.http.enabled
      ? `status page on ${config.http.bind.map((b) => `${b}:${config.http.port}`).join(', ')}${config.http.tls ? ' (TLS)' : ''}${config.http.optional ? ' (optional)' : ''}`
      : 'status page disabled',
  ];
  return lines.join('\n');
}
