import type Database from 'better-sqlite3';

/**
 * Numbered schema migrations. PRAGMA user_version holds the last one applied;
 * each runs in its own transaction. Never edit a released migration: add one.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'events, heads and counters',
    sql: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        skey TEXT NOT NULL,
        state TEXT NOT NULL,
        blocking INTEGER NOT NULL DEFAULT 1,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER,
        error TEXT,
        error_code TEXT,
        odoo TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX events_id ON events(id);
      CREATE INDEX events_open ON events(skey, seq) WHERE state NOT IN ('done', 'skipped');
      CREATE INDEX events_finished ON events(updated_at) WHERE state IN ('done', 'skipped');
      CREATE TABLE heads (
        skey TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        next_at INTEGER
      ) WITHOUT ROWID;
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO counters(name, value) VALUES
        ('pending', 0), ('inflight', 0), ('retrying', 0), ('parked', 0), ('done', 0), ('skipped', 0), ('duplicates', 0);
    `,
  },
  {
    version: 2,
    name: 'invalid input, rule state, audit, edits',
    sql: `
      ALTER TABLE events ADD COLUMN original TEXT;
      CREATE TABLE invalid_input (
        rowid INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        origin TEXT NOT NULL,
        reason TEXT NOT NULL,
        raw TEXT NOT NULL,
        encoding TEXT NOT NULL DEFAULT 'utf8',
        received_at TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX invalid_created ON invalid_input(created_at);
      CREATE TABLE rule_state (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE audit (
        rowid INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      INSERT INTO counters(name, value) VALUES ('invalid', 0);
    `,
  },
  {
    version: 3,
    name: 'master data cache',
    sql: `
      CREATE TABLE master_data (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (kind, key)
      ) WITHOUT ROWID;
      CREATE TABLE master_data_meta (kind TEXT PRIMARY KEY, refreshed_at INTEGER NOT NULL, rows INTEGER NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'batch and roll-up flows',
    sql: `
      -- Events a flow holds until its schedule fires; n is their arrival order.
      -- A row stays after the flush (flushed_into = the event it went into) so
      -- its id keeps counting as a duplicate until retention prunes it.
      CREATE TABLE flow_members (
        n INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        flow TEXT NOT NULL,
        mode TEXT NOT NULL,
        type TEXT NOT NULL,
        skey TEXT NOT NULL,
        event TEXT NOT NULL,
        held_at INTEGER NOT NULL,
        flushed_into TEXT,
        flushed_at INTEGER
      );
      CREATE UNIQUE INDEX flow_members_id ON flow_members(id);
      CREATE INDEX flow_held_by_key ON flow_members(skey, n) WHERE flushed_into IS NULL;
      CREATE INDEX flow_held_by_flow ON flow_members(flow, skey) WHERE flushed_into IS NULL;
      CREATE INDEX flow_flushed ON flow_members(flushed_at) WHERE flushed_into IS NOT NULL;
      -- Types whose members went into roll-ups (new ids), and the last time: an
      -- event of such a type checks flow_members for its id even after its flow
      -- was removed from the config, until retention has pruned those members.
      CREATE TABLE flow_rollup_types (type TEXT PRIMARY KEY, last_at INTEGER NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: 'key index by arrival bucket',
    sql: `
      -- Open events by key within buckets of 1024 seqs. Ordered by key alone,
      -- every commit dirtied about one index page per key it touched (50 keys:
      -- about 200 KB of WAL for 125 events); new events now land in the
      -- newest bucket's few pages. A key's events are found bucket by bucket.
      DROP INDEX events_open;
      CREATE INDEX events_open ON events((seq >> 10), skey, seq) WHERE state NOT IN ('done', 'skipped');
      -- A seq in the key's newest bucket: no open event of the key lies beyond
      -- that bucket, so a search for the key's next events stops there (NULL:
      -- unknown, search up to the newest event).
      ALTER TABLE heads ADD COLUMN tail INTEGER;
    `,
  },
  {
    version: 6,
    name: 'conflicts: the same id with other content',
    sql: `
      -- An event whose id is already in the outbox but whose content differs
      -- (a MES that resent a corrected message): the first stays, the second
      -- is kept here for a person to see, never silently dropped.
      CREATE TABLE conflicts (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        kept TEXT NOT NULL,
        refused TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX conflicts_at ON conflicts(at);
      INSERT INTO counters(name, value) VALUES ('conflicts', 0);
    `,
  },
  {
    version: 7,
    name: 'order release',
    sql: `
      -- The released orders as last read from Odoo (body: the order as the
      -- release keeps it), republished after a restart while Odoo is away.
      CREATE TABLE release_orders (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        as_of INTEGER NOT NULL,
        acked_at INTEGER,
        acked_version TEXT,
        acked_by TEXT
      );
      -- Cursors (per model), when Odoo was last read, and the like.
      CREATE TABLE release_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      -- What the release could not use (an unknown work center, foreign
      -- content on its topics, an acknowledgement of an unknown order, a
      -- refused write): one row per kind and subject, counted.
      CREATE TABLE release_problems (
        rowid INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL,
        raw TEXT,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        count INTEGER NOT NULL DEFAULT 1
      );
      CREATE UNIQUE INDEX release_problems_subject ON release_problems(kind, subject);
    `,
  },
  {
    version: 8,
    name: "odoo's side of orders, reconciliation runs",
    sql: `
      -- What Odoo held for each manufacturing order the outbox names, as last
      -- read (value: state, quantities, consumption and scrap), and when: the
      -- per-order sync view works from it while Odoo is out of reach.
      CREATE TABLE odoo_orders (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        read_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- Each reconciliation against Odoo: its window and what it found (JSON).
      CREATE TABLE reconcile_runs (
        rowid INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        result TEXT NOT NULL
      );
    `,
  },
  {
    version: 9,
    name: 'edge check: flagged events, events queued before master data',
    sql: `
      -- Flagged: held at the edge because the master data cached from Odoo
      -- says Odoo would refuse the event (a state of its own, error = why).
      INSERT INTO counters(name, value) VALUES ('flagged', 0);
      CREATE INDEX events_flagged ON events(seq) WHERE state = 'flagged';
      -- 1: queued before there was master data to check it against; checked
      -- when the first pull arrives, if it is still pending then.
      ALTER TABLE events ADD COLUMN unchecked INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX events_unchecked ON events(seq) WHERE unchecked = 1;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Apply every migration above the database's version, up to `target`. Returns the versions applied. */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`outbox schema version ${current} is newer than this agent understands (${SCHEMA_VERSION}); upgrade the agent`);
  }
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}
