import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { connect, type MqttClient } from 'mqtt';
import type { InvalidInput, Signal } from '../../../agent/model/signal';
import type { AdapterContext } from '../../../agent/protocols/types';
import { mqttSourceSchema, type MqttSourceConfig, type MqttSourceInput } from '../../../agent/protocols/mqtt/config';
import { until } from '../../helpers/until';

/** Test doubles and small helpers for the MQTT tests. */

export const silentLog = pino({ level: 'silent' });

export interface RecordingContext extends AdapterContext {
  signals: Signal[];
  rejects: InvalidInput[];
  /** Number of emit calls (batches). */
  emits: number;
  /** Replace how emit behaves (default: resolve at once, record). */
  emitImpl: (signals: Signal[]) => Promise<void>;
  dispose(): void;
}

/** An AdapterContext that records what the adapter committed. */
export function recordingContext(): RecordingContext {
  const stateDir = mkdtempSync(join(tmpdir(), 'mqtt-test-'));
  const ctx: RecordingContext = {
    log: silentLog,
    stateDir,
    signals: [],
    rejects: [],
    emits: 0,
    emitImpl: async () => undefined,
    async emit(signals) {
      ctx.emits++;
      await ctx.emitImpl(signals);
      ctx.signals.push(...signals);
    },
    async reject(input) {
      ctx.rejects.push(input);
    },
    dispose() {
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return ctx;
}

export function sourceConfig(input: Omit<MqttSourceInput, 'type'> & { type?: 'mqtt' }): MqttSourceConfig {
  return mqttSourceSchema.parse({ type: 'mqtt', ...input });
}

/** Poll until `check` is true (or throw after `timeoutMs`, naming `what`): the tests' one poll-until, with `what` first. */
export const waitFor = (what: string, check: () => boolean, timeoutMs = 5000): Promise<void> => until(check, what, timeoutMs);

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A plain client for publishing test messages and watching topics. */
export async function testClient(url: string, clientId: string): Promise<MqttClient> {
  const client = connect(url, { clientId, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

export function publish(client: MqttClient, topic: string, payload: string | Buffer, qos: 0 | 1 | 2 = 1, retain = false): Promise<void> {
  return new Promise((resolve, reject) => {
    client.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve()));
  });
}

export function endClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}

/** A gate an emit can wait on: `open()` lets waiting emits finish, `fail(err)` makes them reject. */
export function gate(): { wait(): Promise<void>; open(): void; fail(err: Error): void; waiting: number } {
  let waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const g = {
    waiting: 0,
    wait() {
      g.waiting++;
      return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    open() {
      const w = waiters;
      waiters = [];
      g.waiting = 0;
      for (const x of w) x.resolve();
    },
    fail(err: Error) {
      const w = waiters;
      waiters = [];
      g.waiting = 0;
      for (const x of w) x.reject(err);
    },
  };
  return g;
}

/** The payload values (`value.n`) of recorded signals, in order. */
export function numbers(signals: Signal[]): number[] {
  return signals.map((s) => (s.value as { n: number }).n);
}
