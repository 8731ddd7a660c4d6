// Checks Dockerfile.arm64 without a Docker engine: the file is parsed into
// stages and instructions, and the properties the Arm64 image depends on
// are asserted (two stages, arm64 Debian bookworm-slim Node LTS base, build
// tools only in the build stage, non-root user, state volume, health check).
// The health check command itself is run against a local HTTP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dockerfilePath = join(process.cwd(), 'Dockerfile.arm64');
const dockerignorePath = join(process.cwd(), '.dockerignore');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}
interface Dockerfile {
  globalArgs: Map<string, string>;
  stages: Stage[];
}

/** Splits a Dockerfile into global ARGs and stages of instructions (comments dropped, continuations joined). */
function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') && pending === '') continue; // comment or parser directive
    if (trimmed.startsWith('#')) continue; // comment inside a continued instruction
    if (trimmed.endsWith('\\')) {
      pending += trimmed.slice(0, -1).trim() + ' ';
      continue;
    }
    const line = (pending + trimmed).trim();
    pending = '';
    if (line !== '') logical.push(line);
  }
  assert.equal(pending, '', 'the file ends inside a continued line');
  const df: Dockerfile = { globalArgs: new Map(), stages: [] };
  for (const line of logical) {
    const sp = line.search(/\s/);
    const keyword = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const args = sp < 0 ? '' : line.slice(sp + 1).trim();
    if (keyword === 'FROM') {
      const m = /^(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      assert.ok(m, `cannot read FROM ${args}`);
      df.stages.push({ from: args, name: m[3], instructions: [] });
      continue;
    }
    const stage = df.stages[df.stages.length - 1];
    if (!stage) {
      assert.equal(keyword, 'ARG', `only ARG may come before the first FROM, found ${keyword}`);
      const [k, v] = args.split('=');
      df.globalArgs.set(k!, v ?? '');
      continue;
    }
    stage.instructions.push({ keyword, args });
  }
  return df;
}

function all(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

function last(stage: Stage, keyword: string): string | undefined {
  const a = all(stage, keyword);
  return a[a.length - 1];
}

/** The value of an ENV key in a stage ("ENV A=1 B=2" form). */
function envValue(stage: Stage, key: string): string | undefined {
  let found: string | undefined;
  for (const args of all(stage, 'ENV')) {
    for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) if (m[1] === key) found = m[2]!.replace(/^"|"$/g, '');
  }
  return found;
}

const df = parseDockerfile(readFileSync(dockerfilePath, 'utf8'));
const build = df.stages[0]!;
const runtime = df.stages[df.stages.length - 1]!;

test('the image is built in two stages from an arm64 Debian bookworm-slim Node LTS base', () => {
  assert.ok(df.stages.length >= 2, 'multi-stage: a build stage and a runtime stage');
  assert.ok(build.name, 'the build stage has a name for COPY --from');
  const major = Number(df.globalArgs.get('NODE_MAJOR'));
  assert.ok(Number.isInteger(major) && major >= 24 && major % 2 === 0, `NODE_MAJOR=${df.globalArgs.get('NODE_MAJOR')} is not an even (LTS) line >= 24`);
  for (const stage of df.stages) {
    const m = /^--platform=(\S+)\s+node:(\S+?)(?:@sha256:[0-9a-f]{64})?(?:\s+AS\s+\S+)?$/i.exec(stage.from);
    assert.ok(m, `FROM ${stage.from}: expected --platform=... node:<tag>`);
    assert.equal(m[1], 'linux/arm64');
    const tag = m[2]!.replace('${NODE_MAJOR}', String(major));
    assert.equal(tag, `${major}-bookworm-slim`);
  }
});

test('the build stage compiles native modules and the TypeScript, then drops dev dependencies', () => {
  const runs = all(build, 'RUN').join('\n');
  for (const pkg of ['python3', 'make', 'g++'])
    assert.match(runs, new RegExp(`apt-get install[^\\n]*\\s${pkg.replace('+', '\\+')}(\\s|$)`), `build stage installs ${pkg}`);
  assert.match(runs, /npm ci\b/);
  assert.match(runs, /npm ci --ignore-scripts/, 'no install script runs before the sources are there, and nothing prebuilt is downloaded');
  assert.match(runs, /npm run build-release --prefix node_modules\/better-sqlite3/, 'better-sqlite3 is compiled from source for arm64');
  assert.equal(envValue(build, 'npm_config_nodedir'), '/usr/local', "compiled against the image's own Node headers");
  const order = ['npm ci', 'npm run build', 'npm prune --omit=dev'].map((s) => runs.indexOf(s));
  assert.ok(
    order.every((i) => i >= 0),
    'npm ci, npm run build and npm prune --omit=dev all run',
  );
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    'in that order',
  );
});

