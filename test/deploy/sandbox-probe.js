// Sandbox probe, run by test/deploy/nspawn-check.sh in place of the agent
// under systemd/edge-agent.service: does what the agent does (credential,
// SQLite in the state folder, serial/input device open, python3 helper, HTTP
// listener, worker thread) and prints one JSON line per check.
const fs = require('fs'),
  os = require('os'),
  dns = require('dns'),
  http = require('http');
const { spawnSync } = require('child_process');
const { Worker } = require('worker_threads');
const out = (k, v) => console.log(JSON.stringify({ probe: k, result: v }));
const tryit = (k, f) => {
  try {
    out(k, f());
  } catch (e) {
    out(k, 'ERR ' + (e.code || '') + ' ' + e.message);
  }
};
out('argv', process.argv.slice(2).join(' '));
out('ids', { uid: process.getuid(), gid: process.getgid(), groups: process.getgroups() });
out('env', {
  NODE_ENV: process.env.NODE_ENV,
  LOG: process.env.EDGE_AGENT_LOG_LEVEL,
  CREDS: process.env.CREDENTIALS_DIRECTORY,
  cwd: process.cwd(),
  HOME: process.env.HOME,
});
tryit('credential', () => fs.readFileSync(process.env.CREDENTIALS_DIRECTORY + '/odoo-api-key', 'utf8').trim().length + ' chars');
tryit('config read', () => fs.readFileSync('/etc/edge-agent/config.yaml', 'utf8').length + ' bytes');
tryit('credentials dir on disk', () => fs.readdirSync('/etc/edge-agent/credentials'));
tryit('sqlite WAL in state dir', () => {
  const D = require('better-sqlite3');
  const db = new D('/var/lib/edge-agent/probe.db');
  db.pragma('journal_mode = WAL');
  db.exec('create table if not exists t(x)');
  db.prepare('insert into t values (?)').run(Date.now());
  const n = db.prepare('select count(*) n from t').get().n;
  db.close();
  const st = fs.statSync('/var/lib/edge-agent/probe.db');
  return { rows: n, mode: (st.mode & 0o777).toString(8) };
});
for (const p of ['/opt/edge-agent/x', '/etc/edge-agent/x', '/usr/x', '/tmp/x', '/var/tmp/x'])
  tryit('write ' + p, () => {
    fs.writeFileSync(p, 'x');
    fs.unlinkSync(p);
    return 'ok';
  });
tryit(
  'home',
  () =>
    fs.readdirSync('/home').length +
    ' entries; /root: ' +
    (() => {
      try {
        return fs.readdirSync('/root').length;
      } catch (e) {
        return e.code;
      }
    })(),
);
tryit('proc pids visible', () => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length);
tryit('os.cpus', () => os.cpus().length);
tryit('os.totalmem MB', () => Math.round(os.totalmem() / 1e6));
tryit('networkInterfaces', () => Object.keys(os.networkInterfaces()));
tryit('python3 ioctl module', () => {
  const r = spawnSync('python3', ['-c', 'import fcntl, struct, os; print("python ok", os.getuid())'], { encoding: 'utf8' });
  return [r.status, r.signal, (r.stdout + r.stderr).trim()];
});
tryit('udevadm', () => {
  const r = spawnSync('udevadm', ['--version'], { encoding: 'utf8' });
  return [r.status, r.signal, r.error && r.error.code, (r.stdout || '').trim()];
});
const openDev = (p) => {
  try {
    const fd = fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    fs.closeSync(fd);
    return 'opened';
  } catch (e) {
    return e.code;
  }
};
for (const p of ['/dev/ttyS3', '/dev/input/event7', '/dev/tun-test', '/dev/null', '/dev/urandom']) out('open ' + p, openDev(p));
dns.lookup('localhost', { hints: dns.ADDRCONFIG, all: true }, (err, a) => out('dns.lookup ADDRCONFIG', err ? 'ERR ' + err.code : a));
const w = new Worker('require("worker_threads").parentPort.postMessage(6*7)', { eval: true });
w.on('message', (m) => {
  out('worker thread', m);
  w.terminate();
});
w.on('error', (e) => out('worker thread', 'ERR ' + e.message));
const srv = http.createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' }).end('ok\n');
});
srv.listen(8470, '127.0.0.1', () => out('listen', srv.address()));
process.on('SIGTERM', () => {
  out('signal', 'SIGTERM: closing');
  srv.close(() => process.exit(0));
});
