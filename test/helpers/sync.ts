import type { SyncWorkerConfig } from '../../agent/sync/worker';

/** A sync worker config for tests: fast backoff and probes, nothing skippable; `over` wins. */
export function testSyncConfig(over: Partial<SyncWorkerConfig> = {}): SyncWorkerConfig {
  return {
    concurrency: 2,
    maxRequestsPerSecond: 1000,
    batchSize: 50,
    claimLimit: 500,
    backoff: { initialMs: 10, maxMs: 50 },
    circuit: { failureThreshold: 10, probeIntervalMs: 20, maxProbeIntervalMs: 40 },
    skippableTypes: [],
    ...over,
  };
}
