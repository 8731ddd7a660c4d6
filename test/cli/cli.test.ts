import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { until } from '../helpers/until';

const dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');
const config = join(dir, 'agent.yaml');
// The Odoo key is a systemd credential this test cannot resolve: local commands must work without it.
writeFileSync(
  config,
  `plant:\n  id: cli\nstateDir: ${dir}\nhttp:\n  port: 1\nodoo:\n  url: http://127.0.0.1:1\n  database: x\n  apiKey: \${credential:odoo-api-key}\n`,
);

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args, '--config', config], { encoding: 'utf8', env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const line = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'downtime.started',
    sequenceKey: 'WC-1',
    occurredAt: '2026-11-26T07:00:00Z',
    payload: { downtimeId: 'd1', workcenter: 'Press 1', reason: 'Setup' },
    ...over,
  });

describe('edge-agent CLI', () => {
  it('imports good lines, reports bad ones by line number, and is idempotent', () => {
    const file = join(dir, 'events.jsonl');
    writeFileSync(
      file,
      [
        line(),
        '{not json',
        line({ type: 'downtime.sideways' }),
        line({ occurredAt: '2026-11-26T07:05:00Z', payload: { downtimeId: 'd2', workcenter: 'Press 1', reason: 'Setup' } }),
        line({ payload: { downtimeId: 'd3', workcenter: 'Press 1' } }),
        '',
      ].join('\n'),
    );
    const first = run('events', 'import', file);
    assert.equal(first.code, 5, 'partly done');
    assert.match(first.out, /2 events committed, 0 already there, 3 lines rejected/);
    assert.match(first.err, /events\.jsonl:2: not JSON/);
    assert.match(first.err, /events\.jsonl:3: type/);
    assert.match(first.err, /events\.jsonl:5: payload\.reason/);
    const again = run('events', 'import', file, '--json');
    assert.equal(JSON.parse(again.out).duplicates, 2, 'a second import adds nothing');
  });

  it('lists, shows, retries, edits and skips from the exception queue', () => {
    const list = JSON.parse(run('outbox', 'list', '--json').out) as Array<{ id: string; state: string }>;
    assert.equal(list.length, 2);
    assert.equal(run('outbox', 'show', 'nope').code, 4);
    const shown = JSON.parse(run('outbox', 'show', list[0]!.id, '--json').out) as { event: { payload: { downtimeId: string } } };
    assert.equal(shown.event.payload.downtimeId, 'd1');

    const outbox = new SqliteOutbox({ path: join(dir, 'outbox.db') });
    const [head] = outbox.claim(1);
    outbox.settle([{ seq: head!.seq, outcome: 'park', reason: 'ValidationError: unknown loss reason Setup', blocking: true }]);
    void outbox.close();

    assert.equal(run('outbox', 'list', '--state', 'bogus').code, 2);
    const parked = JSON.parse(run('outbox', 'list', '--state', 'parked', '--json').out) as Array<{ id: string }>;
    assert.deepEqual(
      parked.map((p) => p.id),
      [head!.id],
    );
    const edited = run('outbox', 'edit', head!.id, 'payload.reason', 'Equipment Failure', '--actor', 'alice');
    assert.equal(edited.code, 0, edited.err);
    const after = JSON.parse(run('outbox', 'show', head!.id, '--json').out) as {
      state: string;
      event: { payload: { reason: string } };
      originalPayload: { reason: string };
    };
    assert.equal(after.state, 'pending');
    assert.equal(after.event.payload.reason, 'Equipment Failure');
    assert.equal(after.originalPayload.reason, 'Setup');
    assert.equal(run('outbox', 'retry', '--state', 'parked').code, 4, 'nothing parked any more');
    assert.equal(run('outbox', 'skip', head!.id).code, 2, 'skip needs a reason');
    const skipped = run('outbox', 'skip', head!.id, '--reason', 'entered by hand in Odoo', '--json');
    assert.equal(JSON.parse(skipped.out).skipped, 1);
  });

  it('status reads the outbox when the agent is not running', () => {
    const s = run('status', '--json');
    assert.equal(s.code, 0, s.err);
    const status = JSON.parse(s.out) as { running: boolean; outbox: { pending: number; skipped: number } };
    assert.equal(status.running, false);
    assert.equal(status.outbox.pending, 1);
    assert.equal(status.outbox.skipped, 1);
  });

  it('manages status-page users, reading the password from standard input', () => {
    const add = (name: string, role: string, password: string) =>
      spawnSync(process.execPath, [cli, 'users', 'add', name, '--role', role, '--config', config], {
        input: `${password}\n`,
        encoding: 'utf8',
        env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' },
      });
    const ok = add('alice', 'supervisor', 'correct horse battery');
    assert.equal(ok.status, 0, ok.stderr);
    const weak = add('bob', 'viewer', 'short');
    assert.equal(weak.status, 1);
    assert.match(weak.stderr, /at least 8 characters/);
    assert.equal(add('carol', 'overlord', 'long enough pw').status, 2);
    const list = JSON.parse(run('users', 'list', '--json').out) as Array<{ name: string; role: string }>;
    assert.deepEqual(list, [{ name: 'alice', role: 'supervisor' }]);
    const stored = readFileSync(join(dir, 'users.json'), 'utf8');
    assert.ok(!stored.includes('correct horse'), 'only a hash is stored');
    assert.equal(run('users', 'remove', 'alice').code, 0);
    assert.equal(run('users', 'remove', 'alice').code, 4);
  });

  it('check-config still refuses the unresolved credential that local commands accept', () => {
    const r = spawnSync(process.execPath, [cli, 'check-config', config], { encoding: 'utf8', env: { ...process.env, CREDENTIALS_DIRECTORY: '' } });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /odoo\.apiKey: unresolved secret \$\{credential:odoo-api-key\}/);
  });

  it('prints help with the exit codes, and refuses unknown commands', () => {
    const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(
      help.stdout,
      /Exit codes:\n\s+0 ok\s+1 failure\s+2 usage error\s+3 reconcile found records missing, duplicated or differing in Odoo\n\s+4 not found\s+5 partly done.*\n\s+65 the outbox file is damaged\s+75 another agent owns the outbox.*78 config invalid\n\s+69 something needed does not answer/,
    );
    assert.equal(run('frobnicate').code, 2);
  });

  it("a second agent on one state directory refuses to start (exit 75), naming the directory and the running agent's pid", async () => {
    const state = mkdtempSync(join(tmpdir(), 'two-agents-'));
    const file = join(state, 'agent.yaml');
    writeFileSync(file, `plant:\n  id: twice\nstateDir: ${state}\nhttp:\n  enabled: false\n`);
    const env = { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' };
    const first = spawn(process.execPath, [cli, 'run', '--config', file], { env, stdio: 'ignore' });
    try {
      await until(() => existsSync(join(state, 'outbox.db-owner.json')), 'the first agent owns its outbox');
      const second = spawnSync(process.execPath, [cli, 'run', '--config', file], { encoding: 'utf8', env, timeout: 30_000 });
      assert.equal(second.status, 75, second.stderr);
      assert.ok(second.stderr.includes(state), second.stderr);
      assert.match(second.stderr, new RegExp(`pid ${first.pid}`));
      assert.equal(first.exitCode, null, 'the first agent runs on');
    } finally {
      first.kill('SIGTERM');
      await once(first, 'exit');
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('if the page cannot listen (port in use, bad bind address) the agent does not run on without it: exit 69 naming address and port; http.optional runs on', async () => {
    const state = mkdtempSync(join(tmpdir(), 'page-busy-'));
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const env = { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' };
    const start = (name: string, http: string) => {
      const file = join(state, `${name}.yaml`);
      writeFileSync(file, `plant:\n  id: ${name}\nstateDir: ${join(state, name)}\nlog:\n  level: warn\nhttp:\n${http}`);
      return file;
    };
    try {
      const busy = spawnSync(process.execPath, [cli, 'run', '--config', start('busy', `  port: ${port}\n`)], { encoding: 'utf8', env, timeout: 60_000 });
      assert.equal(busy.status, 69, `exit ${busy.status} ${busy.signal ?? ''}: ${busy.stderr}`);
      assert.match(busy.stderr, new RegExp(`status page cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
      const nowhere = spawnSync(process.execPath, [cli, 'run', '--config', start('nowhere', `  port: ${port}\n  bind: [192.0.2.1]\n`)], {
        encoding: 'utf8',
        env,
        timeout: 60_000,
      });
      assert.equal(nowhere.status, 69, `exit ${nowhere.status} ${nowhere.signal ?? ''}: ${nowhere.stderr}`);
      assert.match(nowhere.stderr, new RegExp(`status page cannot listen on 192\\.0\\.2\\.1:${port}: EADDRNOTAVAIL`));

      const optional = spawn(process.execPath, [cli, 'run', '--config', start('optional', `  port: ${port}\n  optional: true\n`)], { env });
      let out = '';
      optional.stdout.on('data', (d) => (out += String(d)));
      try {
        await until(() => out.includes('trying again every 30 s'), 'the optional page says it tries again', 30_000);
        assert.match(out, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
        assert.equal(optional.exitCode, null, 'the agent runs on without its page');
      } finally {
        const exited = optional.exitCode === null ? once(optional, 'exit') : Promise.resolve([optional.exitCode]);
        optional.kill('SIGTERM');
        const [code] = (await exited) as [number | null];
        assert.equal(code, 0);
      }
    } finally {
      blocker.close();
      rmSync(state, { recursive: true, force: true });
    }
  });
});
