import { seededRandom } from '../helpers/seed';

/**
 * What the soak does to the agent, drawn from a seed before anything runs:
 * the same seed and kill count give the same plan. One round is one life of
 * the agent process, ended by SIGKILL; a WAN cut, an Odoo fault storm or a
 * full disk may start during a round and last past its kill.
 */

export type StormFault =
  | { kind: 'status'; status: number; forMs: number; retryAfter?: number }
  | { kind: 'serialization' | 'loadConflict'; calls: number }
  | { kind: 'dropAfterCommit'; calls: number; method: 'load' }
  | { kind: 'latency'; ms: number; forMs: number }
  | { kind: 'refuse'; forMs: number };

export interface Round {
  /** How long this agent process lives before its SIGKILL, ms from its start. */
  lifeMs: number;
  /** Pause before the next start, ms. */
  pauseMs: number;
  cut?: { atMs: number; forMs: number };
  storm?: { atMs: number; faults: StormFault[] };
  fill?: { atMs: number; forMs: number };
}

export interface PlanOptions {
  kills: number;
  seed: number;
  /** Shortest and longest life of the agent between two kills, ms. */
  lifeMs: [number, number];
  /** Chance per round of a WAN cut, a fault storm, a full disk. */
  chances: { cut: number; storm: number; fill: number };
}

function storm(r: () => number): StormFault[] {
  const pick = (): StormFault => {
    const forMs = 500 + Math.floor(r() * 3000);
    switch (Math.floor(r() * 7)) {
      case 0:
        return { kind: 'status', status: 503, forMs };
      case 1:
        return { kind: 'status', status: 429, forMs, retryAfter: 1 };
      case 2:
        return { kind: 'status', status: 502, forMs };
      case 3:
        return { kind: 'serialization', calls: 1 + Math.floor(r() * 8) };
      case 4:
        return { kind: 'loadConflict', calls: 1 + Math.floor(r() * 8) };
      case 5:
        return { kind: 'dropAfterCommit', calls: 1 + Math.floor(r() * 4), method: 'load' };
      default:
        return r() < 0.5 ? { kind: 'latency', ms: 100 + Math.floor(r() * 700), forMs } : { kind: 'refuse', forMs };
    }
  };
  return Array.from({ length: 1 + Math.floor(r() * 3) }, pick);
}

export function soakPlan(o: PlanOptions): Round[] {
  const r = seededRandom(o.seed);
  const [lo, hi] = o.lifeMs;
  const rounds: Round[] = [];
  for (let i = 0; i < o.kills; i++) {
    const lifeMs = lo + Math.floor(r() * (hi - lo));
    const round: Round = { lifeMs, pauseMs: Math.floor(r() * 300) };
    // A short run still does each once: a cut in the first round, a storm in the second, a full disk in the third.
    const forced = o.kills < 20 ? i : -1;
    if (forced === 0 || r() < o.chances.cut) round.cut = { atMs: Math.floor(r() * lifeMs), forMs: 500 + Math.floor(r() * 5000) };
    if (forced === 1 || r() < o.chances.storm) round.storm = { atMs: Math.floor(r() * lifeMs), faults: storm(r) };
    if (forced === 2 || r() < o.chances.fill) round.fill = { atMs: Math.floor(r() * lifeMs), forMs: 1000 + Math.floor(r() * 4000) };
    rounds.push(round);
  }
  return rounds;
}