test('the runtime stage holds the program only, runs it as a non-root user, and keeps state in a volume', () => {
  const copies = all(runtime, 'COPY');
  for (const what of ['node_modules', 'dist']) {
    assert.ok(
      copies.some((c) => c.startsWith(`--from=${build.name} `) && c.includes(`/${what}`)),
      `runtime copies ${what} from the build stage`,
    );
  }
  const runs = all(runtime, 'RUN').join('\n');
  assert.doesNotMatch(runs, /(^|\s)(g\+\+|make|build-essential)(\s|$)/, 'no compiler in the runtime image');
  const user = last(runtime, 'USER');
  assert.ok(user, 'the runtime stage sets USER');
  assert.doesNotMatch(user, /^(root|0)(:|$)/);
  const userIndex = runtime.instructions.findIndex((i) => i.keyword === 'USER');
  const afterUser = runtime.instructions.slice(userIndex + 1).map((i) => i.keyword);
  assert.ok(!afterUser.includes('RUN'), 'nothing runs as root after USER, and USER is not undone');
  assert.ok(all(runtime, 'VOLUME').some((v) => v.split(/\s+/).includes('/var/lib/edge-agent') || v.includes('"/var/lib/edge-agent"')));
  assert.match(runs, /chown node:node \/var\/lib\/edge-agent/, 'the state folder belongs to the runtime user');
  assert.ok(all(runtime, 'EXPOSE').some((e) => e.split(/\s+/).includes('8470')));
  assert.deepEqual(JSON.parse(last(runtime, 'ENTRYPOINT') ?? 'null'), ['node', '--max-semi-space-size=32', 'dist/agent/cli/main.js']);
  assert.deepEqual(JSON.parse(last(runtime, 'CMD') ?? 'null'), ['run', '--config', '/etc/edge-agent/config.yaml']);
  assert.equal(envValue(runtime, 'NODE_ENV'), 'production');
  assert.equal(envValue(runtime, 'CREDENTIALS_DIRECTORY'), '/run/secrets', '${credential:NAME} reads Docker secrets');
});

test('.dockerignore keeps the host build and local state out of the image', () => {
  const ignored = readFileSync(dockerignorePath, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const p of ['node_modules', 'dist', '.git', 'state']) assert.ok(ignored.includes(p), `.dockerignore lacks ${p}`);
});

/** The health check's exec form: ["node", "-e", code]. */
function healthcheckCommand(): string[] {
  const hc = last(runtime, 'HEALTHCHECK');
  assert.ok(hc, 'the runtime stage has a HEALTHCHECK');
  const m = /\bCMD\s+(\[.*\])$/.exec(hc);
  assert.ok(m, `HEALTHCHECK uses the exec form: ${hc}`);
  const cmd = JSON.parse(m[1]!) as string[];
  assert.equal(cmd[0], 'node', 'the slim image has no curl or wget: node checks health');
  return cmd;
}

function runHealthcheck(url: string): Promise<number | null> {
  const cmd = healthcheckCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cmd.slice(1), { env: { ...process.env, EDGE_AGENT_HEALTH_URL: url }, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

test('the health check targets /healthz and its exit code follows the answer', async (t) => {
  const url = envValue(runtime, 'EDGE_AGENT_HEALTH_URL') ?? '';
  const code = healthcheckCommand().join(' ');
  assert.ok(
    code.includes('/healthz') || (code.includes('EDGE_AGENT_HEALTH_URL') && url === 'http://127.0.0.1:8470/healthz'),
    'the health check asks /healthz on the status port',
  );

  let status = 200;
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  assert.equal(await runHealthcheck(`${base}/healthz`), 0, 'healthy on 200');
  status = 503;
  assert.equal(await runHealthcheck(`${base}/healthz`), 1, 'unhealthy on 503');
  assert.deepEqual(seen, ['/healthz', '/healthz']);
  // Nothing listening: unhealthy, not a crash with another exit code.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  assert.equal(await runHealthcheck(`http://127.0.0.1:${closedPort}/healthz`), 1, 'unhealthy when nothing answers');
});
