import type { OutboxRecord } from '../../agent/buffer/outbox';
import type { CanonicalEvent } from '../../agent/model/event';
import type { SyncWorkerConfig } from '../../agent/sync/worker';
import { makeEvent } from './events';

/** A sync worker config for tests: fast backoff and probes, nothing skippable; `over` wins. */
export function testSyncConfig(over: Partial<SyncWorkerConfig> = {}): SyncWorkerConfig {
  return {
    concurrency: 2,
    maxRequestsPerSecond: 1000,
    batchSize: 50,
    claimLimit: 500,
    backoff: { initialMs: 10, maxMs: 50 },
    circuit: { failureThreshold: 10, probeIntervalMs: 20, maxProbeIntervalMs: 40, linkProbeIntervalMs: 20 },
    skippableTypes: [],
    ...over,
  };
}

/** A claimed outbox record of a downtime start (or `type`) for the worker's parts. */
export function claimedRecord(seq: number, sequenceKey: string, over: Partial<Pick<OutboxRecord, 'type' | 'attempts'>> = {}): OutboxRecord {
  const event = { ...makeEvent({ sequenceKey }), ...(over.type ? { type: over.type } : {}) } as CanonicalEvent;
  return {
    seq,
    id: event.id,
    type: event.type,
    sequenceKey,
    state: 'inflight',
    event,
    attempts: over.attempts ?? 0,
    nextAttemptAt: null,
    error: null,
    errorCode: null,
    odooIds: null,
    originalPayload: undefined,
    createdAt: 0,
    updatedAt: 0,
  };
}
