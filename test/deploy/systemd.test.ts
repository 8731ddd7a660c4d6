// Checks the systemd unit and the install script: what the unit must say
// (own user, devices, credential, sandbox), that systemd itself accepts it
// (systemd-analyze verify), that its sandbox scores an exposure of at most
// 2.5 (systemd-analyze security --offline=yes), and that install.sh parses
// and passes shellcheck.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const unitPath = join(process.cwd(), 'systemd', 'edge-agent.service');
const installPath = join(process.cwd(), 'systemd', 'install.sh');
const MAX_EXPOSURE = 2.5;

type Unit = Map<string, Map<string, string[]>>;

/** Parses a unit file into section -> key -> values (in order; an empty assignment resets the list). */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section && eq > 0, `unexpected line outside a section or without '=': ${line}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const values = value === '' ? [] : [...(section.get(key) ?? []), value];
    section.set(key, values);
  }
  return unit;
}

function values(unit: Unit, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

function one(unit: Unit, section: string, key: string): string | undefined {
  const v = values(unit, section, key);
  return v.length === 0 ? undefined : v[v.length - 1];
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** The systemd version number printed by `systemd-analyze --version` ("systemd 252 (...)"). */
function systemdVersion(): number | undefined {
  const r = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  const m = /systemd (\d+)/.exec(r.stdout ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Runs systemd-analyze on the unit. When /usr/bin/node is missing on this machine, on a copy pointing at the node running this test. */
function analyze(args: string[]): { status: number | null; output: string; note?: string } {
  let target = unitPath;
  let dir: string | undefined;
  let note: string | undefined;
  if (!existsSync('/usr/bin/node')) {
    dir = mkdtempSync(join(tmpdir(), 'edge-agent-unit-'));
    target = join(dir, 'edge-agent.service');
    writeFileSync(target, readFileSync(unitPath, 'utf8').replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `));
    note = `/usr/bin/node is missing here: checked a copy whose ExecStart uses ${process.execPath}`;
  }
  try {
    const r = spawnSync('systemd-analyze', [...args, target], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`, note };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

test('the unit runs the agent as its own user with the state, config and credential it needs', () => {
  const unit = parseUnit(readFileSync(unitPath, 'utf8'));
  const s = 'Service';
  assert.equal(one(unit, s, 'User'), 'edge-agent');
  assert.equal(one(unit, s, 'Group'), 'edge-agent');
  assert.notEqual(one(unit, s, 'DynamicUser'), 'yes');
  assert.deepEqual(values(unit, s, 'SupplementaryGroups').join(' ').split(/\s+/).sort(), ['dialout', 'input']);
  assert.equal(one(unit, s, 'StateDirectory'), 'edge-agent');
  assert.equal(one(unit, s, 'ConfigurationDirectory'), 'edge-agent');
  assert.ok(values(unit, s, 'LoadCredential').includes('odoo-api-key:/etc/edge-agent/credentials/odoo-api-key'));
  const exec = one(unit, s, 'ExecStart') ?? '';
  assert.match(exec, /^\/\S+\/node .*\/opt\/edge-agent\/dist\/agent\/cli\/main\.js run --config \/etc\/edge-agent\/config\.yaml$/);
  assert.ok(values(unit, s, 'Environment').includes('NODE_ENV=production'));
  assert.ok(values(unit, s, 'Environment').includes('EDGE_AGENT_LOG_LEVEL=info'));
  assert.equal(one(unit, s, 'Restart'), 'always');
  assert.match(one(unit, s, 'RestartSec') ?? '', /^\d+s$/);
  assert.equal(one(unit, 'Install', 'WantedBy'), 'multi-user.target');
});

test('the unit sandbox keeps devices open to serial and input only, and leaves Node able to run', () => {
  const text = readFileSync(unitPath, 'utf8');
  const unit = parseUnit(text);
  const s = 'Service';
  for (const [key, want] of [
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['ProtectProc', 'invisible'],
    ['ProcSubset', 'pid'],
    ['UMask', '0077'],
    ['DevicePolicy', 'closed'],
    ['SystemCallArchitectures', 'native'],
  ] as const) {
    assert.equal(one(unit, s, key), want, `${key}=`);
  }
  assert.deepEqual(values(unit, s, 'CapabilityBoundingSet'), [], 'CapabilityBoundingSet= must be empty');
  assert.deepEqual(values(unit, s, 'AmbientCapabilities'), [], 'AmbientCapabilities= must be empty');
  const allowed = values(unit, s, 'DeviceAllow');
  for (const dev of ['char-ttyUSB rw', 'char-ttyACM rw', 'char-input rw']) assert.ok(allowed.includes(dev), `DeviceAllow=${dev}`);
  // Settings that would stop the agent from working must stay off, and say why.
  assert.notEqual(one(unit, s, 'MemoryDenyWriteExecute'), 'yes', 'V8 JIT needs writable+executable memory');
  assert.notEqual(one(unit, s, 'PrivateDevices'), 'yes', 'serial and input devices would vanish');
  assert.notEqual(one(unit, s, 'PrivateUsers'), 'yes', 'device groups would not apply');
  assert.equal(one(unit, s, 'WatchdogSec'), undefined, 'Node cannot send sd_notify watchdog pings');
  const comments = text
    .split('\n')
    .filter((l) => l.trim().startsWith('#'))
    .join('\n');
  for (const left of ['MemoryDenyWriteExecute', 'PrivateDevices', 'PrivateUsers', 'WatchdogSec', 'DynamicUser', 'IPAddressDeny', 'PrivateNetwork']) {
    assert.ok(comments.includes(left), `a comment must say why ${left} is left out`);
  }
  const families = (one(unit, s, 'RestrictAddressFamilies') ?? '').split(/\s+/);
  for (const f of ['AF_INET', 'AF_INET6']) assert.ok(families.includes(f), `RestrictAddressFamilies lacks ${f}`);
  assert.ok(!families.includes('AF_PACKET'));
});

test('systemd-analyze verify accepts the unit', (t) => {
  if (!has('systemd-analyze')) {
    t.skip('systemd-analyze not installed (apt-get install systemd)');
    return;
  }
  const r = analyze(['verify']);
  if (r.note) t.diagnostic(r.note);
  const lines = r.output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  // Complaints about other units on this machine are not ours; any line about this unit is.
  const ours = lines.filter((l) => l.includes('edge-agent'));
  for (const l of lines.filter((l) => !l.includes('edge-agent'))) t.diagnostic(`other unit: ${l}`);
  assert.deepEqual(ours, []);
  if (lines.length === 0) assert.equal(r.status, 0);
});

test(`systemd-analyze security rates the unit's exposure at most ${MAX_EXPOSURE}`, (t) => {
  if (!has('systemd-analyze')) {
    t.skip('systemd-analyze not installed (apt-get install systemd)');
    return;
  }
  const version = systemdVersion();
  if (version === undefined || version < 250) {
    t.skip(`systemd-analyze security --offline needs systemd 250 or later (found ${version ?? 'unknown'})`);
    return;
  }
  const r = analyze(['security', '--offline=yes', '--no-pager']);
  if (r.note) t.diagnostic(r.note);
  const m = /Overall exposure level for edge-agent\.service: (\d+(?:\.\d+)?)/.exec(r.output);
  assert.ok(m, `no exposure figure in:\n${r.output}`);
  const exposure = Number(m[1]);
  t.diagnostic(`exposure ${exposure}`);
  assert.ok(exposure <= MAX_EXPOSURE, `exposure ${exposure} is above ${MAX_EXPOSURE}:\n${r.output}`);
  // The checks that matter most must pass by name, not only on the total.
  for (const item of [
    'User=/DynamicUser=',
    'NoNewPrivileges=',
    'ProtectSystem=',
    'CapabilityBoundingSet=~CAP_SYS_ADMIN',
    'SystemCallFilter=~@privileged',
    'RestrictNamespaces=~user',
  ]) {
    const line = r.output.split('\n').find((l) => l.includes(` ${item} `) || l.includes(` ${item}`));
    assert.ok(line, `security output lacks ${item}`);
    assert.ok(line.trimStart().startsWith('✓'), `not passed: ${line.trim()}`);
  }
});

