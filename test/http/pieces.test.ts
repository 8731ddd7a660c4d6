import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutboxCounts } from '../../agent/buffer/outbox';
import { throughputChart } from '../../agent/http/chart';
import { currentValue, editCandidates, fieldPath } from '../../agent/http/edit-value';
import { clip, esc, formatAge, formatCount, formatSpan } from '../../agent/http/format';
import { headline, type HeadlineInput } from '../../agent/http/headline';
import { auditDetail } from '../../agent/http/page';
import { LoginLimiter, parseCookies, safeNext, sameOrigin, Sessions } from '../../agent/http/security';
import { ThroughputHistory } from '../../agent/http/throughput';
import type { SyncStatus } from '../../agent/sync/worker';

describe('format', () => {
  it('escapes everything that could open markup', () => {
    assert.equal(esc(`<script>alert("x") & 'y'</script>`), '&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;');
    assert.equal(esc(null), '');
  });
  for (const [ms, text] of [
    [0, '0 s'],
    [-5000, '0 s'],
    [59_999, '59 s'],
    [60_000, '1 min'],
    [47 * 60_000, '47 min'],
    [3 * 3600_000 + 5 * 60_000, '3 h 05 min'],
    [50 * 3600_000, '2 d 2 h'],
  ] as const) {
    it(`formatSpan(${ms}) = ${text}`, () => assert.equal(formatSpan(ms), text));
  }
  it('ages and counts', () => {
    assert.equal(formatAge(null, 1000), 'never');
    assert.equal(formatAge(new Date(0).toISOString(), 120_000), '2 min ago');
    assert.equal(formatCount(1234567), '1\u202f234\u202f567');
    assert.equal(formatCount(999), '999');
    assert.equal(clip('abcdef', 4), 'abc…');
    assert.equal(clip('abc', 4), 'abc');
  });
});

describe('throughput history', () => {
  const M = 60_000;
  it('puts the difference between samples into the minute of the later one', () => {
    const h = new ThroughputHistory(60);
    h.sample(10 * M + 1000, { received: 100, sent: 50 }); // starting point only
    h.sample(10 * M + 6000, { received: 110, sent: 53 });
    h.sample(11 * M + 1000, { received: 130, sent: 60 });
    assert.deepEqual(h.series(3, 11 * M + 2000), [
      { minute: 9 * M, received: 0, sent: 0 },
      { minute: 10 * M, received: 10, sent: 3 },
      { minute: 11 * M, received: 20, sent: 7 },
    ]);
    assert.deepEqual(h.total(5, 11 * M), { received: 30, sent: 10 });
  });
  it('takes a total that went down as a new start, never as negative throughput', () => {
    const h = new ThroughputHistory(60);
    h.sample(0, { received: 500, sent: 500 });
    h.sample(1000, { received: 2, sent: 10 });
    h.sample(2000, { received: 5, sent: 12 });
    assert.deepEqual(h.total(1, 2000), { received: 3, sent: 2 });
  });
  it('forgets minutes older than it keeps', () => {
    const h = new ThroughputHistory(5);
    h.sample(0, { received: 0, sent: 0 });
    h.sample(1000, { received: 7, sent: 0 });
    h.sample(10 * M, { received: 8, sent: 0 });
    assert.deepEqual(h.total(60, 10 * M), { received: 1, sent: 0 });
  });
  it('draws one pair of bars per minute, scaled to the busiest minute', () => {
    const svg = throughputChart(
      [
        { minute: 0, received: 4, sent: 2 },
        { minute: M, received: 8, sent: 0 },
      ],
      { label: 'test', clock: () => 'hh:mm' },
    );
    assert.equal((svg.match(/class="rcv"/g) ?? []).length, 2);
    assert.match(svg, /8 \/ min/);
    assert.match(svg, /<title>hh:mm: 8 received, 0 sent<\/title>/);
  });
});

