import type { FlowStatus } from '../buffer/flows';
import type { ReleaseStatus } from '../release/release';
import { CLOSED_PERIOD, type AuditEntry, type ConflictRecord, type InvalidRecord, type OutboxCounts, type OutboxRecord } from '../buffer/outbox';
import { nextDay } from '../sync/closed-period';
import type { SyncStatus } from '../sync/worker';
import type { DeviceHealth } from '../protocols/types';
import { releaseSection } from './release-section';
import { describeOffset } from '../runtime/clock-watch';
import type { ClockStatus } from '../runtime/view';
import type { Role } from './users';
import { throughputChart } from './chart';
import { clip, esc, formatAge, formatClock, formatCount, formatSpan } from './format';
import type { Headline, Level } from './headline';
import type { MinuteCounts } from './throughput';
import { ordersSection, reconcileSection } from './page-orders';
import type { OrderSyncView } from '../sync/order-view';
import type { StoredRun } from '../sync/reconcile/job';

/**
 * The status page, rendered on the server as one HTML document: inline CSS,
 * one small inline script (refresh every 5 s), nothing from the internet.
 * Pure: everything it shows comes in through PageModel.
 */

export interface SourceView {
  name: string;
  type: string;
  enabled: boolean;
  connected: boolean;
  lastDataAt: string | null;
  lastError: { message: string; code?: string; at: string } | null;
  /** Devices behind the source (Sparkplug edge nodes and devices) with their state and last values. */
  devices?: DeviceHealth[];
}

export interface PageModel {
  now: number;
  plant: { id: string; name?: string };
  startedAt: number;
  /** The logged-in user, if any. */
  user: { name: string; role: Role } | undefined;
  /** The session's form token (logged in only). */
  csrf: string | undefined;
  /** Whether to offer retry/skip/edit: a supervisor or admin, or nobody logged in (the button leads to the login). */
  offerActions: boolean;
  isAdmin: boolean;
  flash: { kind: 'ok' | 'error'; text: string } | undefined;
  headline: Headline;
  odoo: { configured: boolean; url?: string; database?: string; status: SyncStatus | undefined };
  outbox: OutboxCounts & { oldestUnfinishedAt: number | null };
  throughput: { last5: MinuteCounts[]; last60: MinuteCounts[] };
  sources: SourceView[];
  /** Order release, when configured. */
  release?: ReleaseStatus;
  /** Batch and roll-up flows with what each holds and when it releases next (ms). */
  flows: Array<FlowStatus & { nextFlushAt: number | null }>;
  parked: OutboxRecord[];
  /** Events held because their date lies in a period Odoo's accounting has locked (parked, code CLOSED_PERIOD), and the last locked day. */
  closedPeriod?: { events: OutboxRecord[]; closedUntil: string | null };
  /** The oldest events flagged at the edge (the cached master data says Odoo would refuse them). */
  flagged?: OutboxRecord[];
  /** When the master data they were checked against was pulled from Odoo (ms), or null when never. */
  masterDataAt?: number | null;
  invalid: InvalidRecord[];
  /** The latest events refused because their id was taken by an event with other content. */
  conflicts?: ConflictRecord[];
  audit: AuditEntry[];
  /** The per-order sync view, when the agent makes one. */
  orders?: OrderSyncView;
  /** The latest reconciliation against Odoo. */
  reconcile?: StoredRun;
  /** The plant's time zone: every time on the page is shown in it (unset: the gateway's). */
  timeZone?: string;
  /** Odoo's clock and the sources' against the gateway's; absent: not shown. */
  clocks?: ClockStatus;
  /** Nonce of this response's inline script and style (Content-Security-Policy). */
  nonce: string;
}

export const REFRESH_MS = 5000;

export function renderStatusPage(m: PageModel): string {
  const title = m.plant.name ? `${m.plant.name} · edge agent` : `Edge agent · ${m.plant.id}`;
  return document(
    title,
    m.nonce,
    `<header class="top"><div><h1>${esc(title)}</h1><div class="sub">plant <b>${esc(m.plant.id)}</b> · agent running since ${esc(formatClock(m.startedAt, m.now, m.timeZone))} (${esc(formatSpan(m.now - m.startedAt))})</div></div>` +
      `<div class="who">${whoBox(m)}</div></header>` +
      `<div id="stale" class="banner alarm" role="alert" hidden></div>` +
      (m.flash ? `<div class="banner ${m.flash.kind === 'ok' ? 'ok' : 'alarm'}" role="status">${esc(m.flash.text)}</div>` : '') +
      renderStatusMain(m) +
      `<footer>Updated <span id="updated">${esc(formatClock(m.now, m.now, m.timeZone))}</span> · refreshes every ${REFRESH_MS / 1000} s${m.timeZone ? ` · times in ${esc(m.timeZone)}` : ''} · <a href="/metrics">metrics</a> · <a href="/api/status">status as JSON</a></footer>` +
      refreshScript(m.nonce),
  );
}