test('install.sh parses with bash -n and passes shellcheck', (t) => {
  const syntax = spawnSync('bash', ['-n', installPath], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  const text = readFileSync(installPath, 'utf8');
  assert.match(text, /^#!\/usr\/bin\/env bash\n/);
  assert.match(text, /set -euo pipefail/);
  // The unit file it installs is the one checked above.
  assert.match(text, /systemd\/edge-agent\.service/);
  if (!has('shellcheck')) {
    t.skip('shellcheck not installed (apt-get install shellcheck)');
    return;
  }
  const sc = spawnSync('shellcheck', ['--severity=style', installPath], { encoding: 'utf8' });
  assert.equal(sc.status, 0, sc.stdout + sc.stderr);
});

test('the node path drop-in that install.sh writes keeps the rest of ExecStart', (t) => {
  // Runs the same grep/sed pipeline install.sh uses, on the real unit file.
  const dir = mkdtempSync(join(tmpdir(), 'edge-agent-dropin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const unitCopy = join(dir, 'edge-agent.service');
  copyFileSync(unitPath, unitCopy);
  const pipeline = /grep '\^ExecStart=' "\$SRC_DIR\/systemd\/edge-agent\.service" \| sed "([^"]+)"/.exec(readFileSync(installPath, 'utf8'));
  assert.ok(pipeline, 'install.sh no longer derives the drop-in ExecStart from the unit with grep | sed');
  const r = spawnSync('bash', ['-c', `NODE_BIN=/usr/local/bin/node; grep '^ExecStart=' "$1" | sed "${pipeline[1]}"`, 'sh', unitCopy], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const original = one(parseUnit(readFileSync(unitPath, 'utf8')), 'Service', 'ExecStart') ?? '';
  assert.equal(r.stdout.trim(), `ExecStart=${original.replace(/^\/usr\/bin\/node /, '/usr/local/bin/node ')}`);
});

test('the benchmarks and `npm start` run with the young generation the unit and the image ship (decision 84)', () => {
  const semi = (text: string, where: string): string => {
    const found = [...text.matchAll(/--max-semi-space-size=(\d+)/g)].map((m) => m[1]!);
    assert.equal(found.length, 1, `${where}: one --max-semi-space-size flag`);
    return found[0]!;
  };
  const exec = one(parseUnit(readFileSync(unitPath, 'utf8')), 'Service', 'ExecStart') ?? '';
  const shipped = semi(exec, 'the unit ExecStart=');
  const entry = /^ENTRYPOINT (.+)$/m.exec(readFileSync(join(process.cwd(), 'Dockerfile.arm64'), 'utf8'));
  assert.ok(entry, 'Dockerfile.arm64 has an ENTRYPOINT');
  assert.equal(semi(entry[1]!, 'the image ENTRYPOINT'), shipped);
  const scripts = (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.equal(semi(scripts.bench!, 'npm run bench'), shipped, 'the benchmarks measure the agent as it ships');
  assert.equal(semi(scripts.start!, 'npm start'), shipped);
  // The V8 heap the unit allows (old space plus three semi-spaces) stays under MemoryHigh=.
  const old = Number(/--max-old-space-size=(\d+)/.exec(exec)?.[1]);
  const high = Number(/^(\d+)M$/.exec(one(parseUnit(readFileSync(unitPath, 'utf8')), 'Service', 'MemoryHigh') ?? '')?.[1]);
  assert.ok(old > 0 && high > 0, 'ExecStart= caps old space and MemoryHigh= is in M');
  assert.ok(old + 3 * Number(shipped) < high, `old space ${old} MB + young generation ${3 * Number(shipped)} MB under MemoryHigh=${high}M`);
});
