import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { SourceAdapter, WriteRequest } from '../protocols/types';
import { backoffDelay, sleep } from '../retry';
import type { LineWriteConfig, LineWriteTarget } from './config';

/** What a line gets written: the head of its work center's queue, or null when the queue is empty. */
export interface LineOrder {
  order: string;
  quantity: number;
  /** Internal reference, else the name. */
  product: string;
}

export interface LineWriteStatus {
  workcenter: string;
  source: string;
  /** What was last asked for (null: an empty queue). */
  wanted: LineOrder | null;
  /** True when every value of the last write was verified. */
  ok: boolean | null;
  at: number | null;
  writes: number;
  failures: number;
  lastError: string | null;
}

const BACKOFF = { initialMs: 500, maxMs: 5000 };

/**
 * Writes a work center's current order to its controller through a configured
 * OPC UA or Modbus source (its write(): verified by status or read-back).
 * A refused or unverified value is tried again up to `attempts` times; what
 * stays refused is counted, logged and reported, and the next change writes
 * again. One write at a time per work center; a newer order replaces one
 * still waiting.
 */
export class LineWrites {
  private readonly lines = new Map<
    string,
    { config: LineWriteConfig; status: LineWriteStatus; running: Promise<void> | null; next: { value: LineOrder | null } | null }
  >();
  private readonly stopper = new AbortController();

  constructor(
    configs: readonly LineWriteConfig[],
    private readonly adapters: () => readonly SourceAdapter[],
    private readonly log: Logger,
    private readonly refused: (workcenter: string, detail: string) => void,
  ) {
    for (const config of configs) {
      this.lines.set(config.workcenter, {
        config,
        status: { workcenter: config.workcenter, source: config.source, wanted: null, ok: null, at: null, writes: 0, failures: 0, lastError: null },
        running: null,
        next: null,
      });
    }
  }

  /** Work centers (as configured) that have writes. */
  workcenters(): string[] {
    return [...this.lines.keys()];
  }

  /** Write `value` to the work center's line when it differs from what was last written well. */
  set(workcenter: string, value: LineOrder | null): void {
    const line = this.lines.get(workcenter);
    if (!line) return;
    if (line.status.ok && same(line.status.wanted, value) && !line.running) return;
    line.next = { value };
    if (!line.running) line.running = this.drain(workcenter).finally(() => (line.running = null));
  }

  /** Resolves when no write is under way (tests). */
  async settled(): Promise<void> {
    for (const l of this.lines.values()) while (l.running) await l.running;
  }

  status(): LineWriteStatus[] {
    return [...this.lines.values()].map((l) => ({ ...l.status }));
  }

  stop(): void {
    this.stopper.abort();
  }

  private async drain(workcenter: string): Promise<void> {
    const line = this.lines.get(workcenter)!;
    while (line.next && !this.stopper.signal.aborted) {
      const { value } = line.next;
      line.next = null;
      line.status.wanted = value;
      const requests = requestsFor(line.config, value);
      let problem = '';
      for (let attempt = 1; attempt <= line.config.attempts && !this.stopper.signal.aborted; attempt++) {
        problem = await this.tryOnce(line.config.source, requests);
        if (!problem) break;
        if (line.next) break; // a newer order waits: write that instead
        if (attempt < line.config.attempts) await sleep(backoffDelay(attempt, BACKOFF), this.stopper.signal);
      }
      line.status.writes++;
      line.status.at = Date.now();
      line.status.ok = problem === '';
      if (problem) {
        line.status.failures++;
        line.status.lastError = problem;
        this.log.warn({ workcenter, source: line.config.source, problem }, `release: writing the current order of ${workcenter} failed: ${problem}`);
        this.refused(workcenter, problem);
      } else {
        line.status.lastError = null;
        this.log.info({ workcenter, order: value?.order ?? null }, `release: wrote the current order of ${workcenter} to ${line.config.source}`);
      }
    }
  }

  /** One attempt; '' when every value was verified, else why not. */
  private async tryOnce(sourceName: string, requests: WriteRequest[]): Promise<string> {
    const source = this.adapters().find((a) => a.name === sourceName);
    if (!source?.write) return `source ${sourceName} is not running or cannot write`;
    try {
      const results = await source.write(requests);
      const bad = results.map((r, i) => (r.ok ? '' : `${describeTarget(requests[i]!)}: ${r.reason ?? 'refused'}`)).filter(Boolean);
      return bad.join('; ');
    } catch (err) {
      return errorMessage(err);
    }
  }
}

/** The write requests for a line's configured targets. */
export function requestsFor(config: LineWriteConfig, value: LineOrder | null): WriteRequest[] {
  const out: WriteRequest[] = [];
  // `natural`: what the value is when the target names no type (an order and a product are text, a quantity a number).
  const add = (target: LineWriteTarget | undefined, text: string, number: number, natural: 'text' | 'number') => {
    if (!target) return;
    if ('nodeId' in target) {
      const numeric = target.dataType === undefined ? natural === 'number' : target.dataType !== 'String' && target.dataType !== 'Boolean';
      out.push({ kind: 'opcua', nodeId: target.nodeId, value: numeric ? number : text, ...(target.dataType ? { dataType: target.dataType } : {}) });
    } else {
      out.push({
        kind: 'modbus',
        unitId: target.unitId,
        address: target.address,
        type: target.type,
        wordOrder: target.wordOrder,
        ...(target.length !== undefined ? { length: target.length } : {}),
        value: target.type === 'string' ? text : number,
      });
    }
  };
  add(config.order, value?.order ?? '', value ? orderNumber(value.order) : 0, 'text');
  add(config.quantity, value ? String(value.quantity) : '', value?.quantity ?? 0, 'number');
  add(config.product, value?.product ?? '', 0, 'text');
  return out;
}

/** The number of an order for a numeric register or node: the last digits of its name (`WH/MO/00042` -> 42), 0 when it has none. */
export function orderNumber(name: string): number {
  const m = /(\d+)\D*$/.exec(name);
  return m ? Number(m[1]) : 0;
}

function describeTarget(r: WriteRequest): string {
  return r.kind === 'opcua' ? r.nodeId : `unit ${r.unitId} register ${r.address}`;
}

function same(a: LineOrder | null, b: LineOrder | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