/** The part of the page that refreshes itself: `<main id="status">`, carrying the time it was made. */
export function renderStatusMain(m: PageModel): string {
  return (
    `<main id="status" data-updated="${esc(formatClock(m.now, m.now, m.timeZone))}">${headlineBox(m.headline)}` +
    `<div class="grid">${odooCard(m)}${outboxCard(m)}${throughputCard(m)}</div>` +
    sourcesSection(m) +
    releaseSection(m.release, m.now) +
    clocksSection(m) +
    flowsSection(m) +
    closedPeriodSection(m) +
    exceptionSection(m) +
    ordersSection(m.orders, m.now) +
    reconcileSection(m.reconcile, m.now) +
    flaggedSection(m) +
    invalidSection(m) +
    auditSection(m) +
    `</main>`
  );
}

function whoBox(m: PageModel): string {
  if (!m.user) return `<a class="btn" href="/login?next=/">Log in</a>`;
  return (
    `<span class="user">${esc(m.user.name)} <span class="role">${esc(m.user.role)}</span></span>` +
    `<form method="post" action="/logout">${csrfField(m)}<button class="btn quiet" type="submit">Log out</button></form>`
  );
}

function headlineBox(h: Headline): string {
  const line = (l: { level: Level; text: string }, cls: string) =>
    `<p class="${cls} lv-${l.level}"><span class="dot" aria-hidden="true"></span>${esc(l.text)}</p>`;
  return `<section class="headline ${h.level}" aria-label="Summary">${line(h.odoo, 'big')}${line(h.backlog, 'big')}${line(h.safety, '')}</section>`;
}

function odooCard(m: PageModel): string {
  const s = m.odoo.status;
  const rows: Array<[string, string]> = [];
  if (!m.odoo.configured || !s) {
    rows.push(['State', '<span class="pill warn">not configured</span>']);
  } else {
    const state =
      s.circuit === 'closed'
        ? '<span class="pill ok">up</span>'
        : s.circuit === 'auth-failed'
          ? '<span class="pill alarm">key refused</span>'
          : '<span class="pill alarm">down</span>';
    rows.push(['State', `${state} <span class="muted">circuit ${esc(s.circuit)}</span>`]);
    if (s.circuit !== 'closed' && s.circuitOpenedAt !== null)
      rows.push(['Down since', `${esc(formatClock(s.circuitOpenedAt, m.now, m.timeZone))} (${esc(formatSpan(m.now - s.circuitOpenedAt))})`]);
    rows.push([
      'Version',
      s.server ? `${esc(s.server.serverVersion)} <span class="muted">${esc(s.server.protocol)}</span>` : '<span class="muted">not known yet</span>',
    ]);
    rows.push([
      'Last success',
      s.lastSuccessAt !== null ? `${esc(formatClock(s.lastSuccessAt, m.now, m.timeZone))} (${esc(formatAge(s.lastSuccessAt, m.now))})` : 'not since start',
    ]);
    if (s.lastError) rows.push(['Last error', `${esc(clip(s.lastError.message, 300))} <span class="muted">${esc(formatAge(s.lastError.at, m.now))}</span>`]);
    rows.push([
      'Since start',
      `${formatCount(s.sent)} sent · ${formatCount(s.parked)} parked · ${formatCount(s.retried)} retried · ${formatCount(s.inFlight)} in flight`,
    ]);
  }
  if (m.odoo.url) rows.push(['Server', `${esc(m.odoo.url)}${m.odoo.database ? ` <span class="muted">db ${esc(m.odoo.database)}</span>` : ''}`]);
  return `<section class="card" id="odoo"><h2>Odoo link</h2>${defList(rows)}</section>`;
}

function outboxCard(m: PageModel): string {
  const c = m.outbox;
  const fig = (label: string, n: number, cls = '') => `<div class="fig ${cls}"><div class="n">${formatCount(n)}</div><div class="l">${esc(label)}</div></div>`;
  const oldest =
    c.oldestUnfinishedAt !== null
      ? `Oldest waiting since ${esc(formatClock(c.oldestUnfinishedAt, m.now, m.timeZone))} (${esc(formatSpan(m.now - c.oldestUnfinishedAt))})`
      : 'Nothing waiting';
  return (
    `<section class="card" id="outbox"><h2>Outbox</h2><div class="figs">` +
    fig('pending', c.pending + c.inflight) +
    fig('retrying', c.retrying, c.retrying ? 'warn' : '') +
    fig('parked', c.parked, c.parked ? 'alarm' : '') +
    (c.flagged ? fig('flagged', c.flagged, 'warn') : '') +
    fig('done', c.done, 'ok') +
    `</div><p class="oldest">${oldest}</p>` +
    `<p class="muted">${formatCount(c.inflight)} in flight · ${formatCount(c.skipped)} skipped · ${formatCount(c.duplicates)} duplicates ignored · ${formatCount(c.invalid)} invalid inputs kept</p></section>`
  );
}

