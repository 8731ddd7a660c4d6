import type { Logger } from '../../log';
import type { Signal } from '../../model/signal';
import { isBitArea, type ModbusSourceConfig, type RegisterConfig } from './config';
import type { ModbusConnection, OpenConnection } from './connection';
import { decodeRegisters, registerCount, shouldEmit, type DecodedValue } from './decode';
import { Device } from './devices';
import { planReads, splitRequest, type PlanItem, type ReadRequest } from './plan';
import { ConnectionLostError, classify, describe } from './read-failures';

/** One configured poll group and when it is next due. */
export interface PollGroup {
  /** `device/group`, unique within the source. */
  name: string;
  device: Device;
  intervalMs: number;
  registers: RegisterConfig[];
  items: PlanItem[];
  requests: ReadRequest[];
  nextDue: number;
  overruns: number;
}

/** What polling needs from the source. */
export interface PollOwner {
  isRunning(): boolean;
  /** The group's last readings are not taken yet: do not poll it. */
  busy(group: PollGroup): boolean;
  /** What one poll of a group read (changed values only). */
  deliver(group: PollGroup, signals: Signal[]): void;
  noteError(err: unknown, code: string): void;
}

/**
 * The poll groups of a source: which is due, reading one (one request per
 * planned read), and turning the answers into signals for values that
 * changed.
 */
export class Poller {
  readonly devices: Device[] = [];
  readonly groups: PollGroup[] = [];
  reads = 0;
  errors = 0;
  lastDataAt: string | null = null;
  /** Last value and quality sent per tag (for change detection). */
  private readonly lastSent = new Map<string, { value: unknown; quality: string }>();

  constructor(
    private readonly config: ModbusSourceConfig,
    private readonly log: Logger,
    private readonly connection: ModbusConnection,
    private readonly owner: PollOwner,
  ) {
    const limits = { maxReadGap: config.maxReadGap, maxRegistersPerRead: config.maxRegistersPerRead, maxBitsPerRead: config.maxBitsPerRead };
    for (const dc of config.devices) {
      const device = new Device(dc, log, config.backoff, (err, code) => owner.noteError(err, code));
      this.devices.push(device);
      dc.groups.forEach((gc, g) => {
        const items: PlanItem[] = gc.registers.map((r) => ({
          area: r.area,
          address: r.address,
          count: isBitArea(r.area) ? 1 : registerCount(r.type, r.length),
        }));
        const name = `${device.name}/${gc.name ?? `group${g + 1}`}`;
        const twins = this.groups.filter((x) => x.name === name || x.name.startsWith(`${name}#`)).length;
        this.groups.push({
          name: twins === 0 ? name : `${name}#${twins + 1}`,
          device,
          intervalMs: gc.intervalMs,
          registers: gc.registers,
          items,
          requests: planReads(items, limits),
          nextDue: 0,
          overruns: 0,
        });
      });
    }
  }

  /** A new start: every group is due now, and every current value is sent once, like a new process. */
  restart(now: number): void {
    this.lastSent.clear();
    for (const g of this.groups) g.nextDue = now;
  }

  /** The most overdue group that may be polled now, if any. */
  nextDue(now: number): PollGroup | null {
    let best: PollGroup | null = null;
    for (const g of this.groups) {
      if (this.owner.busy(g) || g.nextDue > now || g.device.skipUntil > now) continue;
      if (!best || g.nextDue < best.nextDue) best = g;
    }
    return best;
  }

  /** When a group is next due (a minute at most). */
  nextWakeAt(now: number): number {
    let at = now + 60_000;
    for (const g of this.groups) {
      if (this.owner.busy(g)) continue;
      at = Math.min(at, Math.max(g.nextDue, g.device.skipUntil));
    }
    return Math.max(at, now + 1);
  }

  get overruns(): number {
    return this.groups.reduce((n, g) => n + g.overruns, 0);
  }

