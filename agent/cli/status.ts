import { Agent, request } from 'undici';
import { flowsJson, type FlowJson } from '../buffer/flows';
import { describeOffset } from '../runtime/clock-watch';
import type { ClockStatus } from '../runtime/view';
import type { OutboxCounts } from '../buffer/outbox';
import { withOutbox } from './open-outbox';
import type { AgentConfig } from '../config/schema';
import { backlogLine, odooLine, type HeadlineInput } from '../http/headline';
import type { SyncStatus } from '../sync/worker';
import type { ReleaseStatus } from '../release/release';
import { formatClock } from '../http/format';
import { headAck, releaseAge } from '../http/release-section';

/**
 * `edge-agent status`: ask the running agent (its /api/status on localhost);
 * when it does not answer, read the outbox file directly.
 */
export async function printStatus(config: AgentConfig, json: boolean): Promise<number> {
  const live = config.http.enabled ? await askAgent(config.http) : undefined;
  if (live) {
    process.stdout.write(json ? `${JSON.stringify(live, null, 2)}\n` : `${formatLive(live, Date.now())}\n`);
    return 0;
  }
  return withOutbox(config, (outbox) => {
    const counts = outbox.counts();
    const oldest = outbox.oldestUnfinishedAt();
    const flows = flowsJson(outbox.flowStatus());
    const offline = { running: false, outbox: { ...counts, oldestUnfinishedAt: oldest ? new Date(oldest).toISOString() : null }, flows };
    const now = Date.now();
    const waiting = `waiting: ${backlogLine(headlineInput({ now, startedAt: now, odooConfigured: Boolean(config.odoo), sync: undefined, counts, oldestUnfinishedAt: oldest, held: flows.reduce((n, f) => n + f.held, 0) })).text}`;
    process.stdout.write(
      json
        ? `${JSON.stringify(offline, null, 2)}\n`
        : `agent: not running (read from ${config.outbox.path})\n${waiting}\n${formatCounts(counts)}${flows.map((f) => `\n${formatFlow(f)}`).join('')}\n`,
    );
    return 0;
  });
}

/**
 * The running agent's /api/status, from the gateway itself, or undefined when
 * it does not answer. Over TLS the page's certificate is not checked: this
 * asks 127.0.0.1, which a certificate rarely names, and sends nothing secret.
 */
export async function askAgent(http: AgentConfig['http']): Promise<Record<string, unknown> | undefined> {
  const dispatcher = http.tls ? new Agent({ connect: { rejectUnauthorized: false } }) : undefined;
  try {
    const res = await request(`${http.tls ? 'https' : 'http'}://127.0.0.1:${http.port}/api/status`, { headersTimeout: 2000, bodyTimeout: 2000, dispatcher });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return undefined;
    }
    return (await res.body.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  } finally {
    await dispatcher?.close();
  }
}

const NO_COUNTS: OutboxCounts = {
  pending: 0,
  inflight: 0,
  retrying: 0,
  flagged: 0,
  parked: 0,
  done: 0,
  skipped: 0,
  duplicates: 0,
  invalid: 0,
  conflicts: 0,
  unfinished: 0,
};

/** The page's headline input for its Odoo and backlog lines (only its safety line reads the outbox bound and refusals). */
function headlineInput(i: Omit<HeadlineInput, 'maxEvents' | 'refused'>): HeadlineInput {
  return { ...i, maxEvents: Infinity, refused: 0 };
}

function formatCounts(c: { [k: string]: number } | OutboxCounts): string {
  return `outbox: pending ${c.pending}, in flight ${c.inflight}, retrying ${c.retrying}, flagged ${c.flagged ?? 0}, parked ${c.parked}, done ${c.done}, skipped ${c.skipped}, duplicates ${c.duplicates}, invalid ${c.invalid}`;
}

/**
 * The running agent's /api/status as lines: Odoo and the backlog in the
 * page's words (how long Odoo has been down, how old the oldest waiting
 * event is), then the counts, sources and flows.
 */
