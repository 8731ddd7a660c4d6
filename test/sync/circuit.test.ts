import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Circuit, type ProbeFailure } from '../../agent/sync/circuit';

const opts = { failureThreshold: 5, probeIntervalMs: 5000, maxProbeIntervalMs: 60_000, linkProbeIntervalMs: 1000 };

/** The waits between probes while every probe fails the same way. */
function probeWaits(failure: ProbeFailure, probes: number): number[] {
  const c = new Circuit(opts);
  let now = 0;
  if (failure === 'auth') c.authFailure(now, 'AccessDenied');
  else if (failure === 'no-answer') c.unreachable(now, 'connect ECONNREFUSED');
  else for (let i = 0; i < 5; i++) c.transientFailure(now, 'HTTP 503');
  const waits = [c.nextProbeAt - now];
  for (let i = 1; i < probes; i++) {
    now = c.nextProbeAt;
    c.probeFailed(now, 'still', failure);
    waits.push(c.nextProbeAt - now);
  }
  return waits;
}

describe('circuit (agent/sync/circuit.ts)', () => {
  it('opened only after 5 failures when the WAN was cut: no answer opens it at the first', () => {
    const c = new Circuit(opts);
    assert.equal(c.unreachable(1000, 'read ECONNRESET'), true);
    assert.deepEqual([c.state, c.openedAt, c.nextProbeAt], ['open', 1000, 2000]);
    assert.equal(c.unreachable(1010, 'read ECONNRESET'), false, 'the others out at the cut add nothing');
    assert.equal(c.openedAt, 1000);
  });

  it('probes grew from 5 to 60 s through a WAN cut: without an answer they stay at one a second', () => {
    assert.deepEqual(probeWaits('no-answer', 8), [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000]);
  });

  it('answers that fail open it after the threshold and probe at a growing, capped cadence; so does a refused key', () => {
    const c = new Circuit(opts);
    for (let i = 0; i < 4; i++) assert.equal(c.transientFailure(0, 'HTTP 503'), false);
    assert.equal(c.transientFailure(0, 'HTTP 503'), true);
    assert.deepEqual(probeWaits('answered', 7), [5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
    assert.deepEqual(probeWaits('auth', 4), [5000, 10_000, 20_000, 40_000]);
  });

  it('follows the latest failure: no answer after 5xx watches closely, and growth starts over', () => {
    const c = new Circuit(opts);
    for (let i = 0; i < 5; i++) c.transientFailure(0, 'HTTP 503');
    c.probeFailed(5000, 'HTTP 503', 'answered');
    assert.equal(c.nextProbeAt, 15_000);
    c.probeFailed(15_000, 'connect ECONNREFUSED', 'no-answer');
    assert.equal(c.nextProbeAt, 16_000);
    c.probeFailed(16_000, 'HTTP 503', 'answered');
    assert.equal(c.nextProbeAt, 26_000);
  });

  it('a request that comes back done closes it; a refused key holds it until a probe with the key succeeds', () => {
    const c = new Circuit(opts);
    c.unreachable(0, 'read ECONNRESET');
    assert.equal(c.success(), true);
    assert.deepEqual([c.state, c.openedAt], ['closed', null]);
    c.authFailure(0, 'AccessDenied');
    assert.equal(c.success(), false);
    assert.equal(c.state, 'auth-failed');
    assert.equal(c.unreachable(10, 'read ECONNRESET'), false, 'the key stays the thing to fix');
    assert.equal(c.state, 'auth-failed');
    c.probeSucceeded();
    assert.equal(c.state, 'closed');
  });
});
