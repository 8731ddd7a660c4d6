import { z } from 'zod';
import { sourceBase } from '../base';
import { REGISTER_TYPES, WORD_ORDERS, registerCount, type RegisterType } from './decode';

/** Where a value lives in the device: the four Modbus data tables. */
export const AREAS = ['holding', 'input', 'coil', 'discrete'] as const;
export type Area = (typeof AREAS)[number];

/** Coils and discrete inputs are single bits; holding and input registers are 16-bit words. */
export function isBitArea(area: Area): boolean {
  return area === 'coil' || area === 'discrete';
}

const registerInput = z.strictObject({
  /** Name of the signal this value produces; unique within the source. */
  tag: z.string().min(1).max(128),
  /** holding (function 3), input (function 4), coil (function 1) or discrete (function 2). */
  area: z.enum(AREAS),
  /** Zero-based address as sent on the wire (holding register "40001" is address 0). */
  address: z.number().int().min(0).max(65535),
  /** How to read the value. Default: bool for coils and discrete inputs, uint16 for registers. */
  type: z.enum(REGISTER_TYPES).optional(),
  /** For type bit: which bit of the 16-bit register, 0 = least significant. */
  bit: z.number().int().min(0).max(15).optional(),
  /** For type string: how many registers (two characters each). */
  length: z.number().int().min(1).max(125).optional(),
  /** Order of the words and bytes of the value on the wire; see docs/adapters/modbus.md. */
  wordOrder: z.enum(WORD_ORDERS).default('ABCD'),
  /** Numbers only: value = raw * scale + offset. */
  scale: z.number().finite().default(1),
  /** Numbers only: added after scaling. */
  offset: z.number().finite().default(0),
  /** Numbers only: a new signal only when the value moved by more than this since the last one sent. Unset: any change. */
  deadband: z.number().finite().min(0).optional(),
});

/** One value to read. `type` is always filled in after validation. */
export const registerSchema = registerInput.transform((r) => ({
  ...r,
  type: (r.type ?? (isBitArea(r.area) ? 'bool' : 'uint16')) as RegisterType,
}));
export type RegisterConfig = z.output<typeof registerSchema>;

export const groupSchema = z.strictObject({
  /** Shown in logs and health; default `group<N>`. */
  name: z.string().min(1).max(64).optional(),
  /** Poll these registers this often (milliseconds). */
  intervalMs: z.number().int().min(10).max(86_400_000).default(1000),
  registers: z.array(registerSchema).min(1),
});
export type GroupConfig = z.output<typeof groupSchema>;

export const deviceSchema = z.strictObject({
  /** Modbus unit id (slave address). TCP: 0-255 (gateways route by it); RTU: 1-247. */
  unitId: z.number().int().min(0).max(255),
  /** Shown in logs and health; default `unit<N>`. */
  name: z.string().min(1).max(64).optional(),
  /** How long to wait for this device's answer to one request before calling it a timeout. */
  timeoutMs: z.number().int().min(10).max(60_000).default(1000),
  groups: z.array(groupSchema).min(1),
});
export type DeviceConfig = z.output<typeof deviceSchema>;

export const tcpTransportSchema = z.strictObject({
  kind: z.literal('tcp'),
  /** Device or gateway address (IP or host name). */
  host: z.string().min(1),
  /** Modbus TCP port. */
  port: z.number().int().min(1).max(65535).default(502),
});

export const rtuTransportSchema = z.strictObject({
  kind: z.literal('rtu'),
  /** Serial device. Prefer the stable /dev/serial/by-id/... name over /dev/ttyUSB0, which can change at reboot. */
  path: z.string().min(1),
  baudRate: z.number().int().min(300).max(4_000_000).default(9600),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  dataBits: z.literal([7, 8]).default(8),
  stopBits: z.literal([1, 2]).default(1),
});

export const transportSchema = z.discriminatedUnion('kind', [tcpTransportSchema, rtuTransportSchema]);

const backoffSchema = z.strictObject({
  /** First wait after a failure (reconnect, unresponsive device, full outbox); doubles per failure. */
  initialMs: z.number().int().min(10).default(500),
  /** Waits never grow beyond this. */
  maxMs: z.number().int().min(10).default(30_000),
});

/** The strict config schema of a `type: modbus` source. */
export const modbusSourceSchema = z
  .strictObject({
    ...sourceBase,
    type: z.literal('modbus'),
    /** How the agent reaches the devices: Modbus TCP or RTU on a serial line. */
    transport: transportSchema,
    /** Devices (unit ids) on this connection; each has its own timeout and poll groups. */
    devices: z.array(deviceSchema).min(1),
    /** Give up a connection attempt after this long. */
    connectTimeoutMs: z.number().int().min(100).max(120_000).default(5000),
    /** Waits after a lost connection, an unresponsive device or a full outbox: capped exponential. */
    backoff: backoffSchema.prefault({}),
    /** Unused registers one read may include to join two nearby values into one request. */
    maxReadGap: z.number().int().min(0).max(124).default(8),
    /** Registers per read request at most (the protocol allows 125). */
    maxRegistersPerRead: z.number().int().min(1).max(125).default(125),
    /** Coils or discrete inputs per read request at most (the protocol allows 2000). */
    maxBitsPerRead: z.number().int().min(1).max(2000).default(2000),
    /** true: a signal after every read; false: only when the value (or its quality) changed. */
    emitUnchanged: z.boolean().default(false),
  })
  .superRefine(checkModbusSource);

