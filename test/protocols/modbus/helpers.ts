/** The agent side of a Modbus source in tests: an outbox stand-in and a TCP config to 127.0.0.1. */
import pino from 'pino';
import { OutboxFullError } from '../../../agent/errors';
import { modbusSourceSchema, type ModbusSourceConfig } from '../../../agent/protocols/modbus/config';
import type { Signal } from '../../../agent/model/signal';
import type { AdapterContext } from '../../../agent/protocols/types';

const silent = pino({ level: 'silent' });

/** An outbox stand-in: records what it accepted; `refuse` decides per call whether to reject as full. */
export function outbox(refuse: (call: number) => boolean = () => false) {
  const accepted: Signal[] = [];
  let calls = 0;
  const ctx: AdapterContext = {
    log: silent,
    stateDir: '/nonexistent',
    emit: async (signals) => {
      calls++;
      if (refuse(calls)) throw new OutboxFullError(100);
      accepted.push(...signals);
    },
    reject: async () => undefined,
  };
  return { ctx, accepted, calls: () => calls };
}

/** A source `line-1` over TCP to 127.0.0.1:`port`, validated by the real schema, with short backoff. */
export function tcpConfig(port: number, devices: unknown[], over: Record<string, unknown> = {}): ModbusSourceConfig {
  return modbusSourceSchema.parse({
    name: 'line-1',
    type: 'modbus',
    transport: { kind: 'tcp', host: '127.0.0.1', port },
    backoff: { initialMs: 20, maxMs: 200 },
    devices,
    ...over,
  });
}
