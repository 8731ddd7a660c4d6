#!/usr/bin/env node
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SqliteOutbox } from '../buffer/sqlite-outbox';
import { checkOutboxFile } from '../buffer/store';
import { withOutbox } from './open-outbox';
import { flowsJson } from '../buffer/flows';
import { CLOSED_PERIOD, EVENT_STATES, type EventState, type OutboxRecord } from '../buffer/outbox';
import { postAtFirstOpenDate } from '../sync/closed-period';
import { MasterDataCache } from '../sync/master-data';
import { loadConfigFile, summarize } from '../config/load';
import { withLenientSecrets } from '../config/secrets';
import type { AgentConfig } from '../config/schema';
import { AgentError, ConfigError, errorMessage } from '../errors';
import { importEvents } from './import-events';
import { edgeCheckOf } from '../sync/edge-check';
import { rootLogger, setLogLevel } from '../log';
import { registerBuiltins } from '../runtime/builtins';

/** Exit codes, also listed in --help and the README. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** `reconcile` found records missing, duplicated or differing in Odoo. */
  discrepancies: 3,
  /** EX_CONFIG: systemd's unit does not restart on it (RestartPreventExitStatus=78). */
  configInvalid: 78,
  notFound: 4,
  partial: 5,
  /** EX_DATAERR: the outbox file is damaged (systemd does not restart on it: restore a backup). */
  damaged: 65,
  /** EX_TEMPFAIL: another agent owns the outbox (systemd tries again after RestartSec). */
  outboxInUse: 75,
  /** EX_UNAVAILABLE: something the command needs does not answer: Odoo (`check-config --odoo`), or the status page's address (`run`). */
  unavailable: 69,
} as const;

const HELP = `edge-agent: plant-floor signals to Odoo, exactly once in effect

Usage:
  edge-agent run [--config FILE]           run the agent (no config and no /etc/edge-agent/config.yaml: the demo)
  edge-agent demo [--port N]               simulated plant + simulated Odoo + the agent, with its status page
  edge-agent check-config FILE [--json]    validate a config file; every problem as file:line:col: path: message
  edge-agent check-config FILE --odoo      also ask Odoo, as the agent's user: the names the config uses, the
                                           mapped models and fields, the rights its events need, apps, clock
  edge-agent doctor [--config FILE]        the same as check-config --odoo for the agent's config
  edge-agent status [--json]               the running agent's state (or the outbox's, when it is not running)
  edge-agent events import FILE.jsonl      validate and commit canonical events, one JSON object per line
  edge-agent outbox list [--state S] [--type T] [--key K] [--code C] [--limit N] [--json]
                                           --state closed-period: events dated in a period Odoo's accounting has locked
  edge-agent outbox show ID [--json]
  edge-agent outbox retry ID...|--state S|--type T|--key K|--error TEXT
  edge-agent outbox skip ID...|--state S|--type T|--key K|--error TEXT --reason TEXT
  edge-agent outbox edit ID FIELD VALUE    correct one payload field (VALUE is JSON, or text); the original is kept
  edge-agent outbox post-at-open-date ID...|--state closed-period
                                           write closed-period events to Odoo at the first open date (their own time is kept)
  edge-agent outbox replay --since TIME [--until TIME]
                                           re-send events delivered since TIME, up to --until or now (safe: idempotent)
  edge-agent outbox replay ID...           re-send these delivered events (the line reconcile prints for missing records)
  edge-agent orders [--all] [--json]       per open order: Odoo's state and quantities as last read next to what the
                                           plant reported, and a verdict (in-sync, pending, parked, differs, unknown)
  edge-agent reconcile [--since TIME] [--until TIME] [--type T[,T]] [--json]
                                           read back from Odoo what events delivered in the window wrote: missing,
                                           duplicated, differing, per type (default window: reconcile.windowHours to now)
  edge-agent outbox invalid [--limit N] [--json]       input that could not be understood
  edge-agent outbox conflicts [--limit N] [--json]     events refused: their id was taken by other content
  edge-agent outbox prune                  apply the retention now
  edge-agent outbox check [--json]         check the outbox file (exit 65 when damaged)
  edge-agent outbox backup FILE            a consistent copy of the outbox, safe while the agent runs
  edge-agent flows [list] [--json]         batch and roll-up flows: events held, for how many keys, since when
  edge-agent flows flush NAME [--json]     release a flow's held events into the queue now, as its schedule would
  edge-agent users add NAME --role ROLE    add or change a status-page user (viewer|supervisor|admin);
                                           the password is read from standard input or --password-file
  edge-agent users remove NAME  |  users list [--json]
  edge-agent certs list [--json]           OPC UA certificates: own, trusted, rejected
  edge-agent certs trust THUMBPRINT        trust a rejected OPC UA server certificate
  edge-agent certs reject THUMBPRINT       move a certificate back to the rejected list

Options:
  --config FILE   config file (default: $EDGE_AGENT_CONFIG or /etc/edge-agent/config.yaml)
  --actor NAME    who does it, for the audit log (default: cli:<login>)
  --json          machine-readable output

Exit codes:
  0 ok   1 failure   2 usage error   3 reconcile found records missing, duplicated or differing in Odoo
  4 not found   5 partly done (some lines rejected)
  65 the outbox file is damaged   75 another agent owns the outbox (its pid is named)   78 config invalid
  69 something needed does not answer: Odoo (check-config --odoo, doctor; with --odoo, 78 is also a name or a right Odoo lacks),
     or the status page's address (run; address and port named; http.optional: true runs without the page)
`;

