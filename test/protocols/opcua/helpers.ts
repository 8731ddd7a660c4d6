import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { OutboxFullError } from '../../../agent/errors';
import { opcuaConfigSchema, type OpcuaSourceConfig } from '../../../agent/protocols/opcua/config';
import type { InvalidInput, Signal } from '../../../agent/model/signal';
import type { AdapterContext } from '../../../agent/protocols/types';

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `edge-agent-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A config as plant IT would write it, validated by the real schema. */
export function opcuaConfig(input: Record<string, unknown>): OpcuaSourceConfig {
  return opcuaConfigSchema().parse({ type: 'opcua', name: 'line1-plc', ...input });
}

/**
 * The agent side of an adapter: collects what it emits. `refuse` makes emit
 * reject with OUTBOX_FULL, as the outbox does when full.
 */
export class CollectingContext implements AdapterContext {
  readonly signals: Signal[] = [];
  readonly invalid: InvalidInput[] = [];
  refuse = false;
  refusedCalls = 0;
  private waiters: Array<{ pred: (s: Signal[]) => boolean; resolve: () => void }> = [];
  /** Log lines (parsed JSON) when constructed with captureLogs. */
  readonly logLines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  readonly log: pino.Logger;

  constructor(
    readonly stateDir: string,
    opts: { captureLogs?: boolean } = {},
  ) {
    this.log = opts.captureLogs
      ? pino(
          { level: 'info' },
          {
            write: (line: string) => {
              this.logLines.push(JSON.parse(line) as { level: number; msg: string });
            },
          },
        )
      : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  }

  async emit(signals: Signal[]): Promise<void> {
    if (this.refuse) {
      this.refusedCalls += 1;
      throw new OutboxFullError(100);
    }
    this.signals.push(...signals);
    this.waiters = this.waiters.filter((w) => {
      if (w.pred(this.signals)) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  async reject(input: InvalidInput): Promise<void> {
    this.invalid.push(input);
  }

  of(tag: string): Signal[] {
    return this.signals.filter((s) => s.tag === tag);
  }

  /** Resolve when the collected signals satisfy `pred`; reject after `ms` with `what` in the message. */
  until(pred: (s: Signal[]) => boolean, ms: number, what: string): Promise<void> {
    if (pred(this.signals)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; got ${this.signals.length} signals`));
      }, ms);
      this.waiters.push(w);
    });
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `check` until it is true or `ms` passed. */
export async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await delay(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
