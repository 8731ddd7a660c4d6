import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Wait until `cond` holds, checking every `everyMs`; fail after `timeoutMs`
 * naming what was awaited. The one poll-until of the tests: prefer it to a
 * fixed sleep.
 */
export async function until(cond: () => boolean, what = 'the condition', timeoutMs = 20_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(everyMs);
  }
}