function throughputCard(m: PageModel): string {
  const clock = (ms: number) => formatClock(ms, m.now, m.timeZone).slice(0, 5);
  const sum = (s: MinuteCounts[]) => s.reduce((a, b) => ({ r: a.r + b.received, s: a.s + b.sent }), { r: 0, s: 0 });
  const t5 = sum(m.throughput.last5);
  const t60 = sum(m.throughput.last60);
  return (
    `<section class="card wide" id="throughput"><h2>Throughput</h2>` +
    `<div class="charts"><figure><figcaption>Last 5 minutes: <b>${formatCount(t5.r)}</b> received, <b>${formatCount(t5.s)}</b> sent</figcaption>` +
    throughputChart(m.throughput.last5, { label: 'events per minute, last 5 minutes', clock }) +
    `</figure><figure><figcaption>Last hour: <b>${formatCount(t60.r)}</b> received, <b>${formatCount(t60.s)}</b> sent</figcaption>` +
    throughputChart(m.throughput.last60, { label: 'events per minute, last hour', clock }) +
    `</figure></div><p class="legend"><span class="key rcv"></span> received <span class="key snt"></span> sent to Odoo · per minute, since the agent started</p></section>`
  );
}

function sourcesSection(m: PageModel): string {
  const items = m.sources.map((s) => {
    const state = !s.enabled
      ? '<span class="pill muted">disabled</span>'
      : s.connected
        ? '<span class="pill ok">connected</span>'
        : '<span class="pill alarm">not connected</span>';
    const err = s.lastError
      ? `<div class="err">${esc(clip(s.lastError.message, 240))} <span class="muted">${esc(formatAge(s.lastError.at, m.now))}</span></div>`
      : '';
    return (
      `<article class="src"><div class="row"><b class="name">${esc(s.name)}</b> <span class="muted">${esc(s.type)}</span> ${state}</div>` +
      `<div>Last data: ${s.lastDataAt ? `${esc(formatClock(s.lastDataAt, m.now, m.timeZone))} (${esc(formatAge(s.lastDataAt, m.now))})` : 'none since start'}</div>${err}${devicesList(s.devices, m.now)}</article>`
    );
  });
  return `<section id="sources"><h2>Sources <span class="count">${m.sources.length}</span></h2>${items.length ? `<div class="srcs">${items.join('')}</div>` : '<p class="muted">No sources configured.</p>'}</section>`;
}

