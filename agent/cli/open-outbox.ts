import { SqliteOutbox } from '../buffer/sqlite-outbox';
import { eventTimeOptions } from '../config/clocks';
import type { AgentConfig } from '../config/schema';

/**
 * Open the configured outbox as an operator (never as its owner: a running
 * agent's claims stay its own), run `fn`, close it.
 */
export async function withOutbox<T>(config: AgentConfig, fn: (o: SqliteOutbox) => Promise<T> | T): Promise<T> {
  const outbox = new SqliteOutbox({
    path: config.outbox.path,
    role: 'operator',
    synchronous: config.outbox.synchronous,
    maxEvents: config.outbox.maxEvents,
    flows: config.schedules.flows,
    eventTime: eventTimeOptions(config),
  });
  try {
    return await fn(outbox);
  } finally {
    await outbox.close();
  }
}
