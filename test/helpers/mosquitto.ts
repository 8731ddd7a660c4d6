import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

/**
 * A Mosquitto process of a test's own (`mosquitto -c <file>`), on a free port
 * of 127.0.0.1: for what the shared broker on 1883 cannot do (a TLS listener,
 * unlimited queues for a long soak). Stopped with `stop()`; its log is kept.
 */
export interface OwnMosquitto {
  port: number;
  /** mqtt://127.0.0.1:<port>, or mqtts:// with TLS. */
  url: string;
  /** What Mosquitto logged so far. */
  log(): string;
  stop(): Promise<void>;
}

export interface MosquittoTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Ask every client for a certificate signed by `caFile`. */
  requireCertificate?: boolean;
}

/** Why this machine cannot run a Mosquitto of its own (not installed), or undefined. */
export function mosquittoMissing(): string | undefined {
  const r = spawnSync('mosquitto', ['-h'], { stdio: 'ignore' });
  // `mosquitto -h` prints its usage and exits 3.
  return r.error ? 'mosquitto is not installed (apt-get install mosquitto)' : undefined;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Start Mosquitto with a config written to `dir`: one listener, anonymous
 * clients, no persistence file, no limit on queued messages per session,
 * and `extra` config lines.
 */
export async function startMosquitto(dir: string, opts: { tls?: MosquittoTls; extra?: string[] } = {}): Promise<OwnMosquitto> {
  const port = await freePort();
  const lines = [
    'per_listener_settings false',
    'allow_anonymous true',
    'persistence false',
    // Run as the user who started it (root here): the key files stay private to that user.
    'user root',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    // A session keeps every QoS 1/2 message while its client is away, however many.
    'max_queued_messages 0',
    'max_queued_bytes 0',
    `listener ${port} 127.0.0.1`,
  ];
  const tls = opts.tls;
  if (tls) {
    lines.push(`cafile ${tls.caFile}`, `certfile ${tls.certFile}`, `keyfile ${tls.keyFile}`);
    if (tls.requireCertificate) lines.push('require_certificate true');
  }
  lines.push(...(opts.extra ?? []), '');
  const file = join(dir, `mosquitto-${port}.conf`);
  writeFileSync(file, lines.join('\n'));
  const child: ChildProcess = spawn('mosquitto', ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    let up = false;
    for (let i = 0; i < 250 && !up && child.exitCode === null; i++) {
      up = await accepts(port);
      if (!up) await new Promise((r) => setTimeout(r, 20));
    }
    if (!up) throw new Error(`mosquitto does not accept connections on ${port} (exit ${child.exitCode}): ${log.trim()}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    url: `${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
