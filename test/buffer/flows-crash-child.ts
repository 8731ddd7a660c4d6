/**
 * Child process for the flows crash test: several writers enqueue
 * consumption (held by a roll-up flow) and now and then an order completion
 * (not held: it releases its order's held consumption first), while a timer
 * flushes the flow every few milliseconds. Prints `ok <id> <key> <type>
 * <quantity>` once each enqueue resolved. The parent SIGKILLs it at a random
 * moment, often in the middle of a flush.
 */
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { CanonicalEvent } from '../../agent/model/event';
import { CRASH_FLOW } from './flows-crash-flow';

const path = process.argv[2]!;
const round = process.argv[3] ?? '0';
const outbox = new SqliteOutbox({ path, synchronous: 'FULL', flows: [CRASH_FLOW] });
let counter = 0;

function event(w: number, i: number): CanonicalEvent {
  const key = `MO-${(w + i) % 4}`;
  const id = `r${round}-w${w}-${i}`;
  const t = new Date(Date.UTC(2026, 10, 26) + counter * 1000).toISOString();
  if (i % 17 === 16) return { id, type: 'production.completed', sequenceKey: key, occurredAt: t, receivedAt: t, source: 'crash', payload: { production: key } };
  return {
    id,
    type: 'material.consumed',
    sequenceKey: key,
    occurredAt: t,
    receivedAt: t,
    source: 'crash',
    payload: { production: key, product: `P-${i % 2}`, quantity: 1 + (i % 5) },
  };
}

async function writer(w: number): Promise<void> {
  for (let i = 0; ;) {
    const batch = Array.from({ length: 1 + ((i + w) % 4) }, () => {
      counter++;
      return event(w, i++);
    });
    await outbox.enqueue(batch);
    process.stdout.write(batch.map((e) => `ok ${e.id} ${e.sequenceKey} ${e.type} ${e.type === 'material.consumed' ? e.payload.quantity : 0}\n`).join(''));
  }
}

setInterval(() => outbox.flushFlow(CRASH_FLOW.name), 5);
for (let w = 0; w < 4; w++) void writer(w);
