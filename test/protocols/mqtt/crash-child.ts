/**
 * Child process of crash.test: runs the MQTT source with an emit that writes
 * to a SQLite file (table with UNIQUE(id)), so the parent can SIGKILL it at a
 * chosen moment and check the file afterwards.
 *
 * env: BROKER_URL, CLIENT_ID, TOPIC (filter), DB, MODE
 *   MODE=hold-before-commit  emit announces `received` and never commits
 *   MODE=hold-after-commit   emit commits, announces `committed`, never returns (no ack)
 *   MODE=normal              emit commits and returns (ack follows)
 * stdout: one JSON line per step: {"ready":true}, {"received":id}, {"committed":id}
 */
import Database from 'better-sqlite3';
import pino from 'pino';
import { MqttSourceAdapter } from '../../../agent/protocols/mqtt/adapter';
import { mqttSourceSchema } from '../../../agent/protocols/mqtt/config';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const mode = env('MODE');
const db = new Database(env('DB'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS events (id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)');
const insert = db.prepare('INSERT OR IGNORE INTO events (id, body) VALUES (?, ?)');
const commitAll = db.transaction((rows: Array<{ id: string; body: string }>) => {
  for (const r of rows) insert.run(r.id, r.body);
});

const say = (line: object) => process.stdout.write(JSON.stringify(line) + '\n');
const never = new Promise<void>(() => undefined);

// Log lines go to stderr synchronously (a SIGKILL must not lose the 'subscribed' line).
const log = pino({ level: 'info' }, pino.destination({ dest: 2, sync: true }));

const config = mqttSourceSchema.parse({
  type: 'mqtt',
  name: 'crash',
  url: env('BROKER_URL'),
  clientId: env('CLIENT_ID'),
  subscriptions: [{ topic: env('TOPIC'), qos: 1 }],
  reconnectPeriodMs: 200,
});

const adapter = new MqttSourceAdapter(config, {
  log,
  stateDir: process.cwd(),
  async emit(signals) {
    const rows = signals.map((s) => ({ id: String((s.value as { id: unknown }).id), body: JSON.stringify(s.value) }));
    for (const r of rows) say({ received: r.id });
    if (mode === 'hold-before-commit') return never;
    commitAll(rows);
    for (const r of rows) say({ committed: r.id });
    if (mode === 'hold-after-commit') return never;
  },
  async reject(input) {
    say({ rejected: input.reason });
  },
});

process.on('SIGTERM', () => {
  void adapter.stop().then(() => {
    db.close();
    process.exit(0);
  });
});

void adapter.start().then(async () => {
  // Ready once subscribed: poll health for the connection, then give the SUBACK a moment.
  while (!adapter.health().connected) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 150));
  say({ ready: true });
});
