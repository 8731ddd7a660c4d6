import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentView } from '../runtime/view';
import { EVENT_STATES } from '../buffer/outbox';
import type { CircuitState } from '../sync/circuit';
import { ORDER_VERDICTS } from '../sync/order-view';

/**
 * The agent's Prometheus metrics, in a registry of their own (never the
 * process-wide default one). Figures the agent already keeps (per-source
 * counters of the pipeline, outbox states, the Odoo link) are read when
 * Prometheus scrapes; each settled request to Odoo is observed as it
 * happens (sent, parked, durations, errors).
 *
 * Counters restart at 0 with the agent, as Prometheus expects of counters.
 * Returns the registry: `await registry.metrics()` is one scrape, in
 * `registry.contentType`.
 */
const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'auth-failed'];

export function createMetrics(
  agent: AgentView,
  /** defaultMetrics: also the process's own figures (CPU, memory, event-loop delay); default true. */
  opts: { defaultMetrics?: boolean } = {},
): Registry {
  const registry = new Registry();
  const registers = [registry];

  const perSource = (pick: (s: { received: number; enqueued: number; duplicates: number; invalid: number }) => number) =>
    function collect(this: Counter<'source'>) {
      this.reset();
      for (const [source, s] of agent.intake().bySource) this.inc({ source }, pick(s));
    };

  new Counter({
    name: 'edge_events_received_total',
    help: 'Signals received from each source (readings, messages, scans) and handed to the rules.',
    labelNames: ['source'],
    registers,
    collect: perSource((s) => s.received),
  });
  new Counter({
    name: 'edge_events_enqueued_total',
    help: 'Events each source produced that were committed to the outbox.',
    labelNames: ['source'],
    registers,
    collect: perSource((s) => s.enqueued),
  });
  new Counter({
    name: 'edge_events_duplicate_total',
    help: 'Events already in the outbox (same id) and therefore ignored, per source.',
    labelNames: ['source'],
    registers,
    collect: perSource((s) => s.duplicates),
  });
  new Counter({
    name: 'edge_events_invalid_total',
    help: 'Input that could not be read (kept as invalid input, never dropped), per source.',
    labelNames: ['source'],
    registers,
    collect: perSource((s) => s.invalid),
  });
  new Counter({
    name: 'edge_events_refused_total',
    help: 'Signals refused because the outbox was full (the sources were told to hold back).',
    registers,
    collect(this: Counter) {
      this.reset();
      this.inc(agent.intake().refused);
    },
  });

  const sent = new Counter({
    name: 'edge_events_sent_total',
    help: 'Events delivered to Odoo, by event type.',
    labelNames: ['type'],
    registers,
  });
  const parked = new Counter({
    name: 'edge_events_parked_total',
    help: 'Events Odoo refused for good and that now wait for a person, by event type.',
    labelNames: ['type'],
    registers,
  });
  const requests = new Counter({
    name: 'edge_odoo_requests_total',
    help: 'Requests to Odoo by event type and result (done, retry, park, stop, down, split).',
    labelNames: ['type', 'result'],
    registers,
  });
  const duration = new Histogram({
    name: 'edge_odoo_request_duration_seconds',
    help: 'Time from sending a request to Odoo until it settled, by event type.',
    labelNames: ['type'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const errors = new Counter({
    name: 'edge_errors_total',
    help: 'Failed requests to Odoo by error class (ECONNREFUSED, HTTP_503, ValidationError, ...).',
    labelNames: ['class'],
    registers,
  });

  agent.onRequest((o) => {
    requests.inc({ type: o.type, result: o.result });
    duration.observe({ type: o.type }, o.durationMs / 1000);
    if (o.result === 'done') sent.inc({ type: o.type }, o.events);
    if (o.result === 'park') parked.inc({ type: o.type }, o.events);
    if (o.errorClass) errors.inc({ class: o.errorClass });
  });

  new Gauge({
    name: 'edge_outbox_events',
    help: 'Events in the outbox by state (pending, inflight, retrying, flagged, parked, done, skipped).',
    labelNames: ['state'],
    registers,
    collect(this: Gauge<'state'>) {
      const c = agent.outbox.counts();
      for (const state of EVENT_STATES) this.set({ state }, c[state]);
    },
  });
  new Gauge({
    name: 'edge_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest event not yet delivered (0 when nothing waits).',
    registers,
    collect(this: Gauge) {
      const at = agent.outbox.oldestUnfinishedAt();
      this.set(at === null ? 0 : Math.max(0, (Date.now() - at) / 1000));
    },
  });
  new Counter({
    name: 'edge_events_conflict_total',
    help: 'Events refused because their id was already used by an event with other content (kept for a person, see the status page).',
    registers,
    collect(this: Counter) {
      this.reset();
      this.inc(agent.outbox.counts().conflicts);
    },
  });
  new Gauge({
    name: 'edge_outbox_storage_ok',
    help: 'Whether events can be stored: 1 ok, 0.5 running low (disk space or the outbox bound), 0 commits fail (a full disk).',
    registers,
    collect(this: Gauge) {
      const s = agent.storage().state;
      this.set(s === 'ok' ? 1 : s === 'low' ? 0.5 : 0);
    },
  });
  new Gauge({
    name: 'edge_outbox_disk_free_bytes',
    help: "Free space on the outbox's file system.",
    registers,
    collect(this: Gauge) {
      const free = agent.storage().freeBytes;
      if (free !== null) this.set(free);
    },
  });
  new Counter({
    name: 'edge_outbox_write_failures_total',
    help: 'Outbox commits that failed (a full disk, an I/O error); the sources held those events and offered them again.',
    registers,
    collect(this: Counter) {
      this.reset();
      this.inc(agent.storage().write.failures);
    },
  });
  new Gauge({
    name: 'edge_flow_held_events',
    help: 'Events held by each batch or roll-up flow until its schedule releases them (received and stored, not yet queued for Odoo).',
    labelNames: ['flow'],
    registers,
    collect(this: Gauge<'flow'>) {
      this.reset();
      for (const f of agent.flows()) this.set({ flow: f.name }, f.held);
    },
  });
  new Gauge({
    name: 'edge_flow_oldest_held_age_seconds',
    help: 'Age of the oldest event each flow holds (0 when it holds nothing).',
    labelNames: ['flow'],
    registers,
    collect(this: Gauge<'flow'>) {
      this.reset();
      const now = Date.now();
      for (const f of agent.flows()) this.set({ flow: f.name }, f.heldSince === null ? 0 : Math.max(0, (now - f.heldSince) / 1000));
    },
  });
  new Gauge({
    name: 'edge_odoo_circuit_state',
    help: 'The Odoo link: 1 for the current state (closed = sending, open = Odoo unreachable, auth-failed = key refused).',
    labelNames: ['state'],
    registers,
    collect(this: Gauge<'state'>) {
      const s = agent.sync();
      for (const state of CIRCUIT_STATES) this.set({ state }, s?.circuit === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edge_odoo_up',
    help: '1 when the agent is sending to Odoo (circuit closed), 0 otherwise or when no Odoo is configured.',
    registers,
    collect(this: Gauge) {
      this.set(agent.sync()?.circuit === 'closed' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edge_odoo_last_success_timestamp_seconds',
    help: 'When Odoo last answered a request successfully (Unix time; 0 = not since start).',
    registers,
    collect(this: Gauge) {
      const at = agent.sync()?.lastSuccessAt;
      this.set(at ? at / 1000 : 0);
    },
  });
  new Gauge({
    name: 'edge_source_connected',
    help: '1 when the source is connected, by source name and type.',
    labelNames: ['source', 'type'],
    registers,
    collect(this: Gauge<'source' | 'type'>) {
      this.reset();
      for (const s of agent.sources()) this.set({ source: s.name, type: s.type }, s.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edge_source_last_data_timestamp_seconds',
    help: 'When each source last delivered data (Unix time; 0 = not since start).',
    labelNames: ['source'],
    registers,
    collect(this: Gauge<'source'>) {
      this.reset();
      for (const s of agent.sources()) this.set({ source: s.name }, s.lastDataAt ? Date.parse(s.lastDataAt) / 1000 : 0);
    },
  });

  if (agent.orders) {
    const orders = agent.orders.bind(agent);
    new Gauge({
      name: 'edge_orders',
      help: 'Open orders in the per-order sync view, by verdict (in-sync, pending, parked, differs, unknown).',
      labelNames: ['verdict'],
      registers,
      collect(this: Gauge<'verdict'>) {
        const v = orders();
        for (const verdict of ORDER_VERDICTS) this.set({ verdict }, v.counts[verdict]);
      },
    });
    new Gauge({
      name: 'edge_orders_odoo_read_age_seconds',
      help: "Age of the oldest read of Odoo's side among the orders in the view (-1: never read).",
      registers,
      collect(this: Gauge) {
        const at = orders().odooReadAt;
        this.set(at === null ? -1 : (Date.now() - at) / 1000);
      },
    });
  }
  if (agent.lastReconcile) {
    const last = agent.lastReconcile.bind(agent);
    new Gauge({
      name: 'edge_reconcile_events',
      help: 'The last reconciliation against Odoo: delivered events checked, by type and result (ok, missing, duplicated, differs, unverifiable).',
      labelNames: ['type', 'result'],
      registers,
      collect(this: Gauge<'type' | 'result'>) {
        this.reset();
        for (const [type, c] of Object.entries(last()?.result.byType ?? {}))
          for (const result of ['ok', 'missing', 'duplicated', 'differs', 'unverifiable'] as const) this.set({ type, result }, c[result]);
      },
    });
    new Gauge({
      name: 'edge_reconcile_last_run_timestamp_seconds',
      help: 'When the last reconciliation against Odoo finished (Unix time; 0 = never).',
      registers,
      collect(this: Gauge) {
        const run = last();
        this.set(run ? run.finishedAt / 1000 : 0);
      },
    });
  }
  new Gauge({
    name: 'edge_clock_offset_seconds',
    help: "Another clock minus the gateway's: Odoo's (from the Date header of its answers, clock=odoo) and each source's (its time stamps, clock=source); positive when it is ahead.",
    labelNames: ['clock', 'name'],
    registers,
    collect(this: Gauge<'clock' | 'name'>) {
      this.reset();
      for (const r of agent.clocks?.().readings ?? []) this.set({ clock: r.kind, name: r.name }, r.offsetMs / 1000);
    },
  });
  new Gauge({
    name: 'edge_clock_offset_warning',
    help: "Whether a clock is further from the gateway's than clocks.warnOffsetS (1) or not (0).",
    labelNames: ['clock', 'name'],
    registers,
    collect(this: Gauge<'clock' | 'name'>) {
      this.reset();
      for (const r of agent.clocks?.().readings ?? []) this.set({ clock: r.kind, name: r.name }, r.warning ? 1 : 0);
    },
  });

  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  if (agent.release) {
    new Gauge({
      name: 'edge_release_orders',
      help: 'Orders the release holds (open orders of this plant, as last read from Odoo).',
      registers,
      collect(this: Gauge) {
        this.set(agent.release?.()?.orders ?? 0);
      },
    });
    new Gauge({
      name: 'edge_release_age_seconds',
      help: 'Age of the released list: seconds since Odoo was last read (-1 when never).',
      registers,
      collect(this: Gauge) {
        const at = agent.release?.()?.asOf ?? null;
        this.set(at === null ? -1 : (Date.now() - at) / 1000);
      },
    });
    new Counter({
      name: 'edge_release_problems_total',
      help: 'What the release could not use, by kind (unknown work center, foreign content, unknown acknowledgement, refused write).',
      labelNames: ['kind'],
      registers,
      collect(this: Counter<'kind'>) {
        this.reset();
        for (const [kind, n] of Object.entries(agent.release?.()?.problems.counts ?? {})) this.inc({ kind }, n ?? 0);
      },
    });
  }
  return registry;
}