describe('headline', () => {
  const now = Date.parse('2026-11-26T03:00:00Z');
  const counts = (over: Partial<OutboxCounts> = {}): OutboxCounts => {
    const c = { pending: 0, inflight: 0, retrying: 0, flagged: 0, parked: 0, done: 0, skipped: 0, duplicates: 0, invalid: 0, conflicts: 0, ...over };
    return { ...c, unfinished: c.pending + c.inflight + c.retrying + c.flagged + c.parked };
  };
  const sync = (over: Partial<SyncStatus> = {}): SyncStatus => ({
    running: true,
    circuit: 'closed',
    circuitOpenedAt: null,
    server: { major: 19, serverVersion: '19.0', protocol: 'json2' },
    lastSuccessAt: now - 2000,
    lastError: null,
    sent: 0,
    parked: 0,
    retried: 0,
    requests: 0,
    inFlight: 0,
    ...over,
  });
  const base: HeadlineInput = {
    now,
    startedAt: now - 3600_000,
    odooConfigured: true,
    sync: sync(),
    counts: counts(),
    oldestUnfinishedAt: null,
    maxEvents: 1_000_000,
    refused: 0,
  };
  const cases: Array<[string, Partial<HeadlineInput>, { level: string; odoo?: RegExp; backlog?: RegExp; backlogLevel?: string; safety?: RegExp }]> = [
    [
      'a few events on their way while Odoo answers',
      { counts: counts({ pending: 3, inflight: 2 }), oldestUnfinishedAt: now - 1000 },
      { level: 'ok', backlog: /^5 events wait/ },
    ],
    ['all delivered', {}, { level: 'ok', odoo: /^Odoo connected \(Odoo 19\.0\), last answer 2 s ago/, backlog: /Nothing waits/, safety: /Nothing is lost/ }],
    [
      'WAN down for 47 minutes with a backlog',
      {
        sync: sync({ circuit: 'open', circuitOpenedAt: now - 47 * 60_000, lastError: { message: 'connect ECONNREFUSED', at: now - 1000 } }),
        counts: counts({ pending: 1234 }),
        oldestUnfinishedAt: now - 47 * 60_000,
      },
      {
        level: 'alarm',
        backlogLevel: 'warn',
        odoo: /^Odoo DOWN since .*\(47 min\).*ECONNREFUSED/,
        backlog: /^1\u202f234 events wait to be sent, the oldest since .*\(47 min\)/,
        safety: /Nothing is lost.*will be sent, oldest first/,
      },
    ],
    [
      'never reached since start',
      { sync: sync({ circuit: 'open', server: null, lastSuccessAt: null, lastError: { message: 'getaddrinfo ENOTFOUND erp', at: now } }) },
      { level: 'alarm', odoo: /not reached since the agent started .*\(1 h 00 min\)/ },
    ],
    ['first connect under way', { sync: sync({ circuit: 'open', server: null, lastSuccessAt: null }) }, { level: 'warn', odoo: /^Connecting to Odoo/ }],
    [
      'key refused',
      { sync: sync({ circuit: 'auth-failed', circuitOpenedAt: now - 60_000 }) },
      { level: 'alarm', odoo: /refuses the agent's API key since .*\(1 min\)/ },
    ],
    [
      'no odoo configured',
      { odooConfigured: false, sync: undefined, counts: counts({ pending: 3 }), oldestUnfinishedAt: now },
      { level: 'warn', odoo: /not configured/, safety: /^Nothing is lost: every event is stored on this gateway's disk\.$/ },
    ],
    [
      'one parked event needs a person',
      { counts: counts({ parked: 1 }), oldestUnfinishedAt: now - 1000 },
      { level: 'warn', backlog: /^1 event waits .* 1 of them needs a person/ },
    ],
    [
      'outbox full',
      { counts: counts({ pending: 1_000_000 }), oldestUnfinishedAt: now, refused: 12 },
      { level: 'alarm', safety: /outbox is FULL.*12 signals were refused/ },
    ],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => {
      const h = headline({ ...base, ...input });
      assert.equal(h.level, want.level, JSON.stringify(h));
      if (want.odoo) assert.match(h.odoo.text, want.odoo);
      if (want.backlog) assert.match(h.backlog.text, want.backlog);
      if (want.backlogLevel) assert.equal(h.backlog.level, want.backlogLevel);
      if (want.safety) assert.match(h.safety.text, want.safety);
    });
  }
});

describe('edit values', () => {
  const cases: Array<[unknown, string, ReturnType<typeof editCandidates>]> = [
    [12, '15', { ok: true, values: [15] }],
    [12, '1.5e2', { ok: true, values: [150] }],
    [12, 'twelve', { ok: false, reason: '"twelve" is not a number (this field holds a number)' }],
    ['Tool Change', ' Setup ', { ok: true, values: ['Setup'] }],
    ['WH/MO/00042', '00043', { ok: true, values: ['00043'] }],
    [true, 'false', { ok: true, values: [false] }],
    [true, 'no', { ok: false, reason: 'this field holds true or false' }],
    [undefined, 'LOT-7', { ok: true, values: ['LOT-7'] }],
    [undefined, '7', { ok: true, values: ['7', 7] }],
    [{ a: 1 }, 'x', { ok: false, reason: 'this field holds a list or a group of values; it cannot be edited here' }],
    ['x', '   ', { ok: false, reason: 'enter a value' }],
  ];
  for (const [current, text, want] of cases) {
    it(`${JSON.stringify(current)} <- ${JSON.stringify(text)}`, () => assert.deepEqual(editCandidates(current, text), want));
  }
  it('accepts plain field paths and refuses object machinery', () => {
    assert.deepEqual(fieldPath('reason'), ['reason']);
    assert.deepEqual(fieldPath('payload.lot'), ['lot']);
    assert.deepEqual(fieldPath('a.b_c'), ['a', 'b_c']);
    for (const bad of ['__proto__.x', 'payload.constructor.prototype', 'a..b', 'a b', '', '1abc', 'a[0]']) assert.equal(fieldPath(bad), undefined, bad);
    assert.equal(currentValue({ a: { b: 2 } }, ['a', 'b']), 2);
    assert.equal(currentValue({}, ['toString']), undefined);
  });
});

describe('security pieces', () => {
  it('accepts a POST from this host and refuses others', () => {
    const h = (o: Record<string, string>) => ({ host: 'gateway.local:8470', ...o });
    assert.equal(sameOrigin(h({ origin: 'http://gateway.local:8470' })), true);
    assert.equal(sameOrigin(h({ origin: 'https://GATEWAY.local:8470' })), true);
    assert.equal(sameOrigin(h({ referer: 'http://gateway.local:8470/login?next=/' })), true);
    assert.equal(sameOrigin(h({ origin: 'http://evil.example:8470' })), false);
    assert.equal(sameOrigin(h({ origin: 'http://gateway.local:9999' })), false);
    assert.equal(sameOrigin(h({ origin: 'null' })), false);
    // An Origin header decides, even when a Referer would say otherwise.
    assert.equal(sameOrigin(h({ origin: 'http://evil.example', referer: 'http://gateway.local:8470/' })), false);
    assert.equal(sameOrigin(h({})), false);
    assert.equal(sameOrigin({ origin: 'http://gateway.local:8470' }), false);
    assert.equal(sameOrigin(h({ origin: 'file:///x' })), false);
  });
  it('keeps redirects after login on this server', () => {
    for (const good of ['/', '/?x=1', '/#exceptions', '/login?next=%2F']) assert.equal(safeNext(good), good);
    for (const bad of ['//evil.example/', 'http://evil.example/', '/\\evil.example', '', null, undefined, 'x/', '/a//b'])
      assert.equal(safeNext(bad), '/', String(bad));
  });
  it('open redirect: a next a browser would read as another host, or that cannot go into a header, is refused', () => {
    const bad = [
      '/\t/evil.example',
      '/\n/evil.example',
      '/\r\nSet-Cookie: x=1',
      '/ /evil.example',
      '/a%20b',
      '/\u00a0/evil.example',
      '/\u2028',
      '/\u0100',
      '/x\u0000',
      '/x\u007f',
      // Percent-decoding must not make it another host either, however often.
      '/%09/evil.example',
      '/%0d%0a/x',
      '/%2F%2Fevil.example',
      '/%2fevil.example/..%2F',
      '/%5Cevil.example',
      '/%252F%252Fevil.example',
      '/%25252F%25252Fevil.example',
      '/%E0%A4%A',
      '/%',
      `/${'a'.repeat(2000)}`,
    ];
    for (const next of bad) assert.equal(safeNext(next), '/', JSON.stringify(next));
  });
  it('parses cookies', () => {
    assert.deepEqual(
      [...parseCookies('a=1; edge_session=abc-_; b="q"')],
      [
        ['a', '1'],
        ['edge_session', 'abc-_'],
        ['b', 'q'],
      ],
    );
    assert.equal(parseCookies(undefined).size, 0);
  });
  it('limits login attempts per key within a sliding minute', () => {
    let t = 0;
    const l = new LoginLimiter(5, 60_000, () => t);
    for (let i = 0; i < 5; i++) {
      assert.equal(l.begin(['ip:a']).waitMs, 0);
      t += 1000;
    }
    assert.equal(l.begin(['ip:a']).waitMs, 55_000);
    assert.equal(l.begin(['ip:b']).waitMs, 0);
    t = 60_001;
    assert.equal(l.begin(['ip:a']).waitMs, 0);
  });
  it('parallel logins skip the rate limit: an attempt counts from its start; only a success gives it back', () => {
    const l = new LoginLimiter(5, 60_000, () => 0);
    const open = Array.from({ length: 5 }, () => l.begin(['ip:a', 'user:sam']));
    assert.ok(open.every((a) => a.waitMs === 0));
    // Five attempts still waiting for their password check hold both keys.
    assert.equal(l.begin(['ip:a', 'user:other']).waitMs, 60_000);
    assert.equal(l.begin(['ip:b', 'user:sam']).waitMs, 60_000);
    open[2]!.succeeded();
    open[2]!.succeeded();
    const next = l.begin(['ip:b', 'user:sam']);
    assert.equal(next.waitMs, 0, 'one place given back by the success');
    assert.equal(l.begin(['ip:c', 'user:sam']).waitMs, 60_000, 'and only one');
    // A refused attempt counts nothing and gives nothing back.
    const refused = l.begin(['user:sam']);
    assert.equal(refused.waitMs, 60_000);
    refused.succeeded();
    assert.equal(l.begin(['user:sam']).waitMs, 60_000);
  });
  it('ends sessions after idle time and at the latest after the maximum', () => {
    let t = 0;
    const s = new Sessions({ idleMs: 100, maxMs: 250, maxSessions: 2 }, () => t);
    const a = s.create('sam', 'supervisor');
    assert.notEqual(a.id, a.csrf);
    assert.ok(a.id.length >= 43);
    t = 90;
    assert.equal(s.get(a.id)?.user, 'sam');
    t = 180;
    assert.equal(s.get(a.id)?.user, 'sam');
    t = 240;
    assert.equal(s.get(a.id)?.user, 'sam');
    t = 260;
    assert.equal(s.get(a.id), undefined, 'past the maximum');
    const b = s.create('x', 'viewer');
    t = 400;
    assert.equal(s.get(b.id), undefined, 'idle too long');
    s.create('1', 'viewer');
    s.create('2', 'viewer');
    const c = s.create('3', 'viewer');
    assert.equal(s.size, 2);
    assert.equal(s.get(c.id)?.user, '3');
  });
  it('words audit details', () => {
    assert.equal(auditDetail({ filter: { ids: ['e1'] }, ids: ['e1'] }), 'event e1');
    assert.equal(auditDetail({ id: 'e1', field: 'reason', from: 'Tool Change', to: 'Setup' }), 'event e1 · reason: Tool Change → Setup');
    assert.equal(auditDetail({ ids: ['a', 'b'], reason: 'duplicate scan' }), '2 events a, b · reason: duplicate scan');
    assert.equal(auditDetail({ ip: '10.0.0.7' }), 'ip: 10.0.0.7');
  });
});
