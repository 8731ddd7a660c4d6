/**
 * `edge-agent check-config FILE --odoo` and `edge-agent doctor` as a plant
 * engineer runs them: against the simulator with the real servers' agent
 * user, checking the exit codes (0, 78, 69) and the file:line:col lines.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LINE_SOURCE, odooSection } from '../helpers/dry-run-config';
import { PLAIN_BOT_GROUPS, startOdooSim, type OdooSim } from '../odoo-sim';

const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');
const dir = mkdtempSync(join(tmpdir(), 'check-odoo-'));

async function run(args: string[], key: string): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent', EDGE_DRY_RUN_KEY: key } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

function config(name: string, url: string, rules: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `plant:
  id: dry
stateDir: ${dir}
${odooSection({ url, database: 'edge', username: 'edge-bot' })}${LINE_SOURCE}rules:
${rules}`,
  );
  return file;
}

const GOOD = `  - kind: state
    name: press-state
    source: line
    tag: press/state
    workcenter: Assembly Line 1
    edge: rising
    reason: Setup and Adjustments
`;
const BAD = `  - kind: state
    name: press-state
    source: line
    tag: press/state
    workcenter: Asembly Line 1
    runningCodes: [1]
    codes:
      "12":
        reason: Materal Availability
`;

describe('edge-agent check-config --odoo', () => {
  let sim: OdooSim;
  before(async () => {
    sim = await startOdooSim({ version: 18, botGroups: PLAIN_BOT_GROUPS });
  });
  after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 when Odoo has every name and right, and says what it found', async () => {
    const file = config('good.yaml', sim.url, GOOD);
    const r = await run(['check-config', file, '--odoo'], sim.apiKey);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.match(r.out, /odoo 18\.0 \(JSON-RPC\) at http:\/\/127\.0\.0\.1:\d+, database edge, as edge-bot/);
    assert.match(r.out, /apps: Inventory, Manufacturing, Maintenance; not installed: Quality/);
    assert.match(r.out, /clock: Odoo's clock agrees with this gateway's/);
    assert.match(r.out, /Odoo has every name this config uses/);
  });

  it('exits 78 with each unknown name at its line and the closest names Odoo has', async () => {
    const file = config('bad.yaml', sim.url, BAD);
    const r = await run(['check-config', file, '--odoo'], sim.apiKey);
    assert.equal(r.code, 78, r.out + r.err);
    const lines = r.err.trim().split('\n');
    assert.deepEqual(lines, [
      `${file}:20:17: rules[0].workcenter: no work center "Asembly Line 1" in Odoo (looked for mrp.workcenter by name or code); closest: "Assembly Line 1"`,
      `${file}:24:17: rules[0].codes.12.reason: no loss reason "Materal Availability" in Odoo (looked for mrp.workcenter.productivity.loss by name); closest: "Material Availability"`,
    ]);
    assert.match(r.out, /2 problems, 0 warnings/);

    const json = await run(['check-config', file, '--odoo', '--json'], sim.apiKey);
    assert.equal(json.code, 78);
    const report = JSON.parse(json.out) as { ok: boolean; odoo: { major: number }; problems: Array<{ line: number; path: string; severity: string }> };
    assert.equal(report.ok, false);
    assert.equal(report.odoo.major, 18);
    assert.deepEqual(
      report.problems.map((p) => [p.line, p.path, p.severity]),
      [
        [20, 'rules[0].workcenter', 'error'],
        [24, 'rules[0].codes.12.reason', 'error'],
      ],
    );
  });

  it('doctor checks the agent config the same way', async () => {
    const file = config('doctor.yaml', sim.url, BAD);
    const r = await run(['doctor', '--config', file], sim.apiKey);
    assert.equal(r.code, 78);
    assert.match(r.err, /rules\[0\]\.workcenter: no work center "Asembly Line 1"/);
  });

  it('exits 78 at the odoo section when Odoo refuses the key', async () => {
    const file = config('key.yaml', sim.url, GOOD);
    const r = await run(['check-config', file, '--odoo'], 'not-the-key');
    assert.equal(r.code, 78, r.err);
    assert.match(r.err, new RegExp(`^${file}:8:11: odoo.apiKey: Odoo at .*refused the login "edge-bot"`));
  });

  it('exits 69 when Odoo cannot be reached', async () => {
    const port = await closedPort();
    const file = config('away.yaml', `http://127.0.0.1:${port}`, GOOD);
    const r = await run(['check-config', file, '--odoo'], sim.apiKey);
    assert.equal(r.code, 69, r.err);
    assert.match(r.err, /cannot reach Odoo at http:\/\/127\.0\.0\.1:\d+ \(database edge\): .*ECONNREFUSED/);
  });

  it('lists the exit code in --help', async () => {
    const r = await run(['--help'], '');
    assert.match(r.out, /69 something needed does not answer: Odoo \(check-config --odoo/);
    assert.match(r.out, /check-config FILE --odoo/);
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
