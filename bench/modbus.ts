/**
 * Modbus bench: reads per second of the adapter's poll loop against a local
 * modbus-serial ServerTCP, next to a bare modbus-serial client doing the same
 * reads back to back in the same run; and the memory an adapter keeps after
 * 100 forced reconnects.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import ModbusRTU from 'modbus-serial';
import pino from 'pino';
import { ModbusAdapter } from '../agent/protocols/modbus/adapter';
import { modbusSourceSchema } from '../agent/protocols/modbus/config';
import type { AdapterContext } from '../agent/protocols/types';
import { ModbusPeer, waitFor } from '../test/protocols/modbus/modbus-peer';
import { figure, type Figure } from './figure';

const UNIT = 1;
const GROUPS = 20;
const VALUES_PER_GROUP = 5;
/** Far enough apart that no two values share a request: every value is one read. */
const SPACING = 20;
const MEASURE_MS = 3000;
const RECONNECTS = 100;

function forceGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** RSS and JS heap in use (MB) after a full garbage collection. */
function memoryMb(gc: () => void): { rss: number; heap: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss / (1024 * 1024), heap: m.heapUsed / (1024 * 1024) };
}

const addresses = Array.from({ length: GROUPS * VALUES_PER_GROUP }, (_, i) => i * SPACING);

function context(): AdapterContext & { signals: number } {
  const ctx = {
    signals: 0,
    log: pino({ level: 'silent' }),
    stateDir: '/nonexistent',
    emit: async (s: unknown[]) => {
      ctx.signals += s.length;
    },
    reject: async () => undefined,
  };
  return ctx;
}

function adapterConfig(port: number, intervalMs: number, backoff = { initialMs: 500, maxMs: 30_000 }) {
  return modbusSourceSchema.parse({
    name: 'bench',
    type: 'modbus',
    transport: { kind: 'tcp', host: '127.0.0.1', port },
    emitUnchanged: true, // every read becomes a signal: the adapter's full cost per read
    backoff,
    devices: [
      {
        unitId: UNIT,
        timeoutMs: 1000,
        groups: Array.from({ length: GROUPS }, (_, g) => ({
          intervalMs,
          registers: addresses.slice(g * VALUES_PER_GROUP, (g + 1) * VALUES_PER_GROUP).map((address) => ({ tag: `r${address}`, area: 'holding', address })),
        })),
      },
    ],
  });
}

const reads = (a: ModbusAdapter) => (a.health().details as { reads: number }).reads;
const reconnects = (a: ModbusAdapter) => (a.health().details as { reconnects: number }).reconnects;

/** Reads per second of a bare client: the same single-register reads, one after the other. */
async function bareClientReadsPerSecond(port: number): Promise<number> {
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(UNIT);
  client.setTimeout(1000);
  try {
    const until = Date.now() + 300; // warm-up
    for (let i = 0; Date.now() < until; i++) await client.readHoldingRegisters(addresses[i % addresses.length]!, 1);
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < MEASURE_MS) {
      await client.readHoldingRegisters(addresses[n % addresses.length]!, 1);
      n++;
    }
    return n / ((performance.now() - start) / 1000);
  } finally {
    await new Promise<void>((resolve) => client.close(() => resolve()));
  }
}

/** Reads per second of the adapter with more demand than the line can serve (so it polls back to back). */
async function adapterReadsPerSecond(port: number): Promise<{ rate: number; signals: number }> {
  const ctx = context();
  const adapter = new ModbusAdapter(adapterConfig(port, 10), ctx);
  await adapter.start();
  try {
    await waitFor(() => reads(adapter) > 200, 5000, 'the adapter to warm up');
    const r0 = reads(adapter);
    const s0 = ctx.signals;
    const start = performance.now();
    await new Promise((r) => setTimeout(r, MEASURE_MS));
    const seconds = (performance.now() - start) / 1000;
    return { rate: (reads(adapter) - r0) / seconds, signals: (ctx.signals - s0) / seconds };
  } finally {
    await adapter.stop();
  }
}

/** RSS growth (MB) of a running adapter across RECONNECTS dropped connections. */
async function adapterReconnectGrowth(peer: ModbusPeer, gc: () => void): Promise<{ growth: number; heapGrowth: number; timers: number }> {
  const adapter = new ModbusAdapter(adapterConfig(peer.port, 20, { initialMs: 10, maxMs: 50 }), context());
  await adapter.start();
  const cycle = async () => {
    await waitFor(() => peer.connectionCount() === 1, 5000, 'the adapter to connect');
    const before = reconnects(adapter);
    const r0 = reads(adapter);
    peer.dropConnections();
    await waitFor(() => reconnects(adapter) > before && reads(adapter) > r0, 5000, 'a reconnect and a read');
  };
  try {
    for (let i = 0; i < 10; i++) await cycle(); // warm-up
    const timersBefore = countTimers();
    const before = memoryMb(gc);
    for (let i = 0; i < RECONNECTS; i++) await cycle();
    const after = memoryMb(gc);
    return { growth: after.rss - before.rss, heapGrowth: after.heap - before.heap, timers: countTimers() - timersBefore };
  } finally {
    await adapter.stop();
  }
}

/** The same number of connect/close cycles with a bare client, for scale. */
async function bareReconnectGrowth(port: number, gc: () => void): Promise<number> {
  const cycle = async () => {
    const client = new ModbusRTU();
    await client.connectTCP('127.0.0.1', { port });
    client.setID(UNIT);
    client.setTimeout(1000);
    await client.readHoldingRegisters(0, 1);
    await new Promise<void>((resolve) => client.close(() => resolve()));
  };
  for (let i = 0; i < 10; i++) await cycle();
  const before = memoryMb(gc).rss;
  for (let i = 0; i < RECONNECTS; i++) await cycle();
  return memoryMb(gc).rss - before;
}

function countTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

export async function run(): Promise<Figure[]> {
  const gc = forceGc();
  const peer = new ModbusPeer();
  for (const a of addresses) peer.set(UNIT, 'holding', a, a & 0xffff);
  await peer.start();
  try {
    const baseline = await bareClientReadsPerSecond(peer.port);
    const adapter = await adapterReadsPerSecond(peer.port);
    const bareGrowth = await bareReconnectGrowth(peer.port, gc);
    const growth = await adapterReconnectGrowth(peer, gc);
    return [
      figure(
        'modbus_reads_per_second',
        'reads/s',
        adapter.rate,
        baseline,
        '>= 0.8 x bare client',
        `single-register reads of ${addresses.length} values in ${GROUPS} groups over TCP to a local ServerTCP; every read decoded and emitted (${Math.round(adapter.signals)} signals/s); baseline: bare modbus-serial client, same reads back to back`,
      ),
      figure(
        'modbus_rss_growth_mb',
        'MB',
        growth.growth,
        bareGrowth,
        '< 5',
        `RSS after minus before ${RECONNECTS} dropped connections (after GC), adapter polling throughout; JS heap growth ${growth.heapGrowth.toFixed(2)} MB; timers left over: ${growth.timers}; baseline: ${RECONNECTS} connect/read/close cycles of a bare client`,
      ),
    ];
  } finally {
    await peer.stop();
  }
}
