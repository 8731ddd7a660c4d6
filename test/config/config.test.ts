import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfigFile, parseConfigText } from '../../agent/config/load';
import { resolveSecret } from '../../agent/config/secrets';
import { ConfigError } from '../../agent/errors';
import { makeCertificate } from '../helpers/certificate';

const dir = mkdtempSync(join(tmpdir(), 'config-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BASE = `plant:
  id: plant1
stateDir: ${dir}
odoo:
  url: https://erp.example.com
  database: prod
  apiKey: \${env:EDGE_TEST_KEY}
`;

function problems(text: string, env: Record<string, string> = { EDGE_TEST_KEY: 'k' }): string[] {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    parseConfigText(text, 'plant.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  }
  return [];
}

describe('config', () => {
  it('accepts a minimal config and fills the defaults', () => {
    process.env.EDGE_TEST_KEY = 'secret-value';
    const c = parseConfigText(BASE, 'plant.yaml');
    delete process.env.EDGE_TEST_KEY;
    assert.equal(c.outbox.synchronous, 'FULL');
    assert.equal(c.outbox.path, join(dir, 'outbox.db'));
    assert.equal(c.odoo?.apiKey, 'secret-value');
    assert.equal(c.sync.concurrency, 4);
  });

  const cases: Array<{ name: string; text: string; expect: RegExp; env?: Record<string, string> }> = [
    {
      name: 'an unknown key (a typo)',
      text: `${BASE}outbox:\n  synchronus: NORMAL\n`,
      expect: /^plant\.yaml:9:3: outbox\.synchronus: unknown key "synchronus"/,
    },
    {
      name: 'a wrong type',
      text: `${BASE}sync:\n  concurrency: "lots"\n`,
      expect: /^plant\.yaml:9:16: sync\.concurrency: .*expected number/,
    },
    {
      name: 'a missing required field',
      text: `plant:\n  name: Plant One\nstateDir: ${dir}\n`,
      expect: /^plant\.yaml:2:3: plant\.id: required field is missing/,
    },
    {
      name: 'a bad enum value',
      text: `${BASE}outbox:\n  synchronous: OFF\n`,
      expect: /^plant\.yaml:9:16: outbox\.synchronous: .*"FULL"\|"NORMAL"/,
    },
    {
      name: 'an unresolved secret',
      text: BASE,
      env: {},
      expect: /^plant\.yaml:7:11: odoo\.apiKey: unresolved secret \$\{env:EDGE_TEST_KEY\}: environment variable EDGE_TEST_KEY is not set$/,
    },
    {
      name: 'an inline secret',
      text: BASE.replace('${env:EDGE_TEST_KEY}', 'hunter2'),
      expect: /^plant\.yaml:7:11: odoo\.apiKey: must be a secret reference/,
    },
    {
      name: 'a bad cron expression',
      text: `${BASE}schedules:\n  retention: "every night"\n`,
      expect: /^plant\.yaml:9:14: schedules\.retention: must be a cron expression/,
    },
  ];
  for (const c of cases) {
    it(`names file, line and field for ${c.name}`, () => {
      const env = c.env ?? { EDGE_TEST_KEY: 'k' };
      if (!c.env) process.env.EDGE_TEST_KEY = 'k';
      else delete process.env.EDGE_TEST_KEY;
      const p = problems(c.text, env);
      delete process.env.EDGE_TEST_KEY;
      assert.equal(p.length >= 1, true, 'at least one problem');
      assert.ok(
        p.some((x) => c.expect.test(x)),
        `expected ${c.expect}, got:\n${p.join('\n')}`,
      );
      assert.ok(!p.join('\n').includes('hunter2'), 'never prints a secret value');
    });
  }

  it('reports every problem at once', () => {
    const p = problems(`${BASE}outbox:\n  synchronus: NORMAL\n  maxEvents: -1\nsync:\n  concurrency: 0\n`);
    assert.equal(p.length, 3, p.join('\n'));
  });

  it('reports YAML syntax errors with their line', () => {
    const p = problems(`plant:\n  id: [unclosed\n`);
    assert.match(p[0]!, /^plant\.yaml:\d+:\d+: \(yaml\): /);
  });

  it('resolves file and systemd credential references', () => {
    const f = join(dir, 'key');
    writeFileSync(f, 'from-file\n');
    assert.deepEqual(resolveSecret(`\${file:${f}}`), { ok: true, value: 'from-file' });
    writeFileSync(join(dir, 'odoo-api-key'), 'from-credential');
    assert.deepEqual(resolveSecret('${credential:odoo-api-key}', { CREDENTIALS_DIRECTORY: dir }), { ok: true, value: 'from-credential' });
    const missing = resolveSecret('${credential:odoo-api-key}', {});
    assert.equal(missing.ok, false);
    assert.match((missing as { message: string }).message, /CREDENTIALS_DIRECTORY is not set/);
  });

  it('http.optional is false unless set', () => {
    const c = parseConfigText(`plant: { id: p }\nhttp:\n  port: 8471\n`, 'plant.yaml');
    assert.equal(c.http.optional, false);
    assert.equal(c.http.tls, undefined);
    assert.equal(parseConfigText(`plant: { id: p }\nhttp: { optional: true }\n`).http.optional, true);
  });

  it('http.tls: certificate and key are references, read and checked as a pair when the config loads', () => {
    const page = makeCertificate(dir, 'page');
    const other = makeCertificate(dir, 'other');
    const junk = join(dir, 'junk.crt');
    writeFileSync(junk, 'not a certificate\n');
    const tls = (crt: string, key: string) => `plant: { id: p }\nhttp:\n  tls:\n    certificate: \${file:${crt}}\n    key: ${key}\n`;

    const c = parseConfigText(tls(page.certificateFile, `\${file:${page.keyFile}}`), 'plant.yaml');
    assert.match(c.http.tls!.certificate, /^-----BEGIN CERTIFICATE-----/);
    assert.match(c.http.tls!.key, /^-----BEGIN PRIVATE KEY-----/);

    const wrongKey = problems(tls(page.certificateFile, `\${file:${other.keyFile}}`));
    assert.deepEqual(wrongKey, ['plant.yaml:5:10: http.tls.key: not the private key of the certificate (CN=page)']);
    const notPem = problems(tls(junk, `\${file:${page.keyFile}}`));
    assert.deepEqual(notPem, ['plant.yaml:4:18: http.tls.certificate: not a PEM certificate (-----BEGIN CERTIFICATE-----)']);
    const inline = problems(tls(page.certificateFile, 'BEGIN-PRIVATE-KEY-inline'));
    assert.equal(inline.length, 1);
    assert.match(inline[0]!, /http\.tls\.key: must be a secret reference/);
    assert.doesNotMatch(inline[0]!, /BEGIN-PRIVATE/, 'never quotes the key');
    assert.match(
      problems(`plant: { id: p }\nhttp:\n  tls: { certificate: "\${file:${page.certificateFile}}" }\n`).join('\n'),
      /http\.tls\.key: required field is missing/,
    );
  });

  it('config.example.yaml is valid as shipped, and turns on no flow and no mqttOut', () => {
    // As the service sees it: the API key is the systemd credential odoo-api-key.
    const credentials = join(dir, 'example-credentials');
    mkdirSync(credentials, { recursive: true });
    writeFileSync(join(credentials, 'odoo-api-key'), 'example');
    const saved = { ...process.env };
    process.env.CREDENTIALS_DIRECTORY = credentials;
    try {
      const { config } = loadConfigFile(join(process.cwd(), 'config.example.yaml'));
      assert.equal(config.plant.id.length > 0, true);
      assert.ok(config.sources.length >= 1, 'the example shows sources');
      // Copied as it is (systemd/install.sh does), it must not hold events back or publish on a broker.
      assert.deepEqual(config.schedules.flows, [], 'no batch or roll-up flow is on (examples go in comments)');
      assert.equal(config.mqttOut?.enabled ?? false, false, 'no mqttOut is on (the example goes in comments)');
    } finally {
      process.env = saved;
    }
  });

  it('check-config exits 0 with a summary, and 78 (EX_CONFIG) with the problems', () => {
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, BASE);
    writeFileSync(bad, `${BASE}sync:\n  concurency: 2\n`);
    const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');
    const env = { ...process.env, EDGE_TEST_KEY: 'k', EDGE_AGENT_LOG_LEVEL: 'silent' };
    const ok = spawnSync(process.execPath, [cli, 'check-config', good], { env, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /valid\nplant plant1\ntime zone [^\n]+ \(the gateway's: plant\.timezone is not set\)\n/);
    const zoned = join(dir, 'zoned.yaml');
    writeFileSync(zoned, BASE.replace('  id: plant1\n', '  id: plant1\n  timezone: Asia/Tokyo\n'));
    const tokyo = spawnSync(process.execPath, [cli, 'check-config', zoned], { env, encoding: 'utf8' });
    assert.equal(tokyo.status, 0, tokyo.stderr);
    assert.match(tokyo.stdout, /valid\nplant plant1\ntime zone Asia\/Tokyo\n/);
    const no = spawnSync(process.execPath, [cli, 'check-config', bad], { env, encoding: 'utf8' });
    assert.equal(no.status, 78);
    assert.match(no.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:9:3: sync\\.concurency: unknown key`));
  });
});
