import type { TestContext } from 'node:test';

/** Seeded generator (mulberry32): numbers in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The randomness of a test that picks random moments (a crash test's kill
 * times): seeded from EDGE_TEST_SEED when it is set, else from a new random
 * seed, which is printed at the start so a failing run can be tried again
 * with `EDGE_TEST_SEED=<seed> node test/run-tests.mjs buffer/crash` (part of
 * the test file's path). The same seed gives the same choices; the machine's
 * own timing still varies.
 */
export function testRandom(t: TestContext): () => number {
  return seededRandom(testSeed(t));
}

/** The seed testRandom draws from (EDGE_TEST_SEED, else a new one), printed the same way: for a test that hands its seed on. */
export function testSeed(t: TestContext): number {
  const given = process.env.EDGE_TEST_SEED;
  const seed = given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 2 ** 32);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`EDGE_TEST_SEED must be a whole number >= 0, not "${given}"`);
  const line = `seed ${seed} (replay: EDGE_TEST_SEED=${seed})`;
  // At once, so the seed is on record even if the test hangs and is killed; and with the test's result.
  process.stdout.write(`${t.name}: ${line}\n`);
  t.diagnostic(line);
  return seed;
}
