import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { makeEvent } from '../helpers/events';
import { Browser, startSite, type TestSite } from './helpers';

let site: TestSite;
before(async () => {
  site = await startSite();
});
after(() => site.close());

it('shows an event that came again with its id and other content (a conflict) on the page and in /metrics, with both versions', async () => {
  const first = makeEvent({ id: 'mes-4711', sequenceKey: 'Press 4' });
  await site.agent.outbox.enqueue([first]);
  await site.agent.outbox.enqueue([{ ...first, payload: { ...first.payload, reason: 'Corrected reason' } } as typeof first]);
  const b = new Browser(site.url);
  const page = (await b.request('/')).body;
  assert.match(page, /Same id, other content/);
  assert.match(page, /mes-4711/);
  assert.match(page, /Corrected reason/);
  assert.match((await b.request('/metrics')).body, /^edge_events_conflict_total 1$/m);
});
