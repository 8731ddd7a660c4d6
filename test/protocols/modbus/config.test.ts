import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { modbusSourceSchema } from '../../../agent/protocols/modbus/config';

function source(over: Record<string, unknown> = {}, registers: unknown[] = [{ tag: 'count', area: 'holding', address: 0 }]) {
  return {
    name: 'press-1',
    type: 'modbus',
    transport: { kind: 'tcp', host: '10.0.0.5' },
    devices: [{ unitId: 1, groups: [{ intervalMs: 500, registers }] }],
    ...over,
  };
}

/** The issues of a config that must fail, as `path: message` lines. */
function problems(input: unknown): string[] {
  const r = modbusSourceSchema.safeParse(input);
  assert.equal(r.success, false, 'expected the config to be refused');
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('modbus config', () => {
  it('fills every default', () => {
    const cfg = modbusSourceSchema.parse(source());
    assert.deepEqual(cfg.transport, { kind: 'tcp', host: '10.0.0.5', port: 502 });
    assert.equal(cfg.enabled, true);
    assert.equal(cfg.connectTimeoutMs, 5000);
    assert.deepEqual(cfg.backoff, { initialMs: 500, maxMs: 30000 });
    assert.equal(cfg.maxReadGap, 8);
    assert.equal(cfg.maxRegistersPerRead, 125);
    assert.equal(cfg.maxBitsPerRead, 2000);
    assert.equal(cfg.emitUnchanged, false);
    assert.equal(cfg.devices[0]!.timeoutMs, 1000);
    assert.deepEqual(cfg.devices[0]!.groups[0]!.registers[0], {
      tag: 'count',
      area: 'holding',
      address: 0,
      type: 'uint16',
      wordOrder: 'ABCD',
      scale: 1,
      offset: 0,
    });
  });

  it('RTU defaults: 9600 8N1', () => {
    const cfg = modbusSourceSchema.parse(source({ transport: { kind: 'rtu', path: '/dev/serial/by-id/usb-FTDI-if00-port0' } }));
    assert.deepEqual(cfg.transport, { kind: 'rtu', path: '/dev/serial/by-id/usb-FTDI-if00-port0', baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 });
  });

  it('coils and discrete inputs default to bool', () => {
    const cfg = modbusSourceSchema.parse(
      source({}, [
        { tag: 'run', area: 'coil', address: 3 },
        { tag: 'door', area: 'discrete', address: 3 },
      ]),
    );
    assert.deepEqual(
      cfg.devices[0]!.groups[0]!.registers.map((r) => r.type),
      ['bool', 'bool'],
    );
  });

  it('bits of one status word may share it, and may overlap the whole word', () => {
    const ok = modbusSourceSchema.safeParse(
      source({}, [
        { tag: 'status', area: 'holding', address: 10 },
        { tag: 'running', area: 'holding', address: 10, type: 'bit', bit: 0 },
        { tag: 'fault', area: 'holding', address: 10, type: 'bit', bit: 3 },
      ]),
    );
    assert.equal(ok.success, true);
  });

  const refused: Array<[string, unknown, RegExp]> = [
    ['an unknown key', { ...source(), pollRate: 5 }, /Unrecognized key.*pollRate/i],
    ['an unknown key in a register', source({}, [{ tag: 'a', area: 'holding', address: 0, adress: 1 }]), /adress/],
    ['bit without `bit`', source({}, [{ tag: 'a', area: 'holding', address: 0, type: 'bit' }]), /registers.0.bit: type bit needs `bit`/],
    ['`bit` on a number', source({}, [{ tag: 'a', area: 'holding', address: 0, type: 'uint16', bit: 2 }]), /bit is only for type bit/],
    ['bit 16', source({}, [{ tag: 'a', area: 'holding', address: 0, type: 'bit', bit: 16 }]), /registers.0.bit/],
    ['string without length', source({}, [{ tag: 'a', area: 'holding', address: 0, type: 'string' }]), /type string needs `length`/],
    ['length on a number', source({}, [{ tag: 'a', area: 'holding', address: 0, type: 'int32', length: 2 }]), /length is only for type string/],
    ['a coil read as a number', source({}, [{ tag: 'a', area: 'coil', address: 0, type: 'int16' }]), /a coil is a single bit: use type bool/],
    ['scale on a bool', source({}, [{ tag: 'a', area: 'coil', address: 0, scale: 2 }]), /scale applies to numbers only/],
    ['deadband on a string', source({}, [{ tag: 'a', area: 'input', address: 0, type: 'string', length: 2, deadband: 1 }]), /deadband applies to numbers only/],
    ['a value past 65535', source({}, [{ tag: 'a', area: 'holding', address: 65534, type: 'float64' }]), /would end at 65537/],
    [
      'overlapping values',
      source({}, [
        { tag: 'a', area: 'holding', address: 100, type: 'float32' },
        { tag: 'b', area: 'holding', address: 101 },
      ]),
      /holding 101 \(tag "b"\) overlaps 100..101 \(tag "a"\) on unit 1/,
    ],
    [
      'the same bit twice',
      source({}, [
        { tag: 'a', area: 'input', address: 1, type: 'bit', bit: 2 },
        { tag: 'b', area: 'input', address: 1, type: 'bit', bit: 2 },
      ]),
      /bit 2 of input 1 is already read as tag "a"/,
    ],
    [
      'a tag used twice',
      source({}, [
        { tag: 'a', area: 'holding', address: 0 },
        { tag: 'a', area: 'holding', address: 5 },
      ]),
      /tag "a" is already used by devices\[0\].groups\[0\].registers\[0\]/,
    ],
    [
      'a unit id used twice',
      source({
        devices: [
          { unitId: 1, groups: [{ registers: [{ tag: 'a', area: 'holding', address: 0 }] }] },
          { unitId: 1, groups: [{ registers: [{ tag: 'b', area: 'holding', address: 0 }] }] },
        ],
      }),
      /devices.1.unitId: unit id 1 is already used by devices\[0\]/,
    ],
    [
      'unit 0 on a serial line',
      source({
        transport: { kind: 'rtu', path: '/dev/ttyS0' },
        devices: [{ unitId: 0, groups: [{ registers: [{ tag: 'a', area: 'holding', address: 0 }] }] }],
      }),
      /0 is broadcast/,
    ],
    [
      'a string longer than one read',
      source({ maxRegistersPerRead: 10 }, [{ tag: 'a', area: 'holding', address: 0, type: 'string', length: 20 }]),
      /does not fit in one read/,
    ],
    ['backoff max below initial', source({ backoff: { initialMs: 1000, maxMs: 100 } }), /backoff.maxMs: must be at least backoff.initialMs/],
    ['an unknown transport', source({ transport: { kind: 'udp', host: 'x' } }), /transport/],
    ['a device without groups', source({ devices: [{ unitId: 1, groups: [] }] }), /groups/],
  ];
  for (const [name, input, expected] of refused) {
    it(`refuses ${name}`, () => {
      const lines = problems(input);
      assert.ok(
        lines.some((l) => expected.test(l)),
        `no problem matched ${expected}:\n${lines.join('\n')}`,
      );
    });
  }

  it('the Modbus sources of config.example.yaml parse', () => {
    const file = join(process.cwd(), 'config.example.yaml');
    assert.ok(existsSync(file), `${file} exists`);
    const all = parse(readFileSync(file, 'utf8')) as { sources: Array<{ type: string }> };
    const doc = { sources: all.sources.filter((s) => s.type === 'modbus') };
    assert.ok(doc.sources.length > 0);
    for (const s of doc.sources) {
      const r = modbusSourceSchema.safeParse(s);
      assert.equal(r.success, true, r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
    }
  });
});