async function main(argv: string[]): Promise<number> {
  registerBuiltins();
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      odoo: { type: 'boolean', default: false },
      state: { type: 'string' },
      type: { type: 'string' },
      key: { type: 'string' },
      error: { type: 'string' },
      code: { type: 'string' },
      limit: { type: 'string' },
      reason: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      actor: { type: 'string' },
      port: { type: 'string' },
      role: { type: 'string' },
      'password-file': { type: 'string' },
      all: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [cmd, sub, ...rest] = positionals;
  if (values.help || !cmd || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd || values.help ? EXIT.ok : EXIT.usage;
  }
  const out = (v: unknown, text: string) => process.stdout.write(values.json ? `${JSON.stringify(v, null, 2)}\n` : `${text}\n`);
  const actor = values.actor ?? `cli:${safeUser()}`;
  const configPath = values.config ?? process.env.EDGE_AGENT_CONFIG ?? '/etc/edge-agent/config.yaml';
  // Commands that never talk to Odoo or a broker accept secrets they cannot resolve here.
  const localConfig = () => withLenientSecrets(() => loadConfigFile(configPath).config);

  switch (cmd) {
    case 'check-config': {
      const file = sub ?? values.config;
      if (!file) return usage('check-config needs a file');
      if (values.odoo) return checkOdoo(file, Boolean(values.json));
      const { config } = loadConfigFile(file);
      out({ ok: true, file, summary: summarize(config) }, `${file}: valid\n${summarize(config)}`);
      return EXIT.ok;
    }
    case 'doctor':
      return checkOdoo(configPath, Boolean(values.json));
    case 'run': {
      const { runAgent } = await import('./run');
      return runAgent(values.config ?? process.env.EDGE_AGENT_CONFIG);
    }
    case 'demo': {
      const { runDemo } = await import('../demo/demo');
      return runDemo({ port: values.port ? Number(values.port) : undefined });
    }
    case 'status': {
      const { printStatus } = await import('./status');
      return printStatus(localConfig(), Boolean(values.json));
    }
    case 'events': {
      if (sub !== 'import' || !rest[0]) return usage('events import FILE.jsonl --config FILE');
      const config = localConfig();
      return withOutbox(config, async (outbox) => {
        // Checked at the edge as the agent checks what it receives (against the master data in the same file).
        outbox.setEventCheck(edgeCheckOf(config, new MasterDataCache(outbox.masterData)));
        const report = await importEvents(rest[0]!, outbox);
        for (const r of report.rejected) process.stderr.write(`${rest[0]}:${r.line}: ${r.reason}\n`);
        if (report.stopped) {
          const s = report.stopped;
          process.stderr.write(
            `${rest[0]}:${s.line}: import stopped, the outbox refused: ${s.reason}; lines from ${s.line} on are not committed (import the file again later: committed lines count as duplicates)\n`,
          );
        }
        out(
          report,
          `${report.inserted} events committed, ${report.duplicates} already there, ${report.rejected.length} lines rejected (of ${report.lines})` +
            (report.heldForTime ? `; ${report.heldForTime} held for a person: their time is implausible (edge-agent outbox list --state parked)` : ''),
        );
        if (report.stopped) return EXIT.failure;
        return report.rejected.length ? EXIT.partial : EXIT.ok;
      });
    }
    case 'outbox': {
      const config = localConfig();
      // The file is checked as it is, without opening it as an outbox (that may be what fails).
      if (sub === 'check') {
        const problems = checkOutboxFile(config.outbox.path);
        out({ ok: problems.length === 0, file: config.outbox.path, problems }, problems.length ? problems.join('\n') : `${config.outbox.path}: ok`);
        return problems.length ? EXIT.damaged : EXIT.ok;
      }
      return withOutbox(config, (outbox) => outboxCommand(outbox, config, sub, rest, values, actor, out));
    }
    case 'flows': {
      const config = localConfig();
      return withOutbox(config, (outbox) => flowsCommand(outbox, sub, rest, actor, out));
    }
    case 'orders': {
      const { printOrders } = await import('./orders-reconcile');
      return printOrders(localConfig(), Boolean(values.json), Boolean(values.all));
    }
    case 'reconcile': {
      const { reconcileCommand } = await import('./orders-reconcile');
      return reconcileCommand({
        configPath,
        since: values.since,
        until: values.until,
        type: values.type,
        json: Boolean(values.json),
        actor,
        configArg: values.config ? ` --config ${values.config}` : '',
      });
    }
    case 'users': {
      const { usersCommand } = await import('./users');
      return usersCommand(localConfig(), sub, rest, values, out, actor);
    }
    case 'certs': {
      const { certsCommand } = await import('./certs');
      return certsCommand(localConfig(), sub, rest, Boolean(values.json));
    }
    default:
      return usage(`unknown command ${cmd}`);
  }
}

