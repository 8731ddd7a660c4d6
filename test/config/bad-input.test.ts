import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfigFile, parseConfigText } from '../../agent/config/load';
import { resolveSecret } from '../../agent/config/secrets';
import { ConfigError } from '../../agent/errors';

/** Config input that used to crash, hang or slip through: each is a ConfigError naming file and line, and check-config exits 78. */

const dir = mkdtempSync(join(tmpdir(), 'config-bad-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');

const BASE = `plant:\n  id: plant1\nstateDir: ${dir}\n`;

function problems(text: string): string[] {
  try {
    parseConfigText(text, 'plant.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

function checkConfig(name: string, content: string | Buffer): { status: number | null; stderr: string; file: string } {
  const file = join(dir, name);
  writeFileSync(file, content);
  const r = spawnSync(process.execPath, [cli, 'check-config', file], {
    encoding: 'utf8',
    env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' },
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr, file };
}

const laughs = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((x, i) => `${x}: &${x} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');

describe('config: bad input is a ConfigError with file and line, exit 78', () => {
  const cases: Array<{ name: string; text: string; expect: RegExp }> = [
    {
      name: 'an alias with no anchor (it crashed with exit 1 and a stack trace)',
      text: `${BASE}http:\n  view: *nope\n`,
      expect: /^plant\.yaml:5:9: \(yaml\): alias \*nope has no anchor &nope before it$/,
    },
    {
      name: 'an alias bomb, billion laughs (it crashed with exit 1 and a stack trace)',
      text: `${BASE}${laughs}\n`,
      expect: /^plant\.yaml:6:8: \(yaml\): aliases expand to too many values \(from \*b, which holds aliases itself\)/,
    },
    {
      name: 'flow YAML nested 6,000 deep (it said line 1: Maximum call stack size exceeded)',
      text: `${BASE}rules: ${'['.repeat(6000)}${']'.repeat(6000)}\n`,
      expect: /^plant\.yaml:4:71: \(yaml\): nested deeper than 64 levels$/,
    },
    {
      name: 'block YAML nested 3,000 deep',
      text: `${BASE}rules:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i + 1)}- a:`).join('\n')} 1\n`,
      expect: /^plant\.yaml:\d+:\d+: \(yaml\): nested deeper than 64 levels$/,
    },
    {
      name: 'a key given twice (every YAML error said line 1)',
      text: `${BASE}http:\n  port: 1\n  port: 2\n`,
      expect: /^plant\.yaml:6:3: \(yaml\): Map keys must be unique/,
    },
    {
      name: 'a key that is not text',
      text: `${BASE}http:\n  ? [a, b]\n  : 1\n`,
      expect: /^plant\.yaml:5:\d+: \(yaml\): /,
    },
    {
      name: 'a cron minute range that runs backwards, 1-0 (node-cron accepted it)',
      text: `${BASE}schedules:\n  retention: "1-0 * * * *"\n`,
      expect: /^plant\.yaml:5:14: schedules\.retention: must be a cron expression .*: minute "1-0": the range 1-0 runs backwards/,
    },
    {
      name: 'a cron step of 99999999999999999999 (node-cron accepted it)',
      text: `${BASE}schedules:\n  masterData: "*/99999999999999999999 * * * *"\n`,
      expect:
        /^plant\.yaml:5:15: schedules\.masterData: must be a cron expression .*: minute "\*\/99999999999999999999": step 99999999999999999999 is not between 1 and 60$/,
    },
    {
      name: 'a flow cron that never fires, 31 February',
      text: `${BASE}schedules:\n  flows:\n    - { name: f, cron: "0 0 31 2 *", mode: batch, types: [quality.recorded] }\n`,
      expect: /schedules\.flows\[0\]\.cron: .*never fires/,
    },
    {
      name: 'a plant time zone that does not exist',
      text: `plant:\n  id: plant1\n  timezone: Europe/Berlinn\nstateDir: ${dir}\n`,
      expect: /^plant\.yaml:3:13: plant\.timezone: "Europe\/Berlinn" is not a time zone this system knows: use an IANA name like Europe\/Berlin/,
    },
    {
      name: 'a shift start that is not a time of day',
      text: `plant:\n  id: plant1\n  shifts:\n    - { name: early, start: "06:00" }\n    - { name: late, start: "2pm" }\nstateDir: ${dir}\n`,
      expect: /^plant\.yaml:5:28: plant\.shifts\[1\]\.start: "2pm" is not a time of day: write it as HH:MM, 24-hour/,
    },
    {
      name: 'two shifts of one name',
      text: `plant:\n  id: plant1\n  shifts:\n    - { name: early, start: "06:00" }\n    - { name: early, start: "14:00" }\nstateDir: ${dir}\n`,
      expect: /^plant\.yaml:5:15: plant\.shifts\[1\]\.name: shift name "early" is already used by shifts\[0\]/,
    },
    {
      name: 'a bind address that is not an IP address (it was accepted)',
      text: `${BASE}http:\n  bind: [127.0.0.1, not-an-ip]\n`,
      expect: /^plant\.yaml:5:21: http\.bind\[1\]: must be an IP address/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = problems(c.text);
      assert.ok(
        p.some((x) => c.expect.test(x)),
        `expected ${c.expect}, got:\n${p.join('\n').slice(0, 2000)}`,
      );
    });
  }

  it('check-config exits 78 with file:line and no stack trace for an unknown alias, an alias bomb and deep nesting', () => {
    for (const [name, text] of [
      ['alias.yaml', `${BASE}http:\n  view: *nope\n`],
      ['laughs.yaml', `${BASE}${laughs}\n`],
      ['deep.yaml', `${BASE}rules: ${'{a: '.repeat(6000)}1${'}'.repeat(6000)}\n`],
      ['zone.yaml', `plant:\n  id: plant1\n  timezone: Mars/Olympus_Mons\n  shifts: [{ name: early, start: "6 am" }]\nstateDir: ${dir}\n`],
    ] as const) {
      const r = checkConfig(name, text);
      assert.equal(r.status, 78, `${name}: ${r.stderr}`);
      assert.ok(r.stderr.startsWith(`${r.file}:`), `${name}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      if (name === 'zone.yaml') {
        assert.match(r.stderr, /zone\.yaml:3:13: plant\.timezone: "Mars\/Olympus_Mons" is not a time zone/);
        assert.match(r.stderr, /zone\.yaml:4:\d+: plant\.shifts\[0\]\.start: "6 am" is not a time of day/);
      }
    }
  });

  it('a config file that is not UTF-8 is refused at the line of the bad byte', () => {
    const r = checkConfig('latin1.yaml', Buffer.concat([Buffer.from(`${BASE}plantName: `), Buffer.from([0xe9]), Buffer.from('\n')]));
    assert.equal(r.status, 78);
    assert.match(r.stderr, /latin1\.yaml:4:1: \(file\): not UTF-8 text/);
  });

  it('a config path that is a device or a directory is refused by what it is', () => {
    assert.throws(
      () => loadConfigFile('/dev/zero'),
      (e: unknown) => e instanceof ConfigError && /^\/dev\/zero:1:1: \(file\): cannot read: not a regular file: a character device$/.test(e.problems[0]!),
    );
    assert.throws(
      () => loadConfigFile(dir),
      (e: unknown) => e instanceof ConfigError && /not a regular file: a directory/.test(e.problems[0]!),
    );
  });
});

describe('config: secret files', () => {
  it('${file:/dev/zero} is refused at once as not a regular file (check-config hung and took 3.8 GB)', () => {
    const r = resolveSecret('${file:/dev/zero}');
    assert.deepEqual(r, { ok: false, message: 'unresolved secret ${file:/dev/zero}: cannot read /dev/zero (not a regular file: a character device)' });
    const cfg = checkConfig('zero.yaml', `${BASE}odoo:\n  url: https://erp.example.com\n  database: prod\n  apiKey: \${file:/dev/zero}\n`);
    assert.equal(cfg.status, 78);
    assert.match(cfg.stderr, /zero\.yaml:7:11: odoo\.apiKey: unresolved secret \$\{file:\/dev\/zero\}: cannot read \/dev\/zero \(not a regular file/);
  });

  it('a named pipe is refused without waiting for a writer, a directory by what it is', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.match((resolveSecret(`\${file:${fifo}}`) as { message: string }).message, /not a regular file: a named pipe/);
    assert.match((resolveSecret(`\${file:${dir}}`) as { message: string }).message, /not a regular file: a directory/);
  });

  it('a secret file over 64 KiB is refused; one of 64 KiB is read', () => {
    const big = join(dir, 'big');
    writeFileSync(big, 'k'.repeat(65_537));
    assert.match((resolveSecret(`\${file:${big}}`) as { message: string }).message, /cannot read .*big \(larger than 64 KiB\)$/);
    writeFileSync(big, `${'k'.repeat(65_535)}\n`);
    const r = resolveSecret(`\${file:${big}}`);
    assert.equal(r.ok && r.value.length, 65_535);
  });

  it('a secret file that is not UTF-8 is refused', () => {
    const f = join(dir, 'latin1-key');
    writeFileSync(f, Buffer.from([0x6b, 0xe9, 0x79]));
    assert.match((resolveSecret(`\${file:${f}}`) as { message: string }).message, /is not UTF-8 text/);
  });
});
