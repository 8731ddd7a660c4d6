import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { dropSession, startBroker, uniqueClientId, uniquePrefix, type TestBroker } from '../../helpers/broker';
import { endClient, publish, testClient } from './support';

/**
 * Crash test: the MQTT source runs in a child process whose emit writes to a
 * SQLite file. The child is SIGKILLed after it received a QoS 1 message but
 * before the commit (and, second case, after the commit but before the
 * acknowledgement); started again with the same client id, it gets the
 * message again from the broker; the file ends with exactly one row.
 */

let broker: TestBroker;
let pub: MqttClient;
let dir: string;
const children = new Set<ChildProcess>();
const sessions: string[] = [];

before(async () => {
  broker = await startBroker();
  pub = await testClient(broker.url, uniqueClientId('crash-pub'));
  dir = mkdtempSync(join(tmpdir(), 'mqtt-crash-'));
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await endClient(pub);
  for (const id of sessions) await dropSession(broker.url, id);
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Child {
  proc: ChildProcess;
  /** Resolves with the first stdout line for which `match` is true. */
  waitLine(match: (line: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function runChild(mode: string, env: { clientId: string; topic: string; db: string }): Child {
  const proc = spawn(process.execPath, [join(__dirname, 'crash-child.js')], {
    env: { ...process.env, BROKER_URL: broker.url, CLIENT_ID: env.clientId, TOPIC: env.topic, DB: env.db, MODE: mode },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      children.delete(proc);
      resolve(code);
    }),
  );
  return {
    proc,
    lines,
    exited,
    waitLine(match, what, timeoutMs = 8000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`child (${mode}) did not report ${what} within ${timeoutMs} ms; stderr:\n${stderr.slice(-2000)}`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

function rows(db: string): Array<{ id: string }> {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare('SELECT id FROM events ORDER BY id').all() as Array<{ id: string }>;
  } finally {
    d.close();
  }
}

async function kill9(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  await child.exited;
}

describe('MQTT source crash (SIGKILL) and restart', () => {
  test('killed after receiving a QoS 1 message but before the commit: redelivered, exactly one row', async () => {
    const setup = { clientId: uniqueClientId('crash1'), topic: `${uniquePrefix('crash1')}/#`, db: join(dir, 'crash1.db') };
    sessions.push(setup.clientId);
    const base = setup.topic.slice(0, -2);

    const first = runChild('hold-before-commit', setup);
    await first.waitLine((l) => l.ready === true, 'ready');
    await publish(pub, `${base}/order`, JSON.stringify({ id: 'evt-1' }), 1);
    await first.waitLine((l) => l.received === 'evt-1', 'received evt-1');
    await kill9(first);
    assert.deepEqual(rows(setup.db), [], 'nothing committed before the kill');

    const second = runChild('normal', setup);
    await second.waitLine((l) => l.committed === 'evt-1', 'evt-1 committed after restart');
    // A later message arrives after the redelivered one: nothing else is pending.
    await publish(pub, `${base}/order`, JSON.stringify({ id: 'evt-2' }), 1);
    await second.waitLine((l) => l.committed === 'evt-2', 'evt-2 committed');
    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0);
    assert.deepEqual(rows(setup.db), [{ id: 'evt-1' }, { id: 'evt-2' }]);
    assert.equal(second.lines.filter((l) => l.received === 'evt-1').length, 1);
  });

  test('killed after the commit but before the acknowledgement: delivered twice, still exactly one row', async () => {
    const setup = { clientId: uniqueClientId('crash2'), topic: `${uniquePrefix('crash2')}/#`, db: join(dir, 'crash2.db') };
    sessions.push(setup.clientId);
    const base = setup.topic.slice(0, -2);

    const first = runChild('hold-after-commit', setup);
    await first.waitLine((l) => l.ready === true, 'ready');
    await publish(pub, `${base}/order`, JSON.stringify({ id: 'evt-9' }), 1);
    await first.waitLine((l) => l.committed === 'evt-9', 'committed evt-9');
    await kill9(first);
    assert.deepEqual(rows(setup.db), [{ id: 'evt-9' }]);

    const second = runChild('normal', setup);
    await second.waitLine((l) => l.received === 'evt-9', 'evt-9 received again (it was never acknowledged)');
    await second.waitLine((l) => l.committed === 'evt-9', 'evt-9 committed again (ignored as a duplicate)');
    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0);
    assert.deepEqual(rows(setup.db), [{ id: 'evt-9' }]);
  });
});
