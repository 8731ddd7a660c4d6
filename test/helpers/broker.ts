import { createServer, type Server } from 'node:net';
import { connect } from 'mqtt';

/**
 * A real MQTT broker for tests: Mosquitto on 127.0.0.1:1883 when it answers
 * an MQTT CONNECT within ~500 ms, otherwise an in-process aedes broker on an
 * ephemeral port. Set MQTT_TEST_BROKER=aedes to force the in-process one, or
 * MQTT_TEST_BROKER=mqtt://host:port to use another broker.
 *
 *   const broker = await startBroker();
 *   ... broker.url ...
 *   await broker.close();   // stops aedes; leaves Mosquitto running
 *
 * Mosquitto is shared by everyone on this machine: give every test its own
 * topic prefix (uniquePrefix()) and client ids.
 */
export interface TestBroker {
  url: string;
  kind: 'mosquitto' | 'aedes' | 'external';
  close(): Promise<void>;
}

export const MOSQUITTO_URL = 'mqtt://127.0.0.1:1883';

/** True when an MQTT broker at `url` accepts a connection within `timeoutMs`. */
export function brokerAnswers(url: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const client = connect(url, {
      clientId: `probe-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
      connectTimeout: timeoutMs,
      reconnectPeriod: 0,
      clean: true,
    });
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true, {}, () => resolve(ok));
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    client.on('connect', () => finish(true));
    client.on('error', () => finish(false));
    client.on('close', () => finish(false));
  });
}

export async function startBroker(): Promise<TestBroker> {
  const wanted = process.env.MQTT_TEST_BROKER;
  if (wanted && /^mqtts?:\/\//.test(wanted)) return { url: wanted, kind: 'external', close: async () => undefined };
  if (wanted !== 'aedes' && (await brokerAnswers(MOSQUITTO_URL))) {
    return { url: MOSQUITTO_URL, kind: 'mosquitto', close: async () => undefined };
  }
  return startAedes();
}

/** An aedes broker in this process on 127.0.0.1, ephemeral port. */
export async function startAedes(): Promise<TestBroker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('aedes server has no TCP address');
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    kind: 'aedes',
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/** A topic prefix no other test (or engineer) on this broker uses. */
export function uniquePrefix(name: string): string {
  return `test/${name}/${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A client id no other test uses. */
export function uniqueClientId(name: string): string {
  return `t-${name}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`.slice(0, 64);
}

/**
 * Forget a persistent session left by a test: connect once with a clean
 * session under the same client id, then disconnect.
 */
export async function dropSession(url: string, clientId: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const client = connect(url, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 2000 });
    const done = () => client.end(true, {}, () => resolve());
    client.on('connect', () => client.end(false, {}, () => resolve()));
    client.on('error', done);
  });
}