type Values = Record<string, string | boolean | undefined>;

async function checkOdoo(file: string, json: boolean): Promise<number> {
  const { checkConfigWithOdoo } = await import('./check-odoo');
  return EXIT[await checkConfigWithOdoo(file, json)];
}

async function outboxCommand(
  outbox: SqliteOutbox,
  config: AgentConfig,
  sub: string | undefined,
  args: string[],
  values: Values,
  actor: string,
  out: (v: unknown, text: string) => void,
): Promise<number> {
  const filter = () => {
    const f = {
      ids: args.length ? args : undefined,
      ...stateFilter(values),
      type: values.type as string | undefined,
      sequenceKey: values.key as string | undefined,
      errorContains: values.error as string | undefined,
    };
    if (!f.ids && !f.state && !f.type && !f.sequenceKey && !f.errorContains && !f.errorCode)
      throw new AgentError('USAGE', 'name event ids or a filter (--state, --type, --key, --code, --error)');
    return f;
  };
  switch (sub) {
    case 'list': {
      const rows = outbox.list({
        ...stateFilter(values),
        type: values.type as string | undefined,
        sequenceKey: values.key as string | undefined,
        limit: Number(values.limit ?? 100),
      });
      out(rows, rows.length ? rows.map(line).join('\n') : 'no events');
      return EXIT.ok;
    }
    case 'show': {
      const rec = args[0] ? outbox.get(args[0]) : undefined;
      if (!rec) {
        process.stderr.write(`no event ${args[0] ?? ''}\n`);
        return EXIT.notFound;
      }
      out(rec, JSON.stringify(rec, null, 2));
      return EXIT.ok;
    }
    case 'retry': {
      const n = outbox.retry(filter(), actor);
      out({ retried: n }, `${n} events will be sent again`);
      return n ? EXIT.ok : EXIT.notFound;
    }
    case 'skip': {
      if (!values.reason) return usage('skip needs --reason TEXT (it goes into the audit log)');
      const n = outbox.skip(filter(), actor, String(values.reason));
      out({ skipped: n }, `${n} events skipped`);
      return n ? EXIT.ok : EXIT.notFound;
    }
    case 'edit': {
      const [id, field, raw] = args;
      if (!id || !field || raw === undefined) return usage('outbox edit ID FIELD VALUE');
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
      const rec = outbox.edit(id, field, value, actor);
      out(rec, `edited ${id}: ${field} = ${JSON.stringify(value)}; it will be sent again`);
      return EXIT.ok;
    }
    case 'post-at-open-date': {
      const lockedUntil = new MasterDataCache(outbox.masterData).closedUntil();
      const rows = postAtFirstOpenDate(outbox, lockedUntil, filter(), actor);
      out(
        rows,
        rows.length
          ? rows.map((r) => `${r.id}: written to Odoo at ${r.event.writeAt ?? ''} (occurred ${r.event.occurredAt})`).join('\n')
          : 'no event held for a closed period matches',
      );
      return rows.length ? EXIT.ok : EXIT.notFound;
    }
    case 'replay': {
      if (args.length && values.since === undefined) {
        const n = outbox.replayIds(args, actor);
        out({ replayed: n }, `${n} delivered events will be sent again${n < args.length ? ` (${args.length - n} not found or not delivered)` : ''}`);
        return n ? EXIT.ok : EXIT.notFound;
      }
      const since = Date.parse(String(values.since ?? ''));
      const until = values.until ? Date.parse(String(values.until)) : Date.now();
      if (Number.isNaN(since) || Number.isNaN(until)) return usage('replay --since TIME [--until TIME] (ISO 8601), or replay ID...');
      const n = outbox.replay(since, until, actor);
      out({ replayed: n }, `${n} delivered events will be sent again`);
      return EXIT.ok;
    }
    case 'conflicts': {
      const rows = outbox.listConflicts(Number(values.limit ?? 50));
      out(
        rows,
        rows.length
          ? rows
              .map(
                (c) =>
                  `${new Date(c.at).toISOString()}  ${c.id}\n  kept:    ${JSON.stringify(c.kept.payload)}\n  refused: ${JSON.stringify(c.refused.payload)}`,
              )
              .join('\n')
          : 'no conflicts',
      );
      return EXIT.ok;
    }
    case 'invalid': {
      const rows = outbox.listInvalid(Number(values.limit ?? 50));
      out(rows, rows.length ? rows.map((r) => `${r.receivedAt}  ${r.source}  ${r.origin}  ${r.reason}  ${r.raw.slice(0, 80)}`).join('\n') : 'no invalid input');
      return EXIT.ok;
    }
    case 'prune': {
      const day = 86_400_000;
      const r = outbox.prune(Date.now() - config.outbox.retention.doneDays * day, Date.now() - config.outbox.retention.invalidDays * day);
      outbox.audit(actor, 'prune', r);
      out(r, `pruned ${r.events} finished events, ${r.flowMembers} released flow members and ${r.invalid} invalid inputs`);
      return EXIT.ok;
    }
    case 'backup': {
      const file = args[0];
      if (!file) return usage('outbox backup FILE');
      const pages = await outbox.backup(resolve(file));
      outbox.audit(actor, 'backup', { file: resolve(file), pages });
      out({ file: resolve(file), pages }, `${config.outbox.path} copied to ${resolve(file)} (${pages} pages, checked)`);
      return EXIT.ok;
    }
    default:
      return usage('outbox list|show|retry|skip|edit|replay|invalid|conflicts|prune|check|backup');
  }
}

