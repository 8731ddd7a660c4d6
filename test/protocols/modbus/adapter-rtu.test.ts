import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ServerSerial } from 'modbus-serial';
import pino from 'pino';
import { ModbusAdapter } from '../../../agent/protocols/modbus/adapter';
import { modbusSourceSchema } from '../../../agent/protocols/modbus/config';
import type { Signal } from '../../../agent/model/signal';
import { FLOAT_EXAMPLE } from './fixtures';
import { waitFor } from './modbus-peer';

const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

/** Two linked pseudo-terminals: what one end writes, the other reads, like a serial cable. */
async function ptyPair(dir: string): Promise<{ a: string; b: string; socat: ChildProcess }> {
  const a = join(dir, 'gateway');
  const b = join(dir, 'device');
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  await waitFor(() => existsSync(a) && existsSync(b), 5000, 'socat to create the pty pair');
  return { a, b, socat };
}

describe('modbus adapter over RTU (socat pty pair, modbus-serial ServerSerial on the far end)', () => {
  it('reads two units on one serial line while a third never answers', async (t) => {
    if (!hasSocat) {
      t.skip('socat not installed');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'modbus-rtu-'));
    const { a, b, socat } = await ptyPair(dir);
    const words = new Map<string, number>([
      ['1:0', FLOAT_EXAMPLE.CDAB[0]!],
      ['1:1', FLOAT_EXAMPLE.CDAB[1]!],
      ['1:2', 42],
      ['2:10', 0x0005],
    ]);
    const asked = new Map<number, number>();
    type Cb<T> = (err: Error | null, v: T) => void;
    const answer = (addr: number, unit: number, cb: Cb<number>) => {
      asked.set(unit, (asked.get(unit) ?? 0) + 1);
      if (unit === 9) return; // the dead device on the line
      const v = words.get(`${unit}:${addr}`);
      if (v === undefined) cb(Object.assign(new Error('no such address'), { modbusErrorCode: 2 }), 0);
      else cb(null, v);
    };
    const server = new ServerSerial(
      { getHoldingRegister: answer, getCoil: (_addr: number, _unit: number, cb: Cb<boolean>) => cb(null, true) },
      // The typings want serialport's full open options; path, baudRate and unitID are what the server uses.
      { path: b, baudRate: 19200, unitID: 255 } as unknown as ConstructorParameters<typeof ServerSerial>[1],
    );
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve());
      server.once('error', reject);
    });

    const accepted: Signal[] = [];
    const adapter = new ModbusAdapter(
      modbusSourceSchema.parse({
        name: 'rtu-line',
        type: 'modbus',
        transport: { kind: 'rtu', path: a, baudRate: 19200 },
        backoff: { initialMs: 200, maxMs: 2000 },
        devices: [
          {
            unitId: 1,
            timeoutMs: 500,
            groups: [
              {
                intervalMs: 50,
                registers: [
                  { tag: 'weight', area: 'holding', address: 0, type: 'float32', wordOrder: 'CDAB' },
                  { tag: 'pieces', area: 'holding', address: 2 },
                ],
              },
            ],
          },
          {
            unitId: 2,
            timeoutMs: 500,
            groups: [
              {
                intervalMs: 50,
                registers: [
                  { tag: 'running', area: 'holding', address: 10, type: 'bit', bit: 0 },
                  { tag: 'fault', area: 'holding', address: 10, type: 'bit', bit: 1 },
                  { tag: 'lamp', area: 'coil', address: 4 },
                ],
              },
            ],
          },
          { unitId: 9, timeoutMs: 200, groups: [{ intervalMs: 50, registers: [{ tag: 'ghost', area: 'holding', address: 0 }] }] },
        ],
      }),
      { log: pino({ level: 'silent' }), stateDir: dir, emit: async (s) => void accepted.push(...s), reject: async () => undefined },
    );
    const value = (tag: string) => [...accepted].reverse().find((s) => s.tag === tag);
    try {
      await adapter.start();
      await waitFor(() => ['weight', 'pieces', 'running', 'fault', 'lamp', 'ghost'].every((tag) => value(tag)), 8000, 'all tags');
      assert.equal(value('weight')!.value, 123.456);
      assert.equal(value('pieces')!.value, 42);
      assert.equal(value('running')!.value, true);
      assert.equal(value('fault')!.value, false);
      assert.equal(value('lamp')!.value, true);
      assert.deepEqual([value('ghost')!.quality, value('ghost')!.meta?.error], ['bad', 'timeout']);
      const devices = (adapter.health().details as { devices: Array<{ unitId: number; status: string; reads: number }> }).devices;
      assert.deepEqual(
        devices.map((d) => [d.unitId, d.status]),
        [
          [1, 'ok'],
          [2, 'ok'],
          [9, 'timeout'],
        ],
      );
      assert.equal(adapter.health().connected, true);
      const before = asked.get(1) ?? 0;
      await waitFor(() => (asked.get(1) ?? 0) >= before + 3, 5000, 'unit 1 polled on while unit 9 is dead');
      await adapter.stop();
      // Two bits of one register share a request: unit 2 needs one register request and one coil request per poll.
      const unit2 = (adapter.health().details as { devices: Array<{ unitId: number; reads: number }> }).devices[1]!;
      const registerRequests = asked.get(2) ?? 0;
      assert.ok(Math.abs(registerRequests - unit2.reads / 2) <= 1, `${registerRequests} register requests, ${unit2.reads} reads`);
    } finally {
      await adapter.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      socat.kill();
      await new Promise((r) => socat.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
