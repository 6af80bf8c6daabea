// The demo (www/, built by webpack in npm test) end to end in each browser engine, served with every
// endpoint by its own sse-testserver on one origin, as `npm start` does: the answer streams, the
// cut button drops the connection, and it resumes with a fresh Authorization, Last-Event-ID and no
// token lost or repeated. A screenshot is saved and checked not to be blank.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { ENGINES, launch } from '../js/browser.mjs';
import { log as requestLog } from '../js/scenarios.js';

const port = Number(process.env.DEMO_PORT ?? 8792);
const origin = `http://127.0.0.1:${port}`;
const server = spawn('target/debug/sse-testserver', ['--port', String(port), '--static', 'www'], { stdio: 'ignore' });
after(() => server.kill());

async function until(cond, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const engine of ENGINES) test(`the demo streams, is cut, resumes without loss, and looks like something [${engine}]`, async (t) => {
  const SHOT = engine === 'chromium' ? 'target/demo.png' : `target/demo-${engine}.png`;
  await until(() => fetch(`${origin}/log?token=ready`).then((r) => r.ok, () => false), 'the server');
  const browser = await launch(engine);
  t.after(() => browser.close());
  // Chromium: a context of its own, for the second tab that shares the ticking stream.
  const context = engine === 'chromium' ? await browser.newContext({ viewport: { width: 1100, height: 900 } }) : browser;
  const page = await context.newPage({ viewport: { width: 1100, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/`);
  const stats = () => page.evaluate(() => globalThis.demo?.stats);
  await until(async () => (await stats())?.tokens >= 15, 'the first tokens');
  const before = await stats();
  assert.equal(before.state, 1, 'OPEN');
  await page.click('#cut');
  await until(async () => (await stats()).state === 0, 'the cut (CONNECTING)');
  await until(async () => (await stats()).state === 1, 'the resume (OPEN again)');
  await until(async () => (await stats()).tokens >= before.tokens + 15, 'tokens after the resume');
  const mid = await stats();
  mkdirSync('target', { recursive: true });
  await page.screenshot({ path: SHOT });
  await until(() => page.evaluate(() => globalThis.demoDone), 'the end of the answer', 30000);
  const end = await stats();
  assert.equal(end.tokens, 300, 'every token');
  assert.deepEqual([end.lost, end.repeated], [0, 0], 'nothing lost or repeated');
  assert.ok(mid.auth >= 2, 'a fresh Authorization on reconnect');
  assert.deepEqual(errors, [], 'no page error');

  // The server saw POST + JSON + a new Bearer token on the reconnect, with Last-Event-ID.
  const chatToken = await page.evaluate(() => globalThis.demo.token);
  const log = (await requestLog(origin, chatToken)).filter((r) => r.uri.startsWith('/chat'));
  assert.ok(log.length >= 3, `${log.length} chat requests`);
  assert.ok(log.every((r) => r.method === 'POST' && r.body.includes('"prompt"')), 'POST with the JSON body every time');
  const auths = log.map((r) => r.headers.find(([n]) => n === 'authorization')?.[1]);
  assert.equal(new Set(auths).size, auths.length, `a different Authorization per attempt: ${auths}`);
  assert.ok(log[1].last_event_id, 'the resume sends Last-Event-ID');

  // The screenshot exists and is not blank: most pixels of a blank page are one color.
  const png = readFileSync(SHOT).toString('base64');
  const { inked, distinct } = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = Object.assign(document.createElement('canvas'), { width: img.width, height: img.height });
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, img.width, img.height).data;
    const colors = new Set();
    let inked = 0;
    for (let i = 0; i < px.length; i += 4) {
      colors.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
      if (px[i] + px[i + 1] + px[i + 2] < 600) inked += 1;
    }
    return { inked: inked / (px.length / 4), distinct: colors.size };
  }, png);
  assert.ok(inked > 0.01 && distinct > 50, `screenshot looks blank: ${inked} inked, ${distinct} colors`);
  if (engine !== 'chromium') return page.close();
  // Another tab of the demo shares the ticking stream: the server still holds one connection.
  const other = await context.newPage();
  await other.goto(`${origin}/`);
  const tick = (p) => p.evaluate(() => Number(globalThis.demo?.stats.tick || 0));
  const from = await tick(page);
  await until(async () => (await tick(other)) > from + 1 && (await tick(page)) > from + 1, 'both tabs to tick on');
  const live = (await requestLog(origin, 'demo-live')).filter((r) => r.ended == null);
  assert.equal(live.length, 1, 'one connection for two tabs');
  await until(async () => (await page.evaluate(() => document.getElementById('live-held').textContent)) === '1 connection', 'the page to show it');
  await context.close();
});
