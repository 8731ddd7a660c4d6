import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser as Chromium, Page } from 'playwright-core';
import { makeEvent } from '../helpers/events';
import { PASSWORDS, startSite, type TestSite } from './helpers';

/**
 * The status page in a real headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core): what a supervisor's tablet does.
 */
const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;
if (missing) process.stdout.write(`# browser tests skipped: ${missing}\n`);

describe('status page in Chromium', { skip: missing }, () => {
  let site: TestSite;
  let browser: Chromium;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    site = await startSite({ view: 'open' });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // A tablet in landscape.
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  it('shows the sources, the backlog and the exception queue, and refreshes itself', async () => {
    await page.goto(`${site.url}/`);
    assert.equal(await page.title(), 'Test Plant · edge agent');
    const headline = page.locator('.headline');
    assert.match(await headline.innerText(), /3 events wait to be sent/);
    assert.match(await headline.innerText(), /Nothing is lost/);
    const sources = await page.locator('#sources').innerText();
    assert.match(sources, /line1-plc/);
    assert.match(sources, /packing-scale/);
    assert.match(sources, /not connected/);
    assert.equal(await page.locator('#outbox .fig .n').first().innerText(), '2');
    assert.equal(await page.locator(`article[data-id="${site.parkedId}"]`).count(), 1);
    // Something arrives: the page shows it without a reload.
    await site.agent.outbox.enqueue([makeEvent({ sequenceKey: 'Press 9' })]);
    await page.locator('.headline', { hasText: '4 events wait' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(consoleErrors, [], 'no script error and no blocked resource');
  });

  it('sends Retry without a login to the login page; after the login Retry puts the event back to pending', async () => {
    await page.goto(`${site.url}/`);
    await page.locator(`article[data-id="${site.parkedId}"]`).getByRole('button', { name: 'Retry', exact: true }).click();
    await page.waitForURL(/\/login\?next=\/$/);
    assert.equal(site.agent.outbox.get(site.parkedId)?.state, 'parked');
    await page.fill('input[name="user"]', 'sam');
    await page.fill('input[name="password"]', PASSWORDS.supervisor);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${site.url}/`);
    assert.match(await page.locator('.who').innerText(), /sam/);
    await page.locator(`article[data-id="${site.parkedId}"]`).getByRole('button', { name: 'Retry', exact: true }).click();
    await page.waitForURL(/#exceptions$/);
    assert.match(await page.locator('.banner.ok').innerText(), /back in the queue/);
    assert.equal(site.agent.outbox.get(site.parkedId)?.state, 'pending');
    assert.equal(await page.locator(`article[data-id="${site.parkedId}"]`).count(), 0);
    assert.ok(site.agent.outbox.listAudit(10).some((a) => a.actor === 'web:sam' && a.action === 'retry'));
  });

  it('rejects a form another origin makes the logged-in browser send, even carrying a leaked form token', async () => {
    // Park the event again, as the sync worker would after Odoo refused it once more.
    const again = site.agent.outbox.claim(20).find((r) => r.id === site.parkedId);
    assert.ok(again);
    site.agent.outbox.settle([{ seq: again.seq, outcome: 'park', reason: 'refused again', blocking: true }]);
    site.agent.outbox.settle(site.agent.outbox.list({ state: 'inflight' }).map((r) => ({ seq: r.seq, outcome: 'release' as const })));
    await page.goto(`${site.url}/`);
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    // Another port on the same host is another origin, but the same site: the SameSite cookie is sent, so the Origin check must hold alone.
    const evil: Server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(
        `<!doctype html><form id="f" method="post" action="${site.url}/events/retry">` +
          `<input type="hidden" name="id" value="${site.parkedId}"><input type="hidden" name="csrf" value="${csrf}"></form>` +
          `<script>document.getElementById('f').submit()</script>`,
      );
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    try {
      const evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
      const answer = page.waitForResponse((r) => r.url() === `${site.url}/events/retry`);
      await page.goto(evilUrl);
      const res = await answer;
      assert.equal(res.status(), 403);
      await page.waitForLoadState();
      assert.match(await page.locator('body').innerText(), /cross-site/);
      assert.equal(site.agent.outbox.get(site.parkedId)?.state, 'parked');
      assert.equal(site.agent.outbox.listAudit(10).filter((a) => a.action === 'retry').length, 1, 'only the real retry is in the audit log');
    } finally {
      evil.closeAllConnections();
      await new Promise<void>((r) => evil.close(() => r()));
    }
  });

  it('reads on a tablet in portrait: no sideways scrolling, big touch targets', async () => {
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.goto(`${site.url}/`);
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    const heights = await Promise.all((await page.locator('#exceptions .btn').all()).map(async (b) => (await b.boundingBox())?.height ?? 0));
    assert.ok(heights.length >= 3);
    for (const h of heights) assert.ok(h >= 44, `a button is only ${h}px high`);
  });

  it('open redirect: a logged-in Chromium opening /login?next=/%09/<another host> stays on the status page', async () => {
    let visited = false;
    const evil: Server = createServer((_req, res) => {
      visited = true;
      res.end('another site');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const context = await browser.newContext();
    try {
      const fresh = await context.newPage();
      fresh.setDefaultTimeout(10_000);
      const evilHost = `127.0.0.1:${(evil.address() as AddressInfo).port}`;
      await fresh.goto(`${site.url}/login?next=/`);
      await fresh.fill('input[name="user"]', 'ada');
      await fresh.fill('input[name="password"]', PASSWORDS.admin);
      await fresh.click('button[type="submit"]');
      await fresh.waitForURL(`${site.url}/`);
      // Logged in, a link to the login page redirects at once. Chromium drops the tab: "/\t/host/landed" would be "//host/landed", another origin.
      await fresh.goto(`${site.url}/login?next=/%09/${evilHost}/landed`);
      assert.equal(fresh.url(), `${site.url}/`);
      assert.equal(visited, false, 'the other site was never asked');
    } finally {
      await context.close();
      evil.closeAllConnections();
      await new Promise<void>((r) => evil.close(() => r()));
    }
  });
});
