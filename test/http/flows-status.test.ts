import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startAgent, type RunningAgent } from '../../agent/runtime/agent';
import { parseConfigText } from '../../agent/config/load';
import { startHttp, type HttpHandle } from '../../agent/http/server';
import { consumption } from '../helpers/flow-events';
import { addUser } from '../../agent/http/users';
import { Browser } from './helpers';

const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');

/** The value of one series in Prometheus text, or undefined when it is not there. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface FlowJson {
  name: string;
  held: number;
  keys: number;
  heldSince: string | null;
  nextFlushAt?: string | null;
}

describe('flows on the status page, /metrics and the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flows-status-'));
  const yaml = (port: number) =>
    [
      'plant: { id: flows_http }',
      `stateDir: ${JSON.stringify(dir)}`,
      'outbox: { synchronous: NORMAL }',
      `http: { port: ${port} }`,
      'schedules:',
      '  flows:',
      '    - { name: consumption-hourly, cron: "0 * * * *", mode: rollup, types: [material.consumed] }',
      '',
    ].join('\n');
  let agent: RunningAgent;
  let http: HttpHandle;
  let browser: Browser;
  const configFile = join(dir, 'config.yaml');
  // Not spawnSync: the agent answering the CLI runs in this process.
  const run = (...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(
        process.execPath,
        [cli, ...args, '--config', configFile],
        { encoding: 'utf8', env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' } },
        (err, out, errText) => {
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: errText });
        },
      );
    });

  before(async () => {
    agent = await startAgent(parseConfigText(yaml(0), configFile), { withoutSources: true, log: pino({ level: 'silent' }) });
    http = await startHttp(agent, { port: 0, host: '127.0.0.1' });
    // The CLI finds the running agent on the configured port.
    writeFileSync(configFile, yaml(http.port));
    browser = new Browser(http.url);
    await agent.outbox.enqueue([consumption('WH/MO/00012', 2), consumption('WH/MO/00012', 3), consumption('WH/MO/00013', 1)]);
  });
  after(async () => {
    await http?.close();
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows per flow how many events are held, for how many keys, since when, and the next release', async () => {
    const status = JSON.parse(await browser.text('/api/status')) as { flows: FlowJson[]; outbox: { pending: number } };
    assert.equal(status.outbox.pending, 0);
    assert.equal(status.flows.length, 1);
    const [f] = status.flows;
    assert.equal(f!.name, 'consumption-hourly');
    assert.equal(f!.held, 3);
    assert.equal(f!.keys, 2);
    assert.ok(f!.heldSince && Date.now() - Date.parse(f!.heldSince) < 60_000);
    assert.ok(f!.nextFlushAt && Date.parse(f!.nextFlushAt) > Date.now());

    const page = await browser.text('/');
    assert.match(page, /<section id="flows"><h2>Held for flows <span class="count">3<\/span>/);
    assert.match(
      page,
      /<tr data-flow="consumption-hourly"><td><b>consumption-hourly<\/b><\/td><td>roll-up<\/td><td>material\.consumed<\/td><td class="num">3<\/td><td class="num">2<\/td>/,
    );
    assert.match(page, /Nothing waits to be sent now\. 3 events are held for a batch or roll-up flow/, 'the headline does not claim everything was delivered');
  });

  it('exports a gauge of held events per flow', async () => {
    const text = await browser.text('/metrics');
    assert.equal(value(text, 'edge_flow_held_events{flow="consumption-hourly"}'), 3);
    assert.ok(value(text, 'edge_flow_oldest_held_age_seconds{flow="consumption-hourly"}')! >= 0);
  });

  it('edge-agent status --json shows the held events of the running agent', async () => {
    const r = await run('status', '--json');
    assert.equal(r.code, 0, r.err);
    const live = JSON.parse(r.out) as { running: boolean; flows: FlowJson[] };
    assert.equal(live.running, true);
    assert.equal(live.flows[0]!.held, 3);
    const text = await run('status');
    assert.match(text.out, /flow consumption-hourly \(rollup of material\.consumed, "0 \* \* \* \*"\): 3 events held for 2 keys since /);
  });

  it('after the flow runs, nothing is held and the gauge is 0', async () => {
    await agent.schedules.run('flow:consumption-hourly');
    const status = JSON.parse(await browser.text('/api/status')) as { flows: FlowJson[]; outbox: { pending: number } };
    assert.equal(status.flows[0]!.held, 0);
    assert.equal(status.flows[0]!.heldSince, null);
    assert.equal(status.outbox.pending, 2, 'one roll-up per order');
    assert.equal(value(await browser.text('/metrics'), 'edge_flow_held_events{flow="consumption-hourly"}'), 0);
  });

  it('a supervisor releases a flow now from the page (login, form token, audited); a viewer may not', async () => {
    await addUser(agent.config.http.usersFile, 'sam', 'supervisor', 'supervisor-pass-1');
    await addUser(agent.config.http.usersFile, 'vera', 'viewer', 'viewer-pass-1');
    await agent.outbox.enqueue([consumption('WH/MO/00020', 2), consumption('WH/MO/00020', 5)]);
    const pendingBefore = agent.outbox.counts().pending;

    const viewer = new Browser(http.url);
    assert.equal((await viewer.login('vera', 'viewer-pass-1')).status, 303);
    assert.doesNotMatch(await viewer.text('/'), /Release now/, 'no button for a viewer');
    const denied = await viewer.request('/flows/release', { form: { csrf: await viewer.csrf(), flow: 'consumption-hourly' } });
    assert.equal(denied.status, 403);

    const sup = new Browser(http.url);
    assert.equal((await sup.login('sam', 'supervisor-pass-1')).status, 303);
    assert.match(await sup.text('/'), /action="\/flows\/release"/);
    const noToken = await sup.request('/flows/release', { form: { flow: 'consumption-hourly' } });
    assert.equal(noToken.status, 403, 'a change without the form token is refused');
    const unknown = await sup.request('/flows/release', { form: { csrf: await sup.csrf(), flow: 'no-such-flow' } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /names no configured flow/);
    assert.equal(agent.outbox.flowStatus()[0]!.held, 2, 'nothing released by the refused requests');

    const ok = await sup.request('/flows/release', { form: { csrf: await sup.csrf(), flow: 'consumption-hourly' } });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.location, '/#flows');
    assert.equal(agent.outbox.flowStatus()[0]!.held, 0);
    assert.equal(agent.outbox.counts().pending, pendingBefore + 1, 'one roll-up for the order');
    assert.match(await sup.text('/'), /2 held events went into the queue as 1 event/);
    const audit = agent.outbox.listAudit(5).find((a) => a.action === 'flush');
    assert.equal(audit?.actor, 'web:sam');
  });

  it('edge-agent flows lists and flushes (with --json), and status reads the outbox when the agent is not running', async () => {
    await agent.outbox.enqueue([consumption('WH/MO/00014', 1), consumption('WH/MO/00014', 1)]);
    await http.close();
    await agent.stop();
    const offline = JSON.parse((await run('status', '--json')).out) as { running: boolean; flows: FlowJson[] };
    assert.equal(offline.running, false);
    assert.equal(offline.flows[0]!.held, 2);
    const list = JSON.parse((await run('flows', '--json')).out) as FlowJson[];
    assert.equal(list[0]!.held, 2);
    const flushed = await run('flows', 'flush', 'consumption-hourly', '--json');
    assert.equal(flushed.code, 0, flushed.err);
    assert.deepEqual(JSON.parse(flushed.out), { flow: 'consumption-hourly', members: 2, events: 1, keys: 1 });
    assert.equal((JSON.parse((await run('flows', '--json')).out) as FlowJson[])[0]!.held, 0);
    const unknown = await run('flows', 'flush', 'nope');
    assert.equal(unknown.code, 4);
    assert.match(unknown.err, /no flow named "nope" \(flows: consumption-hourly\)/);
    const audit = JSON.parse((await run('outbox', 'list', '--json', '--key', 'WH/MO/00014')).out) as unknown[];
    assert.equal(audit.length, 1, 'the roll-up is queued');
  });
});
