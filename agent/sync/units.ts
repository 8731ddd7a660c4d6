import type { OutboxRecord, RunPolicy, Settlement } from '../buffer/outbox';
import type { EventType } from '../model/event';
import type { Operation, OperationRegistry } from './operations/types';

/** A unit of work: one request to Odoo for one event, or one batch of one type (runs of keys, each in order). */
export interface Unit {
  op: Operation;
  records: OutboxRecord[];
}

export interface UnitOptions {
  operations: OperationRegistry;
  batchSize: number;
  /** Free request slots: a type's events are spread over them. */
  free: number;
  /** Types whose parked event does not block its key. */
  skippable: ReadonlySet<string>;
  /** Why an event must wait for a person before it is sent (its park reason and code), or undefined. */
  hold?: (record: OutboxRecord) => { reason: string; code: string } | undefined;
}

/** Types whose operation sends a key's consecutive events in one ordered call; undefined when nothing batches. */
export function runPolicy(operations: OperationRegistry, batchSize: number): RunPolicy | undefined {
  const batched = [...operations.values()].filter((op) => op.executeBatch).map((op) => op.type as string);
  return batchSize > 1 && batched.length ? { types: new Set(batched), max: batchSize } : undefined;
}

/**
 * Group claimed records into units, oldest first: batches of one type where
 * the operation batches. A type's events are spread over the free request
 * slots, so that as one batch comes back its keys' next events can go while
 * the others are out. An event of a type with no operation, or one `hold`
 * holds, parks (`parked`).
 */
export function buildUnits(records: OutboxRecord[], opts: UnitOptions): { units: Unit[]; parked: Settlement[] } {
  const byType = new Map<EventType, OutboxRecord[]>();
  const units: Unit[] = [];
  const parked: Settlement[] = [];
  for (const r of records) {
    const op = opts.operations.get(r.type);
    if (!op) {
      parked.push({
        seq: r.seq,
        outcome: 'park',
        reason: `no operation for event type ${r.type} (check sync.mappings)`,
        code: 'NO_OPERATION',
        blocking: !opts.skippable.has(r.type),
      });
      continue;
    }
    const held = opts.hold?.(r);
    if (held) {
      parked.push({ seq: r.seq, outcome: 'park', ...held, blocking: !opts.skippable.has(r.type) });
      continue;
    }
    if (op.executeBatch && opts.batchSize > 1) {
      const list = byType.get(r.type) ?? [];
      list.push(r);
      byType.set(r.type, list);
    } else units.push({ op, records: [r] });
  }
  for (const [type, list] of byType) {
    const op = opts.operations.get(type)!;
    const size = Math.min(opts.batchSize, Math.ceil(list.length / opts.free));
    // A key's run stays whole in one unit: two units of one key could be in flight at once.
    let chunk: OutboxRecord[] = [];
    for (const run of runsOf(list)) {
      if (chunk.length > 0 && chunk.length + run.length > size) {
        units.push({ op, records: chunk });
        chunk = [];
      }
      chunk.push(...run);
    }
    if (chunk.length > 0) units.push({ op, records: chunk });
  }
  // Oldest first across keys.
  units.sort((a, b) => a.records[0]!.seq - b.records[0]!.seq);
  return { units, parked };
}

/** A claim's records cut into runs: consecutive records of one key (claims list a head's followers right after it). */
export function runsOf(records: OutboxRecord[]): OutboxRecord[][] {
  const out: OutboxRecord[][] = [];
  for (const r of records) {
    const last = out[out.length - 1];
    if (last && last[0]!.sequenceKey === r.sequenceKey) last.push(r);
    else out.push([r]);
  }
  return out;
}