async function flowsCommand(
  outbox: SqliteOutbox,
  sub: string | undefined,
  args: string[],
  actor: string,
  out: (v: unknown, text: string) => void,
): Promise<number> {
  const { formatFlow } = await import('./status');
  switch (sub ?? 'list') {
    case 'list': {
      const flows = flowsJson(outbox.flowStatus());
      out(flows, flows.length ? flows.map(formatFlow).join('\n') : 'no flows configured (schedules.flows)');
      return EXIT.ok;
    }
    case 'flush': {
      const name = args[0];
      if (!name) return usage('flows flush NAME');
      // The running agent notices the new events at its next look at the queue (within a second).
      const r = outbox.flushFlow(name);
      outbox.audit(actor, 'flush', r);
      out(r, `flow ${name}: ${r.members} held events went into the queue as ${r.events} events (${r.keys} keys)`);
      return EXIT.ok;
    }
    default:
      return usage('flows list|flush NAME');
  }
}

function line(r: OutboxRecord): string {
  const err = r.error ? `  ${r.error.slice(0, 100)}` : '';
  const state = r.state === 'parked' && r.errorCode === CLOSED_PERIOD ? 'closed-period' : r.state;
  const at = r.event.writeAt ? `${r.event.occurredAt} (write at ${r.event.writeAt})` : r.event.occurredAt;
  return `${r.id}  ${state.padEnd(8)}  ${r.type.padEnd(22)}  ${r.sequenceKey}  ${at}${err}`;
}