export function formatLive(s: Record<string, unknown>, now: number): string {
  const lines = ['agent: running'];
  const outbox = s.outbox as (OutboxCounts & { oldestUnfinishedAt: string | null }) | undefined;
  const sync = (s.odoo as SyncStatus | null | undefined) ?? undefined;
  const flows = (s.flows as FlowJson[] | undefined) ?? [];
  const headline = headlineInput({
    now,
    startedAt: typeof s.startedAt === 'string' ? Date.parse(s.startedAt) : now,
    odooConfigured: sync !== undefined,
    sync,
    counts: outbox ?? NO_COUNTS,
    oldestUnfinishedAt: outbox?.oldestUnfinishedAt ? Date.parse(outbox.oldestUnfinishedAt) : null,
    held: flows.reduce((n, f) => n + f.held, 0),
  });
  lines.push(`odoo: ${odooLine(headline).text}`);
  if (outbox) lines.push(`waiting: ${backlogLine(headline).text}`, formatCounts(outbox));
  const sources = s.sources as Array<{ name: string; type: string; connected: boolean; lastDataAt: string | null }> | undefined;
  for (const src of sources ?? [])
    lines.push(`source ${src.name} (${src.type}): ${src.connected ? 'connected' : 'not connected'}, last data ${src.lastDataAt ?? 'never'}`);
  for (const f of flows) lines.push(formatFlow(f));
  const release = s.release as ReleaseStatus | undefined;
  if (release) lines.push(...formatRelease(release, now));
  const clocks = s.clocks as ClockStatus | null | undefined;
  for (const r of clocks?.readings ?? []) {
    lines.push(
      `clock ${r.name}: ${describeOffset(r.name, r.offsetMs, r.uncertaintyMs)}${r.warning ? ` (more than ${clocks!.warnOffsetMs / 1000} s: set both to NTP)` : ''}`,
    );
  }
  return lines.join('\n');
}

/** Order release as lines: how old the list is and whether Odoo is read, then each work center's queue, current order and acknowledgement. */
export function formatRelease(r: ReleaseStatus, now: number): string[] {
  const age = releaseAge(r, now);
  const odoo = r.odoo.reachable
    ? ''
    : `; Odoo unreachable since ${formatClock(r.odoo.unreachableSince, now)}, the list is kept${r.odoo.lastError ? ` (${r.odoo.lastError})` : ''}`;
  const problems = Object.values(r.problems.counts).reduce((n: number, c) => n + (c ?? 0), 0);
  const lines = [
    `release: ${r.orders} open ${r.orders === 1 ? 'order' : 'orders'} ${age}${odoo}; ${r.acks.received} acknowledgements${r.mqtt ? `, ${r.mqtt.published} published, ${r.mqtt.failed} failed` : ''}${problems ? `; ${problems} problems (status page)` : ''}`,
  ];
  const writes = new Map(r.writes.map((w) => [w.workcenter, w]));
  for (const w of r.workcenters) {
    const ack = w.head === null ? '' : `, ${headAck(w, now)}`;
    const lw = writes.get(w.name);
    const write = !lw || lw.ok === null ? '' : lw.ok ? ', written to the line' : `, write failed: ${lw.lastError ?? 'no reason'}`;
    lines.push(`release ${w.name}: ${w.queue} in queue, current ${w.head ?? 'none'}${ack}${write}`);
  }
  return lines;
}

/** One line per flow: what it holds (received, stored, not yet queued) and when it releases. */
export function formatFlow(f: FlowJson): string {
  const held = f.held ? `${f.held} events held for ${f.keys} ${f.keys === 1 ? 'key' : 'keys'} since ${f.heldSince}` : 'nothing held';
  const next = f.nextFlushAt ? `, next release ${f.nextFlushAt}` : '';
  return `flow ${f.name} (${f.mode} of ${f.types.join(', ')}, "${f.cron}"): ${held}${next}`;
}