function clocksSection(m: PageModel): string {
  const c = m.clocks;
  if (!c || (c.readings.length === 0 && c.gatewayStamped.length === 0)) return '';
  const limit = `${Math.round(c.warnOffsetMs / 100) / 10} s`;
  const warnings = c.readings.filter((r) => r.warning).length;
  const rows = c.readings.map((r) => {
    const pill = r.warning ? `<span class="pill warn">more than ${esc(limit)} off</span>` : '<span class="pill ok">ok</span>';
    const what = r.kind === 'odoo' ? 'Odoo (Date header of its answers)' : `source <b>${esc(r.name)}</b> (its time stamps)`;
    return `<tr data-clock="${esc(r.name)}"><td>${what}</td><td class="num">${signedSeconds(r.offsetMs)}</td><td>${esc(describeOffset(r.name, r.offsetMs, r.uncertaintyMs))}</td><td>${pill}</td></tr>`;
  });
  const stamped = c.gatewayStamped.length
    ? `<p class="muted">Stamped by this gateway on arrival (no clock of their own to compare): ${esc(c.gatewayStamped.join(', '))}.</p>`
    : '';
  return (
    `<section id="clocks"><h2>Clocks${warnings ? ` <span class="count">${warnings}</span>` : ''}</h2>` +
    `<p class="muted">Each clock against this gateway's; a warning past ${esc(limit)} (clocks.warnOffsetS). Events keep the time their source gave; set every clock to NTP.</p>` +
    (rows.length
      ? `<div class="scroll"><table><thead><tr><th>Clock</th><th>Offset</th><th></th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
      : '') +
    stamped +
    `</section>`
  );
}

/** `+2.4 s`, `-0.3 s`. */
function signedSeconds(ms: number): string {
  const s = Math.round(ms / 100) / 10;
  return `${s > 0 ? '+' : s < 0 ? '−' : ''}${Math.abs(s)} s`;
}

/** Sparkplug edge nodes and devices: online, or stale since their death (last values kept, quality bad). */
export function devicesList(devices: DeviceHealth[] | undefined, now: number): string {
  if (!devices || devices.length === 0) return '';
  const shown = devices.slice(0, 100);
  const rows = shown.map((d) => {
    const pill =
      d.state === 'online'
        ? '<span class="pill ok">online</span>'
        : d.state === 'stale'
          ? `<span class="pill alarm">stale</span> <span class="muted">since ${esc(formatClock(d.since!, now))}</span>`
          : '<span class="pill muted">not born yet</span>';
    const values = d.values
      .map(
        (v) =>
          `<tr data-quality="${v.quality}"><td>${esc(clip(v.metric, 80))}</td><td><code>${esc(clip(JSON.stringify(v.value) ?? 'null', 60))}</code></td><td>${esc(v.quality)}</td></tr>`,
      )
      .join('');
    const more = d.metrics > d.values.length ? `<p class="muted small">${formatCount(d.metrics - d.values.length)} more not shown</p>` : '';
    return (
      `<li data-device="${esc(d.name)}" data-state="${d.state}"><b>${esc(d.name)}</b> ${pill} <span class="muted">${formatCount(d.metrics)} metrics</span>` +
      (values
        ? `<details><summary class="btn">Last values</summary><table><thead><tr><th>Metric</th><th>Value</th><th>Quality</th></tr></thead><tbody>${values}</tbody></table>${more}</details>`
        : '') +
      `</li>`
    );
  });
  const rest = devices.length > shown.length ? `<li class="muted">${formatCount(devices.length - shown.length)} more</li>` : '';
  return `<ul class="devices">${rows.join('')}${rest}</ul>`;
}

function flowsSection(m: PageModel): string {
  if (m.flows.length === 0) return '';
  const held = m.flows.reduce((n, f) => n + f.held, 0);
  const rows = m.flows.map((f) => {
    const since =
      f.heldSince !== null
        ? `${esc(formatClock(f.heldSince, m.now, m.timeZone))} (${esc(formatSpan(m.now - f.heldSince))})`
        : '<span class="muted">nothing held</span>';
    const next = f.nextFlushAt !== null ? esc(formatClock(f.nextFlushAt, m.now, m.timeZone)) : '<span class="muted">not scheduled</span>';
    return (
      `<tr data-flow="${esc(f.name)}"><td><b>${esc(f.name)}</b></td><td>${f.mode === 'rollup' ? 'roll-up' : 'batch'}</td><td>${esc(f.types.join(', '))}</td>` +
      `<td class="num">${formatCount(f.held)}</td><td class="num">${formatCount(f.keys)}</td><td>${since}</td><td>${next} <span class="muted"><code>${esc(f.cron)}</code></span></td>` +
      (m.offerActions
        ? `<td>${f.held > 0 ? `<form method="post" action="/flows/release" class="inline">${csrfField(m)}<input type="hidden" name="flow" value="${esc(f.name)}"><button class="btn" type="submit">Release now</button></form>` : ''}</td>`
        : '') +
      `</tr>`
    );
  });
  return (
    `<section id="flows"><h2>Held for flows <span class="count">${formatCount(held)}</span></h2>` +
    `<p class="muted">These events are received and stored on this gateway. Each flow sends them at its next release: a roll-up as one event per order and product, a batch as they are. An event of another type for the same key releases that key's held events first, so order is kept.</p>` +
    `<div class="scroll"><table><thead><tr><th>Flow</th><th>Mode</th><th>Event types</th><th>Held</th><th>Keys</th><th>Waiting since</th><th>Next release</th>${m.offerActions ? '<th></th>' : ''}</tr></thead><tbody>${rows.join('')}</tbody></table></div></section>`
  );
}

/** Events dated in a locked accounting period: a state of their own, with the two decisions a supervisor has. */
function closedPeriodSection(m: PageModel): string {
  const held = m.closedPeriod?.events ?? [];
  if (held.length === 0) return '';
  const until = m.closedPeriod?.closedUntil ?? null;
  const open = until !== null ? nextDay(until) : null;
  return (
    `<section id="closed-period"><h2>Closed period <span class="count alarm">${formatCount(held.length)}</span></h2>` +
    `<p>These events are dated in a period Odoo's accounting has locked${until !== null ? ` (up to <b>${esc(until)}</b>)` : ''}, so they are held instead of being sent (or Odoo refused them). ` +
    `<b>Post at first open date</b> writes them to Odoo on ${open !== null ? `<b>${esc(open)}</b>` : 'the first open date'}; each keeps its own time here and in the audit log. Or <b>Skip</b> it with a reason. If the period is reopened in Odoo, <b>Retry</b>.</p>` +
    held.map((r) => parkedEvent(m, r, open)).join('') +
    `</section>`
  );
}

function exceptionSection(m: PageModel): string {
  const total = m.outbox.parked;
  const intro =
    total === 0
      ? '<p class="muted">No parked events: nothing needs a person.</p>'
      : `<p>Odoo refused these events. Each keeps its place: later events of the same key wait behind it (unless its type may be skipped). Fix the cause in Odoo and <b>Retry</b>, correct a field and retry with <b>Edit</b>, or <b>Skip</b> it with a reason.</p>` +
        (!m.offerActions ? '<p class="muted">Your role may only view; a supervisor can retry, skip or edit.</p>' : '');
  const more = total > m.parked.length ? `<p class="muted">Showing the oldest ${m.parked.length} of ${formatCount(total)}.</p>` : '';
  const bulk =
    m.isAdmin && total > 1
      ? `<form method="post" action="/events/retry-all" class="inline">${csrfField(m)}<button class="btn" type="submit">Retry all ${formatCount(total)} parked</button></form>`
      : '';
  const shown = m.parked.filter((r) => r.errorCode !== CLOSED_PERIOD);
  return `<section id="exceptions"><h2>Exception queue <span class="count ${total ? 'alarm' : ''}">${formatCount(total)}</span></h2>${intro}${bulk}${shown.map((r) => parkedEvent(m, r)).join('')}${more}</section>`;
}

/** Events the edge check stopped before they were sent: resolved like parked ones. */
function flaggedSection(m: PageModel): string {
  const total = m.outbox.flagged ?? 0;
  if (total === 0) return '';
  const shown = m.flagged ?? [];
  const more = total > shown.length ? `<p class="muted">Showing the oldest ${shown.length} of ${formatCount(total)}.</p>` : '';
  return (
    `<section id="flagged"><h2>Flagged at the edge <span class="count warn">${formatCount(total)}</span></h2>` +
    `<p>Odoo would refuse these events, going by the master data the agent pulled from Odoo${
      m.masterDataAt ? ` (last pulled ${esc(formatClock(m.masterDataAt, m.now))}, ${esc(formatSpan(m.now - m.masterDataAt))} ago)` : ''
    }: they were not sent. Each keeps its place like a parked event. ` +
    `Fix the name in Odoo (the agent looks again at every master-data pull and sends them by itself), correct a field with <b>Edit</b>, ` +
    `<b>Retry</b> to send it as it is and let Odoo decide, or <b>Skip</b> it with a reason.</p>` +
    (!m.offerActions ? '<p class="muted">Your role may only view; a supervisor can retry, skip or edit.</p>' : '') +
    `${shown.map((r) => parkedEvent(m, r)).join('')}${more}</section>`
  );
}

/** A parked event with its actions; `openDate` (a closed-period event) adds "post at first open date". */
function parkedEvent(m: PageModel, r: OutboxRecord, openDate?: string | null): string {
  const payload = (r.event.payload ?? {}) as Record<string, unknown>;
  const fields = Object.keys(payload);
  const listId = `f-${r.seq}`;
  const payloadRows = fields.map((k) => `<span class="kv"><span class="k">${esc(k)}</span> ${esc(clip(fieldText(payload[k]), 80))}</span>`).join('');
  const actions = m.offerActions
    ? `<div class="actions">` +
      `<form method="post" action="/events/retry">${csrfField(m)}<input type="hidden" name="id" value="${esc(r.id)}"><button class="btn primary" type="submit">Retry</button></form>` +
      `<details><summary class="btn">Edit…</summary><form method="post" action="/events/edit" class="stack">${csrfField(m)}<input type="hidden" name="id" value="${esc(r.id)}">` +
      `<label>Field <input name="field" list="${listId}" value="${esc(fields[0] ?? '')}" required autocomplete="off" autocapitalize="off"></label>` +
      `<datalist id="${listId}">${fields.map((f) => `<option value="${esc(f)}">`).join('')}</datalist>` +
      `<label>New value <input name="value" required autocomplete="off" autocapitalize="off"></label>` +
      `<button class="btn primary" type="submit">Save and retry</button></form></details>` +
      (openDate !== undefined
        ? `<form method="post" action="/events/post-open">${csrfField(m)}<input type="hidden" name="id" value="${esc(r.id)}"><button class="btn primary" type="submit">Post at first open date${openDate ? ` (${esc(openDate)})` : ''}</button></form>`
        : '') +
      `<details><summary class="btn">Skip…</summary><form method="post" action="/events/skip" class="stack">${csrfField(m)}<input type="hidden" name="id" value="${esc(r.id)}">` +
      `<label>Reason (kept in the audit log) <input name="reason" required minlength="3" maxlength="500" autocomplete="off"></label>` +
      `<button class="btn danger" type="submit">Skip: never send it</button></form></details>` +
      `</div>`
    : '';
  return (
    `<article class="event" data-id="${esc(r.id)}"><div class="row"><b>${esc(r.type)}</b> <span class="skey">${esc(r.sequenceKey)}</span>` +
    `<span class="muted age">waiting ${esc(formatSpan(m.now - r.createdAt))} · ${r.state === 'flagged' ? 'flagged' : 'parked'} ${esc(formatAge(r.updatedAt, m.now))} · ${r.attempts} ${r.attempts === 1 ? 'attempt' : 'attempts'}</span></div>` +
    `<div class="odoo-msg">${esc(r.error ?? 'no message')}${r.errorCode ? ` <span class="muted">(${esc(r.errorCode)})</span>` : ''}</div>` +
    `<div class="payload">${payloadRows}</div><div class="muted small">id ${esc(r.id)} · from ${esc(r.event.source)} · occurred ${esc(formatClock(r.event.occurredAt, m.now, m.timeZone))}</div>` +
    actions +
    `</article>`
  );
}

function invalidSection(m: PageModel): string {
  const n = m.outbox.invalid;
  const rows = m.invalid.map(
    (x) =>
      `<tr><td>${esc(formatClock(x.receivedAt, m.now, m.timeZone))}</td><td>${esc(x.source)}</td><td>${esc(clip(x.origin, 60))}</td><td>${esc(clip(x.reason, 160))}</td><td><code>${esc(clip(x.encoding === 'base64' ? `(binary) ${x.raw}` : x.raw, 80))}</code></td></tr>`,
  );
  return (
    `<section id="invalid"><h2>Invalid input <span class="count ${n ? 'warn' : ''}">${formatCount(n)}</span></h2>` +
    (rows.length
      ? `<p class="muted">Input that could not be read is kept here (never dropped). The latest:</p><div class="scroll"><table><thead><tr><th>Received</th><th>Source</th><th>From</th><th>Why</th><th>Input</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
      : '<p class="muted">None.</p>') +
    conflictsPart(m) +
    `</section>`
  );
}

/** Events that came again with an id already used by other content: the first was kept, the later one is shown here. */
function conflictsPart(m: PageModel): string {
  const n = m.outbox.conflicts;
  if (!n) return '';
  const payload = (e: { payload: unknown }) => esc(clip(JSON.stringify(e.payload), 120));
  const rows = (m.conflicts ?? []).map(
    (c) =>
      `<tr><td>${esc(formatClock(c.at, m.now, m.timeZone))}</td><td><code>${esc(clip(c.id, 60))}</code></td><td><code>${payload(c.kept)}</code></td><td><code>${payload(c.refused)}</code></td></tr>`,
  );
  return (
    `<h3 id="conflicts">Same id, other content <span class="count warn">${formatCount(n)}</span></h3>` +
    `<p class="muted">A source sent an event again under an id already used, with other content (a corrected message?). The first was kept and sent; the later one is kept here. Send a correction under its own id if the later one is right.</p>` +
    (rows.length
      ? `<div class="scroll"><table><thead><tr><th>At</th><th>Event id</th><th>Kept</th><th>Refused</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
      : '')
  );
}

function auditSection(m: PageModel): string {
  const rows = m.audit.map(
    (a) =>
      `<tr><td>${esc(formatClock(a.at, m.now, m.timeZone))}</td><td>${esc(a.actor)}</td><td><b>${esc(a.action)}</b></td><td>${esc(clip(auditDetail(a.detail), 200))}</td></tr>`,
  );
  return (
    `<section id="audit"><h2>Audit log</h2>` +
    (rows.length
      ? `<div class="scroll"><table><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Detail</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
      : '<p class="muted">No actions yet.</p>') +
    `</section>`
  );
}

/** One line of an audit entry's detail, in words. */
export function auditDetail(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  if (typeof detail !== 'object') return String(detail);
  const d = detail as Record<string, unknown>;
  const parts: string[] = [];
  if (Array.isArray(d.ids))
    parts.push(`${d.ids.length === 1 ? 'event' : `${d.ids.length} events`} ${(d.ids as unknown[]).slice(0, 5).join(', ')}${d.ids.length > 5 ? ', …' : ''}`);
  if (typeof d.id === 'string') parts.push(`event ${d.id}`);
  if (typeof d.field === 'string') parts.push(`${d.field}: ${fieldText(d.from)} → ${fieldText(d.to)}`);
  if (typeof d.reason === 'string') parts.push(`reason: ${d.reason}`);
  for (const k of Object.keys(d)) {
    if (['ids', 'id', 'field', 'from', 'to', 'reason', 'filter'].includes(k)) continue;
    parts.push(`${k}: ${fieldText(d[k])}`);
  }
  return parts.join(' · ');
}

function fieldText(v: unknown): string {
  if (v === undefined) return '(none)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function defList(rows: Array<[string, string]>): string {
  return `<dl class="kvs">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function csrfField(m: { csrf: string | undefined }): string {
  return m.csrf ? `<input type="hidden" name="csrf" value="${esc(m.csrf)}">` : '';
}

export interface LoginModel {
  title: string;
  token: string;
  next: string;
  error?: string;
  /** Shown when no user exists yet. */
  noUsers: boolean;
  nonce: string;
}

export function renderLoginPage(m: LoginModel): string {
  return document(
    `Log in · ${m.title}`,
    m.nonce,
    `<main class="login"><h1>${esc(m.title)}</h1><h2>Log in</h2>` +
      (m.error ? `<div class="banner alarm" role="alert">${esc(m.error)}</div>` : '') +
      (m.noUsers ? `<p class="banner warn">No users exist yet. On the gateway, an administrator adds one with <code>edge-agent users add</code>.</p>` : '') +
      `<form method="post" action="/login" class="stack">` +
      `<input type="hidden" name="token" value="${esc(m.token)}"><input type="hidden" name="next" value="${esc(m.next)}">` +
      `<label>Name <input name="user" autocomplete="username" autocapitalize="off" autocorrect="off" spellcheck="false" required autofocus></label>` +
      `<label>Password <input name="password" type="password" autocomplete="current-password" required></label>` +
      `<button class="btn primary" type="submit">Log in</button></form>` +
      `<p><a href="/">Back to the status page</a></p></main>`,
  );
}

/** A short page for refusals and errors (403, 404, 429...). */
export function renderMessagePage(
  title: string,
  text: string,
  nonce: string,
  link: { href: string; label: string } = { href: '/', label: 'Back to the status page' },
): string {
  return document(
    title,
    nonce,
    `<main class="login"><h1>${esc(title)}</h1><p>${esc(text)}</p><p><a class="btn" href="${esc(link.href)}">${esc(link.label)}</a></p></main>`,
  );
}

function document(title: string, nonce: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="color-scheme" content="light dark"><meta name="referrer" content="same-origin">` +
    `<link rel="icon" href="data:,">` +
    `<noscript><meta http-equiv="refresh" content="${REFRESH_MS / 1000 + 5}"></noscript>` +
    `<title>${esc(title)}</title><style nonce="${esc(nonce)}">${CSS}</style></head><body>${body}</body></html>`
  );
}

function refreshScript(nonce: string): string {
  return `<script nonce="${esc(nonce)}">${REFRESH_JS.replace('__MS__', String(REFRESH_MS))}</script>`;
}

/**
 * Every few seconds, load the page again and swap in its main part, unless
 * the supervisor is typing in a form or has one open. When the agent does not
 * answer, say so at the top instead of showing old figures as if current.
 */
const REFRESH_JS = `(function(){
var main=document.getElementById('status'),upd=document.getElementById('updated'),stale=document.getElementById('stale'),lastOk=new Date();
function busy(){var a=document.activeElement;if(a&&main.contains(a)&&/^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(a.tagName))return true;return !!main.querySelector('details[open]');}
function down(why){stale.hidden=false;stale.textContent='The agent does not answer ('+why+') since '+lastOk.toLocaleTimeString()+': the figures below are from then.';}
function tick(){if(busy()||document.hidden)return;
fetch(location.pathname+'?part=main',{cache:'no-store',credentials:'same-origin'}).then(function(r){
if(r.redirected&&new URL(r.url).pathname==='/login'){location.href=r.url;return;}
if(!r.ok){down('HTTP '+r.status);return;}
return r.text().then(function(t){var tpl=document.createElement('template');tpl.innerHTML=t;var m=tpl.content.getElementById('status');if(!m){down('unexpected answer');return;}
if(busy())return;main.innerHTML=m.innerHTML;upd.textContent=m.getAttribute('data-updated')||'';stale.hidden=true;lastOk=new Date();});
}).catch(function(){down('no connection');});}
setInterval(tick,__MS__);})();`;

const CSS = `
:root{--bg:#f4f5f7;--card:#fff;--fg:#1b1d21;--muted:#5d6470;--line:#d9dce1;--ok:#16753a;--okbg:#e3f4e8;--warn:#8a5200;--warnbg:#fff1d6;--alarm:#b3261e;--alarmbg:#fde7e5;--accent:#1f5fbf;--rcv:#9fb7dd;--snt:#1f5fbf}
@media (prefers-color-scheme:dark){:root{--bg:#121417;--card:#1c1f24;--fg:#eceef1;--muted:#a3a9b3;--line:#30353c;--ok:#5fd08a;--okbg:#143321;--warn:#f0b44c;--warnbg:#3a2a0c;--alarm:#ff7b72;--alarmbg:#42130f;--accent:#7aa7ff;--rcv:#3c5a8c;--snt:#7aa7ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:17px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;-webkit-text-size-adjust:100%}
a{color:var(--accent)}
h1{font-size:1.35rem;margin:0}
h2{font-size:1.15rem;margin:0 0 .6rem}
code{font:.9em ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.top{display:flex;flex-wrap:wrap;gap:.75rem;justify-content:space-between;align-items:center;padding:.8rem 1rem;background:var(--card);border-bottom:1px solid var(--line)}
.sub,.muted{color:var(--muted)}
.small{font-size:.85rem}
.who{display:flex;gap:.6rem;align-items:center}
.who form{margin:0}
.role{font-size:.8rem;padding:.1rem .45rem;border:1px solid var(--line);border-radius:1rem;color:var(--muted)}
main{padding:1rem;max-width:1200px;margin:0 auto}
main>section{margin:1.25rem 0}
footer{padding:1rem;text-align:center;color:var(--muted);font-size:.9rem}
.banner{margin:.75rem 1rem;padding:.8rem 1rem;border-radius:.6rem;font-weight:600}
.banner.ok{background:var(--okbg);color:var(--ok)}
.banner.warn{background:var(--warnbg);color:var(--warn)}
.banner.alarm{background:var(--alarmbg);color:var(--alarm)}
.headline{border-radius:.8rem;padding:1rem 1.2rem;border-left:.55rem solid var(--ok);background:var(--card)}
.headline.warn{border-left-color:var(--warn)}
.headline.alarm{border-left-color:var(--alarm)}
.headline p{margin:.35rem 0;display:flex;gap:.6rem;align-items:baseline}
.headline .big{font-size:1.3rem;font-weight:650}
.dot{flex:none;width:.8rem;height:.8rem;border-radius:50%;background:var(--ok);display:inline-block}
.lv-warn .dot{background:var(--warn)}
.lv-alarm .dot{background:var(--alarm)}
.lv-alarm{color:var(--alarm)}
.grid{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));align-items:start;margin-top:1rem}
.card,.src,.event{background:var(--card);border:1px solid var(--line);border-radius:.8rem;padding:1rem}
.card.wide{grid-column:1/-1}
.kvs{display:grid;grid-template-columns:max-content 1fr;gap:.35rem .9rem;margin:0}
.kvs dt{color:var(--muted)}
.kvs dd{margin:0;overflow-wrap:anywhere}
.pill{display:inline-block;padding:.15rem .6rem;border-radius:1rem;font-weight:650;font-size:.9rem}
.pill.ok{background:var(--okbg);color:var(--ok)}
.pill.warn{background:var(--warnbg);color:var(--warn)}
.pill.alarm{background:var(--alarmbg);color:var(--alarm)}
.pill.muted{background:var(--bg)}
.figs{display:grid;grid-template-columns:repeat(4,1fr);gap:.5rem}
.fig{text-align:center;padding:.5rem .2rem;border-radius:.6rem;background:var(--bg)}
.fig .n{font-size:1.7rem;font-weight:700;font-variant-numeric:tabular-nums}
.fig .l{font-size:.85rem;color:var(--muted)}
.fig.warn .n{color:var(--warn)}
.fig.alarm .n{color:var(--alarm)}
.fig.ok .n{color:var(--ok)}
.oldest{font-weight:600;margin:.7rem 0 .3rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:1rem}
figure{margin:0}
figcaption{margin-bottom:.3rem}
.chart{width:100%;height:auto;display:block}
.chart .rcv{fill:var(--rcv)}
.chart .snt{fill:var(--snt)}
.chart .axis{stroke:var(--line);stroke-width:1}
.chart .lbl{fill:var(--muted);font-size:11px}
.legend{color:var(--muted);font-size:.9rem}
.key{display:inline-block;width:.9rem;height:.9rem;border-radius:.2rem;vertical-align:-.1rem}
.key.rcv{background:var(--rcv)}
.key.snt{background:var(--snt)}
.count{display:inline-block;min-width:1.8rem;padding:0 .5rem;border-radius:1rem;background:var(--line);text-align:center;font-size:.95rem}
.count.alarm{background:var(--alarmbg);color:var(--alarm)}
.count.warn{background:var(--warnbg);color:var(--warn)}
.srcs{display:grid;gap:.75rem;grid-template-columns:repeat(auto-fill,minmax(280px,1fr))}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-bottom:.3rem}
.name{font-size:1.05rem}
.err{color:var(--alarm);overflow-wrap:anywhere}
.event{margin:.75rem 0;border-left:.4rem solid var(--alarm)}
.event .skey{font-family:ui-monospace,Menlo,Consolas,monospace;background:var(--bg);padding:.05rem .4rem;border-radius:.3rem}
.event .age{margin-left:auto}
.odoo-msg{font-weight:600;color:var(--alarm);margin:.3rem 0;overflow-wrap:anywhere}
.payload{display:flex;flex-wrap:wrap;gap:.35rem;margin:.4rem 0}
.kv{background:var(--bg);border-radius:.35rem;padding:.1rem .45rem;font-size:.92rem;overflow-wrap:anywhere}
.kv .k{color:var(--muted)}
.actions{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-start;margin-top:.6rem}
.actions form{margin:0}
.devices{list-style:none;padding:0;margin:.4em 0 0}.devices li{margin:.2em 0}
details{flex:0 0 auto}
details[open]{flex-basis:100%}
summary{list-style:none}
summary::-webkit-details-marker{display:none}
.stack{display:flex;flex-direction:column;gap:.6rem;margin-top:.6rem;max-width:32rem}
.stack label{display:flex;flex-direction:column;gap:.25rem;font-weight:600}
input{font:inherit;min-height:48px;padding:.5rem .7rem;border:1px solid var(--line);border-radius:.5rem;background:var(--card);color:var(--fg)}
.btn{display:inline-flex;align-items:center;justify-content:center;min-height:48px;min-width:48px;padding:.5rem 1.1rem;border-radius:.55rem;border:1px solid var(--line);background:var(--card);color:var(--fg);font:inherit;font-weight:650;cursor:pointer;text-decoration:none}
.btn.primary{background:var(--accent);border-color:var(--accent);color:#fff}
.btn.danger{background:var(--alarm);border-color:var(--alarm);color:#fff}
.btn.quiet{font-weight:500}
.inline{display:inline-block;margin:.2rem 0 .6rem}
.scroll{overflow-x:auto}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:.6rem}
th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85rem;color:var(--muted);font-weight:600}
.login{max-width:28rem;margin:2rem auto;padding:1rem}
.login h1{margin-bottom:1rem}
@media (max-width:560px){.figs{grid-template-columns:repeat(2,1fr)}.headline .big{font-size:1.12rem}.event .age{margin-left:0}}
`;
