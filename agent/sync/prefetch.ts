import type { Outbox, OutboxRecord, Settlement } from '../buffer/outbox';
import type { Logger } from '../log';
import type { Result } from './outcome';
import type { Unit } from './units';

/**
 * While a unit of a batchable type is out, claim the events right behind
 * each of its keys (same type, the batch size shared among the keys). They
 * are sent only after the unit settled with every event of their key done,
 * and handed back otherwise, so order per key is the same as without this;
 * but the claim's commit happens while Odoo works on the request instead of
 * between two requests of the key (decision 22).
 */
export class Prefetch {
  /** The next events of an in-flight unit's keys, claimed while it is out. */
  private readonly successors = new Map<Unit, Unit>();

  constructor(
    private readonly outbox: Outbox,
    private readonly batchSize: number,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** Claim the events behind a unit's keys; call once its request has left. */
  claimBehind(unit: Unit): void {
    if (this.successors.has(unit)) return;
    const behind = followingOf(unit.records, this.batchSize);
    if (!behind) return;
    try {
      const records = this.outbox.claimFollowing(unit.op.type, behind.tails, behind.perKey, this.now());
      if (records.length > 0) this.successors.set(unit, { op: unit.op, records });
    } catch (err) {
      this.log.warn({ err }, 'claiming the next events of keys in flight failed; they go with a later claim');
    }
  }

  /**
   * The successor of a unit that came back: the part whose keys had every
   * event done goes next (returned) when `keep` (sending goes on), unless an
   * older event of another key waits; the rest is handed back in `settlements`.
   */
  takeSuccessor(unit: Unit, results: Result[], settlements: Settlement[], keep: boolean): Unit | undefined {
    const next = this.successors.get(unit);
    if (!next) return undefined;
    this.successors.delete(unit);
    const kept = keptSuccessors(unit.records, results, next.records, keep, () => this.outbox.oldestReadySeq(this.now()));
    const keptSeqs = new Set(kept.map((r) => r.seq));
    for (const r of next.records) if (!keptSeqs.has(r.seq)) settlements.push({ seq: r.seq, outcome: 'release' });
    return kept.length > 0 ? { op: next.op, records: kept } : undefined;
  }
}

/**
 * What to claim behind a unit: each key's last seq, and how many events per
 * key. Undefined when the unit held one event per key of many: the claim
 * found no runs, so there is likely nothing behind them.
 */
export function followingOf(
  records: OutboxRecord[],
  batchSize: number,
): { tails: Array<{ sequenceKey: string; afterSeq: number }>; perKey: number } | undefined {
  const tails = new Map<string, number>();
  for (const r of records) tails.set(r.sequenceKey, r.seq);
  if (tails.size > 1 && tails.size === records.length) return undefined;
  return {
    tails: [...tails].map(([sequenceKey, afterSeq]) => ({ sequenceKey, afterSeq })),
    perKey: Math.max(1, Math.floor(batchSize / tails.size)),
  };
}

/**
 * Which claimed successors go next: those of keys whose every event in the
 * unit was done, when `keep`; none when an event older than the first of
 * them is ready (`oldestReady`, asked only then), so oldest-first holds.
 */
export function keptSuccessors(
  records: OutboxRecord[],
  results: Result[],
  successors: OutboxRecord[],
  keep: boolean,
  oldestReady: () => number | null,
): OutboxRecord[] {
  const failed = new Set<string>();
  records.forEach((r, i) => {
    if (results[i] instanceof Error) failed.add(r.sequenceKey);
  });
  const kept = keep ? successors.filter((r) => !failed.has(r.sequenceKey)) : [];
  if (kept.length > 0) {
    const older = oldestReady();
    if (older !== null && older < kept[0]!.seq) return [];
  }
  return kept;
}
