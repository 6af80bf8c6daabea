// The Yew and Leptos example apps (examples/*-counter, built by scripts/build-examples.sh) in
// headless Chromium against sse-testserver: the counter stream renders, the server cuts it twice,
// and it resumes with Last-Event-ID to the end with nothing lost or repeated.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launch, serve, requestLog } from '../js/browser.mjs';

const server = process.env.SSE_TESTSERVER ?? 'http://127.0.0.1:8787';
const browser = await launch();
after(() => browser.close());

for (const app of ['yew-counter', 'leptos-counter']) {
  test(`${app} renders the stream and resumes after the server drops it`, async () => {
    const site = await serve(fileURLToPath(new URL(`../../examples/${app}/dist/`, import.meta.url)));
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    try {
      const token = `${app}-${Date.now()}`;
      await page.goto(`${site.url}/index.html?server=${encodeURIComponent(server)}&token=${token}`);
      await page.waitForFunction(() => document.querySelectorAll('#events li').length >= 1, null, { timeout: 30000 });
      await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'closed', null, { timeout: 30000 });
      const items = await page.$$eval('#events li', (li) => li.map((e) => e.textContent));
      assert.deepEqual(items, Array.from({ length: 60 }, (_, i) => String(i + 1)), 'every event once, in order');
      assert.match(await page.textContent('#error'), /204/, 'ends at the server\'s 204');
      const log = await requestLog(server, token);
      assert.ok(log.length >= 4, `${log.length} requests: two cuts, the resume and the 204`);
      assert.ok(log.slice(1).every((r) => r.last_event_id), 'every reconnect sends Last-Event-ID');
      assert.deepEqual(errors, [], 'no page error');
    } finally {
      await page.close();
      await site.close();
    }
  });
}
