/**
 * Read planning: join the values of one poll group into as few Modbus read
 * requests as possible. Pure; table-tested in test/protocols/modbus/plan.test.ts.
 *
 * Values of the same area (holding, input, coil, discrete) of the same unit
 * are joined when the unused addresses between them are at most `maxReadGap`
 * and the joined read stays within the per-request limit. Values that share
 * registers (several bits of one status word) share the read.
 */
import type { Area } from './config';

export interface PlanItem {
  area: Area;
  /** First address of the value. */
  address: number;
  /** Registers (or bits, for coil/discrete) the value occupies. */
  count: number;
}

export interface ReadRequest {
  area: Area;
  /** First address read. */
  address: number;
  /** Registers (or bits) read. */
  count: number;
  /** Indexes into the planned items, in address order. */
  items: number[];
  /** Addresses read that no value uses (bridged gaps). */
  unused: number;
}

export interface PlanLimits {
  /** Unused addresses one request may include to join two values. */
  maxReadGap: number;
  /** Registers per request at most (holding, input). */
  maxRegistersPerRead: number;
  /** Bits per request at most (coil, discrete). */
  maxBitsPerRead: number;
}

const AREA_ORDER: Record<Area, number> = { holding: 0, input: 1, coil: 2, discrete: 3 };

/**
 * Plan the reads for a list of values of one unit. Requests come out ordered
 * by area, then address. Greedy from the lowest address: a request grows while
 * the next value starts within `maxReadGap` of its end and the whole read fits;
 * for sorted values this gives the fewest requests.
 */
export function planReads(items: readonly PlanItem[], limits: PlanLimits): ReadRequest[] {
  const order = items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => AREA_ORDER[a.item.area] - AREA_ORDER[b.item.area] || a.item.address - b.item.address || b.item.count - a.item.count || a.index - b.index);

  const requests: ReadRequest[] = [];
  let cur: (ReadRequest & { end: number; used: number }) | null = null;
  const close = () => {
    if (cur) {
      requests.push({ area: cur.area, address: cur.address, count: cur.count, items: cur.items, unused: cur.count - cur.used });
      cur = null;
    }
  };

  for (const { item, index } of order) {
    const max = item.area === 'coil' || item.area === 'discrete' ? limits.maxBitsPerRead : limits.maxRegistersPerRead;
    if (item.count < 1 || item.count > max) {
      throw new RangeError(`a value of ${item.count} at ${item.area} ${item.address} does not fit in one read (at most ${max})`);
    }
    const itemEnd = item.address + item.count - 1;
    if (cur && cur.area === item.area) {
      const gap = item.address - (cur.end + 1);
      const newEnd = Math.max(cur.end, itemEnd);
      if (gap <= limits.maxReadGap && newEnd - cur.address + 1 <= max) {
        // Count the addresses this item adds that no earlier item covered.
        const fresh = itemEnd > cur.end ? itemEnd - Math.max(cur.end + 1, item.address) + 1 : 0;
        cur.used += fresh;
        cur.end = newEnd;
        cur.count = newEnd - cur.address + 1;
        cur.items.push(index);
        continue;
      }
    }
    close();
    cur = { area: item.area, address: item.address, count: item.count, items: [index], unused: 0, end: itemEnd, used: item.count };
  }
  close();
  return requests;
}

/**
 * Split one request into requests that read no unused address: values at the
 * same address and of the same size share a request. Used when a device
 * refuses a joined read (exception 2, illegal data address), so one bad
 * address no longer hides the good values next to it.
 */
export function splitRequest(request: ReadRequest, items: readonly PlanItem[]): ReadRequest[] {
  const byRange = new Map<string, ReadRequest>();
  for (const index of request.items) {
    const item = items[index]!;
    const key = `${item.address}:${item.count}`;
    const existing = byRange.get(key);
    if (existing) existing.items.push(index);
    else byRange.set(key, { area: item.area, address: item.address, count: item.count, items: [index], unused: 0 });
  }
  return [...byRange.values()].sort((a, b) => a.address - b.address || a.count - b.count);
}