  /** Read one group; its changed values go to the owner, whatever ends the cycle. */
  async poll(conn: OpenConnection, group: PollGroup): Promise<void> {
    const device = group.device;
    const startedAt = Date.now();
    const signals: Signal[] = [];
    try {
      for (let i = 0; i < group.requests.length; i++) {
        if (!this.owner.isRunning() || conn.closed) return; // not rescheduled: polled again right after reconnecting
        const request = group.requests[i]!;
        let data: number[] | boolean[];
        try {
          data = await this.connection.read(conn, device.config, request);
        } catch (err) {
          const failure = classify(err);
          if (failure.kind === 'connection') {
            this.connection.drop(conn, err instanceof Error ? err : new ConnectionLostError(failure.message), true);
            return;
          }
          this.errors++;
          device.errors++;
          if (failure.kind === 'timeout') {
            device.timedOut(request);
            // The device is not answering: do not spend its timeout again on the rest of this group.
            this.markBad(group, itemsFrom(group.requests, i), signals, { error: 'timeout' });
            this.reschedule(group, startedAt);
            this.connection.unanswered(conn);
            return;
          }
          this.connection.answered(conn);
          if (failure.kind === 'exception') {
            if (failure.code === 2 && request.items.length > 1) {
              const parts = splitRequest(request, group.items);
              if (parts.length > 1) {
                this.log.warn(
                  { group: group.name, unitId: device.config.unitId, area: request.area, address: request.address, count: request.count },
                  'device refused a joined read (exception 2, illegal data address); reading these values separately from now on',
                );
                group.requests.splice(i, 1, ...parts);
                device.replaced(request);
                i--;
                continue;
              }
            }
            device.answered(request, { code: failure.code, text: device.exceptionText(failure.code, request) });
            this.markBad(group, request.items, signals, { error: 'exception', exceptionCode: failure.code });
          } else {
            device.answered(request, {
              code: null,
              text: `unit ${device.config.unitId} (${device.name}): ${failure.message} reading ${describe(request)}`,
            });
            this.markBad(group, request.items, signals, { error: failure.message });
          }
          continue;
        }
        const readAt = new Date().toISOString();
        this.connection.answered(conn);
        this.reads++;
        device.reads++;
        device.lastReadAt = readAt;
        this.lastDataAt = readAt;
        device.answered(request, null);
        for (const index of request.items) {
          const r = group.registers[index]!;
          const item = group.items[index]!;
          const offset = item.address - request.address;
          const decoded: DecodedValue = isBitArea(r.area)
            ? { value: Boolean(data[offset]), quality: 'good' }
            : decodeRegisters(r, (data as number[]).slice(offset, offset + item.count));
          const meta: Record<string, unknown> = { unitId: device.config.unitId, area: r.area, address: r.address };
          if (decoded.reason) meta.error = decoded.reason;
          this.consider(r, decoded.value, decoded.quality, readAt, meta, signals);
        }
      }
      this.reschedule(group, startedAt);
    } finally {
      // Whatever ended the cycle, values already read go to the outbox.
      if (signals.length > 0) this.owner.deliver(group, signals);
    }
  }

  private reschedule(group: PollGroup, startedAt: number): void {
    let next = group.nextDue + group.intervalMs;
    const now = Date.now();
    if (next <= now) {
      // Missed a turn: poll again as soon as possible, in turn with the other groups.
      if (group.device.status !== 'timeout') group.overruns++;
      next = Math.max(now, startedAt);
    }
    group.nextDue = next;
  }

  private consider(r: RegisterConfig, value: Signal['value'], quality: Signal['quality'], at: string, meta: Record<string, unknown>, out: Signal[]): void {
    const next = { value, quality };
    if (!this.config.emitUnchanged && !shouldEmit(this.lastSent.get(r.tag), next, r.deadband)) return;
    this.lastSent.set(r.tag, next);
    out.push({ source: this.config.name, tag: r.tag, value, quality, sourceTime: at, receivedAt: at, meta });
  }

  /** A bad-quality signal for values that could not be read (sent once per change, like values). */
  private markBad(group: PollGroup, items: number[], out: Signal[], why: Record<string, unknown>): void {
    const at = new Date().toISOString();
    const seen = new Set(out.map((s) => s.tag));
    for (const index of items) {
      const r = group.registers[index]!;
      if (seen.has(r.tag)) continue;
      this.consider(r, null, 'bad', at, { unitId: group.device.config.unitId, area: r.area, address: r.address, ...why }, out);
    }
  }
}

/** The values of the requests from `from` on (those not read in this cycle). */
function itemsFrom(requests: readonly ReadRequest[], from: number): number[] {
  return requests.slice(from).flatMap((r) => r.items);
}
