// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Helper files under dist/test (fixtures, child processes, the Odoo simulator)
// are not test files, so the list is explicit.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(process.cwd(), 'dist', 'test');
const only = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js') && (only.length === 0 || only.some((o) => p.includes(o)))) files.push(p);
  }
})(root);
if (files.length === 0) {
  console.error('no test files found under dist/test');
  process.exit(1);
}
// --test-timeout: no single test may hang the run (tests that need longer say so themselves).
// (--test-force-exit would also end a file that leaves something running, but on Node 20 it
// sometimes loses a file's last reports, so the whole run has a time limit instead.)
const LIMIT_MIN = Number(process.env.EDGE_TEST_LIMIT_MIN ?? 45);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=240000', ...files], {
  stdio: 'inherit',
  env: { EDGE_AGENT_LOG_LEVEL: 'silent', ...process.env },
  timeout: LIMIT_MIN * 60_000,
  killSignal: 'SIGKILL',
});
if (r.signal === 'SIGKILL' || r.error) {
  console.error(`the test run did not finish within ${LIMIT_MIN} minutes: a test file is hanging (see the last file started above)`);
  process.exit(1);
}
process.exit(r.status ?? 1);