/** `--state` (an outbox state, or `closed-period`: parked for a locked period) and `--code`, as a filter. */
function stateFilter(values: Values): { state?: EventState; errorCode?: string } {
  const state = values.state as string | undefined;
  const code = values.code as string | undefined;
  if (state === 'closed-period') return { state: 'parked', errorCode: CLOSED_PERIOD };
  if (state && !EVENT_STATES.includes(state as EventState))
    throw new AgentError('USAGE', `--state must be one of ${[...EVENT_STATES, 'closed-period'].join(', ')}`);
  return { state: state as EventState | undefined, errorCode: code };
}

function usage(msg: string): number {
  process.stderr.write(`${msg}\n\n${HELP}`);
  return EXIT.usage;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

/** Run the command line (process.argv) and set the exit code. */
export function runCli(): void {
  setLogLevel(process.env.EDGE_AGENT_LOG_LEVEL ?? 'info');
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.problems.join('\n')}\n`);
        process.exitCode = EXIT.configInvalid;
      } else if (err instanceof AgentError && err.code === 'USAGE') {
        process.exitCode = usage(err.message);
      } else if (err instanceof AgentError) {
        // A refusal the user can act on: say it plainly, no stack.
        process.stderr.write(`edge-agent: ${err.message}\n`);
        process.exitCode =
          err.code === 'NOT_FOUND' || err.code === 'CERT_NOT_FOUND' || err.code === 'UNKNOWN_FLOW'
            ? EXIT.notFound
            : err.code === 'OUTBOX_IN_USE'
              ? EXIT.outboxInUse
              : err.code === 'OUTBOX_DAMAGED'
                ? EXIT.damaged
                : err.code === 'HTTP_LISTEN'
                  ? EXIT.unavailable
                  : EXIT.failure;
      } else if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        process.exitCode = usage(errorMessage(err));
      } else {
        rootLogger().fatal({ err }, 'edge-agent failed');
        process.stderr.write(`edge-agent: ${errorMessage(err)}\n`);
        process.exitCode = EXIT.failure;
      }
    },
  );
}

if (require.main === module) runCli();

export { main };
