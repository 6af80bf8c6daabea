// The Yew and Leptos example apps (examples/*-counter, built by scripts/build-examples.sh) in
// each browser engine against sse-testserver: the counter stream renders, the server cuts it twice,
// and it resumes with Last-Event-ID to the end with nothing lost or repeated; a changed input
// (restart) reopens it from the start, and close() stops it at once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ENGINES, launch, serve } from '../js/browser.mjs';
import { log as requestLog } from '../js/scenarios.js';

const server = process.env.SSE_TESTSERVER ?? 'http://127.0.0.1:8787';
// One browser per engine, launched when its first test runs.
const browsers = {};
after(() => Promise.all(Object.values(browsers).map((b) => b.then((x) => x.close()))));

for (const engine of ENGINES) for (const app of ['yew-counter', 'leptos-counter']) {
  test(`${app} renders the stream, resumes after server drops, reopens on a new input, closes [${engine}]`, async () => {
    const browser = await (browsers[engine] ??= launch(engine));
    const site = await serve(fileURLToPath(new URL(`../../examples/${app}/dist/`, import.meta.url)));
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    try {
      const token = `${app}-${engine}-${Date.now()}`;
      await page.goto(`${site.url}/index.html?server=${encodeURIComponent(server)}&token=${token}`);
      await page.waitForFunction(() => document.querySelectorAll('#events li').length >= 1, null, { timeout: 30000 });
      await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'closed', null, { timeout: 30000 });
      const items = await page.$$eval('#events li', (li) => li.map((e) => e.textContent));
      assert.deepEqual(items, Array.from({ length: 60 }, (_, i) => String(i + 1)), 'every event once, in order');
      assert.match(await page.textContent('#error'), /204/, 'ends at the server\'s 204');
      const log = await requestLog(server, `${token}-0`);
      assert.ok(log.length >= 4, `${log.length} requests: two cuts, the resume and the 204`);
      assert.ok(log.slice(1).every((r) => r.last_event_id), 'every reconnect sends Last-Event-ID');

      // A changed input reopens: a new stream from the start.
      await page.click('#restart');
      await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'open', null, { timeout: 10000 });
      await page.waitForFunction(() => document.querySelectorAll('#events li').length >= 5, null, { timeout: 10000 });
      assert.equal(await page.textContent('#events li'), '1', 'the history starts over');
      // close() closes at once: nothing more arrives, no request follows.
      await page.click('#close');
      await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'closed', null, { timeout: 5000 });
      const shown = await page.$$eval('#events li', (li) => li.length);
      const requests = (await requestLog(server, `${token}-1`)).length;
      assert.ok(requests >= 1, 'the restart made a request');
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await page.$$eval('#events li', (li) => li.length), shown, 'no event after close');
      assert.equal((await requestLog(server, `${token}-1`)).length, requests, 'no request after close');
      assert.ok(shown < 60, 'closed before the end');
      assert.deepEqual(errors, [], 'no page error');
    } finally {
      await page.close();
      await site.close();
    }
  });
}
