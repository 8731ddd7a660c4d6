import { dotted, loadConfigFile, placeOf, summarize, type LoadedConfig } from '../config/load';
import { componentLogger } from '../log';
import { toOdooError } from '../odoo/classify';
import { createOdooClient } from '../odoo/client';
import { checkAgainstOdoo, describeClock, type DryRunReport, type Finding } from '../odoo/dry-run';
import { APPS } from '../odoo/dry-run/needs';

/** How the dry run ended; main.ts turns it into the exit code. */
export type DryRunOutcome = 'ok' | 'configInvalid' | 'unavailable';

/**
 * `check-config FILE --odoo` and `doctor`: validate the file, then ask Odoo
 * with the configured credentials whether it has what the config names and
 * the rights its events need. Problems go to stderr as `file:line:col: path:
 * message`; a name Odoo lacks or a missing right exits 78, Odoo out of reach 69.
 */
export async function checkConfigWithOdoo(file: string, json: boolean): Promise<DryRunOutcome> {
  const loaded = loadConfigFile(file);
  const { config } = loaded;
  const summary = summarize(config);
  if (!config.odoo) {
    const problem = `${placeOf(loaded, ['odoo'])}: no odoo section, so nothing to check against (the agent only buffers)`;
    if (json) print({ ok: false, file, summary, problems: [problem] });
    else process.stderr.write(`${problem}\n`);
    return 'configInvalid';
  }
  const where = `${config.odoo.url} (database ${config.odoo.database})`;
  let report: DryRunReport;
  try {
    // Only warnings of the client: the report is the output.
    const client = createOdooClient(config.odoo, componentLogger('check-config').child({}, { level: 'warn' }));
    try {
      report = await checkAgainstOdoo(config, client);
    } finally {
      await client.close();
    }
  } catch (err) {
    const e = toOdooError(err);
    // Odoo away (or overloaded): try again later. A refused key, a wrong database, an untrusted certificate: the config's doing.
    const unavailable = e.action === 'retry' || e.action === 'down';
    const field = e.code === 'ODOO_AUTH' ? 'apiKey' : e.code === 'ODOO_NO_DATABASE' ? 'database' : 'url';
    const problem = unavailable
      ? `edge-agent: cannot reach Odoo at ${where}: ${e.message}`
      : `${placeOf(loaded, ['odoo', field])}: Odoo at ${where}: ${e.message}`;
    if (json) print({ ok: false, file, summary, odoo: { url: config.odoo.url, reachable: !unavailable, error: e.message, code: e.code } });
    else process.stderr.write(`${problem}\n`);
    if (unavailable) return 'unavailable';
    if (e.action === 'stop') return 'configInvalid';
    throw err;
  }

  const problems = placed(loaded, report.findings);
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  if (json) {
    print({ ok: errors === 0, file, summary, odoo: odooJson(config.odoo.url, config.odoo.database, report), problems });
  } else {
    process.stdout.write(`${file}: valid\n${summary}\n${odooText(config.odoo.url, config.odoo.database, report).join('\n')}\n`);
    for (const p of problems) process.stderr.write(`${p.place}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}\n`);
    process.stdout.write(
      errors + warnings === 0
        ? 'Odoo has every name this config uses, and the rights its events need\n'
        : `${errors} problem${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`,
    );
  }
  return errors > 0 ? 'configInvalid' : 'ok';
}

interface Placed {
  place: string;
  file: string;
  line: number;
  column: number;
  path: string;
  severity: Finding['severity'];
  message: string;
}

/** Findings at their lines, in file order. */
function placed(loaded: LoadedConfig, findings: Finding[]): Placed[] {
  return findings
    .map((f) => {
      const pos = loaded.position(f.path);
      return {
        place: placeOf(loaded, f.path),
        file: loaded.file,
        line: pos.line,
        column: pos.column,
        path: dotted(f.path),
        severity: f.severity,
        message: f.message,
      };
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

function odooText(url: string, database: string, r: DryRunReport): string[] {
  const user = r.user.login ? `${r.user.login} (id ${r.user.uid})` : `user id ${r.user.uid}`;
  const apps = APPS.filter((a) => r.apps.includes(a.module)).map((a) => a.label);
  const absent = APPS.filter((a) => !r.apps.includes(a.module)).map((a) => a.label);
  return [
    `odoo ${r.server.serverVersion} (${r.server.protocol === 'json2' ? 'JSON-2' : 'JSON-RPC'}) at ${url}, database ${database}, as ${user}`,
    `apps: ${apps.join(', ') || "none of the agent's"}${absent.length ? `; not installed: ${absent.join(', ')}` : ''}`,
    `clock: ${r.clock ? describeClock(r.clock.offsetMs, r.clock.uncertaintyMs) : 'Odoo sent no Date header'}`,
    `asked Odoo about ${r.asked.names} names, ${r.asked.models} models, ${r.asked.rights} access rights, ${r.asked.groups} groups`,
  ];
}

function odooJson(url: string, database: string, r: DryRunReport) {
  return {
    url,
    database,
    version: r.server.serverVersion,
    major: r.server.major,
    protocol: r.server.protocol,
    user: r.user,
    apps: r.apps,
    clock: r.clock ?? null,
    asked: r.asked,
  };
}

function print(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}