export type ModbusSourceConfig = z.output<typeof modbusSourceSchema>;
export type ModbusSourceInput = z.input<typeof modbusSourceSchema>;

interface CheckedSource {
  transport: { kind: 'tcp' } | { kind: 'rtu' };
  devices: DeviceConfig[];
  backoff: { initialMs: number; maxMs: number };
  maxRegistersPerRead: number;
}

/** Checks that need more than one field. Every message says what to change. */
function checkModbusSource(cfg: CheckedSource, ctx: z.RefinementCtx): void {
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });

  if (cfg.backoff.maxMs < cfg.backoff.initialMs) {
    issue(['backoff', 'maxMs'], `must be at least backoff.initialMs (${cfg.backoff.initialMs})`);
  }

  const units = new Map<number, number>();
  const tags = new Map<string, string>();
  cfg.devices.forEach((device, d) => {
    const at = ['devices', d];
    if (cfg.transport.kind === 'rtu' && (device.unitId < 1 || device.unitId > 247)) {
      issue([...at, 'unitId'], 'on a serial line (RTU) a unit id is 1-247 (0 is broadcast: no device answers it)');
    }
    const firstUnit = units.get(device.unitId);
    if (firstUnit !== undefined) issue([...at, 'unitId'], `unit id ${device.unitId} is already used by devices[${firstUnit}]`);
    else units.set(device.unitId, d);

    // Per area: whole values (may not overlap each other) and single bits of registers.
    const spans = new Map<string, Array<{ start: number; end: number; tag: string; path: PropertyKey[] }>>();
    const bits = new Map<string, string>();

    device.groups.forEach((group, g) => {
      group.registers.forEach((r, k) => {
        const rp = [...at, 'groups', g, 'registers', k];
        const where = tags.get(r.tag);
        if (where) issue([...rp, 'tag'], `tag "${r.tag}" is already used by ${where}`);
        else tags.set(r.tag, dotted(rp));

        if (!checkRegister(r, rp, cfg.maxRegistersPerRead, issue)) return;

        const size = registerCount(r.type, r.length);
        const end = r.address + size - 1;
        if (end > 65535) {
          issue([...rp, 'address'], `${r.type} at ${r.address} needs ${size} registers and would end at ${end}, past the last address 65535`);
          return;
        }
        if (r.type === 'bit') {
          const key = `${r.area}:${r.address}:${r.bit}`;
          const first = bits.get(key);
          if (first) issue([...rp, 'bit'], `bit ${r.bit} of ${r.area} ${r.address} is already read as tag "${first}"`);
          else bits.set(key, r.tag);
          return;
        }
        const list = spans.get(r.area) ?? [];
        list.push({ start: r.address, end, tag: r.tag, path: rp });
        spans.set(r.area, list);
      });
    });

    for (const [area, list] of spans) {
      list.sort((a, b) => a.start - b.start || a.end - b.end);
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1]!;
        const cur = list[i]!;
        if (cur.start <= prev.end) {
          issue(
            [...cur.path, 'address'],
            `${area} ${range(cur.start, cur.end)} (tag "${cur.tag}") overlaps ${range(prev.start, prev.end)} (tag "${prev.tag}") on unit ${device.unitId}; ` +
              'check the addresses and the register count of each type (32-bit types use 2 registers, 64-bit 4)',
          );
        }
      }
    }
  });
}

function checkRegister(r: RegisterConfig, rp: PropertyKey[], maxRegistersPerRead: number, issue: (path: PropertyKey[], message: string) => void): boolean {
  let ok = true;
  const fail = (key: string, message: string) => {
    issue([...rp, key], message);
    ok = false;
  };
  if (isBitArea(r.area)) {
    if (r.type !== 'bool') fail('type', `a ${r.area} is a single bit: use type bool (or leave type out)`);
    if (r.bit !== undefined) fail('bit', `bit is for a bit inside a holding or input register, not for a ${r.area}`);
    if (r.length !== undefined) fail('length', `length is for type string, not for a ${r.area}`);
  } else {
    if (r.type === 'bit' && r.bit === undefined) fail('bit', 'type bit needs `bit` (0-15): which bit of the register');
    if (r.type !== 'bit' && r.bit !== undefined) fail('bit', `bit is only for type bit (this value is ${r.type})`);
    if (r.type === 'string' && r.length === undefined) fail('length', 'type string needs `length`: how many registers (two characters each)');
    if (r.type !== 'string' && r.length !== undefined) fail('length', `length is only for type string (this value is ${r.type})`);
    if (r.type === 'string' && r.length !== undefined && r.length > maxRegistersPerRead) {
      fail('length', `a string of ${r.length} registers does not fit in one read of maxRegistersPerRead (${maxRegistersPerRead})`);
    }
  }
  const numeric = r.type !== 'bool' && r.type !== 'bit' && r.type !== 'string';
  if (!numeric) {
    if (r.scale !== 1) fail('scale', `scale applies to numbers only, not to type ${r.type}`);
    if (r.offset !== 0) fail('offset', `offset applies to numbers only, not to type ${r.type}`);
    if (r.deadband !== undefined) fail('deadband', `deadband applies to numbers only, not to type ${r.type}`);
  }
  return ok;
}

function dotted(path: PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

function range(start: number, end: number): string {
  return start === end ? `${start}` : `${start}..${end}`;
}
