import type { TestContext } from 'node:test';
import type { Parameters } from 'fast-check';

/** The seed of the property tests: fixed, so CI runs the same cases every time; EDGE_TEST_SEED tries others. */
export const PROPERTY_SEED = 20251207;

/**
 * fast-check's run parameters for one test: the seed (printed, so a failure
 * can be replayed with `EDGE_TEST_SEED=<seed> node test/run-tests.mjs <file>`)
 * and a bounded number of cases, so the suite stays quick.
 */
export function propertyRuns<T>(t: TestContext, numRuns: number): Parameters<T> {
  const given = process.env.EDGE_TEST_SEED;
  const seed = given !== undefined && given !== '' ? Number(given) : PROPERTY_SEED;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`EDGE_TEST_SEED must be a whole number >= 0, not "${given}"`);
  const line = `seed ${seed}, ${numRuns} cases (replay: EDGE_TEST_SEED=${seed})`;
  process.stdout.write(`# ${t.name}: ${line}\n`);
  t.diagnostic(line);
  return { seed, numRuns };
}
