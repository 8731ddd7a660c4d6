import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { registerBuiltins } from '../runtime/builtins';
import { ConfigError } from '../errors';
import { locate, type Position } from './locate';
import { buildConfigSchema, type AgentConfig } from './schema';

export interface LoadedConfig {
  file: string;
  config: AgentConfig;
  /** Where a config path is in the file (a path the file leaves out: its nearest written ancestor). */
  position(path: readonly PropertyKey[]): Position;
}

/** Read, parse and validate a config file. Throws ConfigError listing every problem as `file:line:col: path: message`. */
export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}:1:1: (file): cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseConfigSource(text, file);
}

export function parseConfigText(text: string, file = '<config>'): AgentConfig {
  return parseConfigSource(text, file).config;
}

/** Parse and validate config text, keeping the YAML positions for later messages (the Odoo dry run). */
export function parseConfigSource(text: string, file = '<config>'): LoadedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const p = e.linePos?.[0] ?? { line: 1, col: 1 };
        return `${file}:${p.line}:${p.col}: (yaml): ${e.message.split('\n')[0]}`;
      }),
    );
  }
  registerBuiltins();
  const data = doc.toJS() ?? {};
  const result = buildConfigSchema().safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => formatIssue(issue, doc, lines, file));
    throw new ConfigError([...new Set(problems)]);
  }
  return { file, config: resolvePaths(result.data, file), position: (path) => locate(doc, lines, path) };
}

/** `file:line:col: path` for a message about one place in the config. */
export function placeOf(loaded: LoadedConfig, path: readonly PropertyKey[]): string {
  const p = loaded.position(path);
  return `${loaded.file}:${p.line}:${p.column}: ${dotted(path)}`;
}

function formatIssue(issue: z.core.$ZodIssue, doc: ReturnType<typeof parseDocument>, lines: LineCounter, file: string): string {
  const path = issue.path as PropertyKey[];
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
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : (i === 0 ? '' : '.') + String(p))).join('');
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
