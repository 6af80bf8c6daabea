// `npm run bench:share`: what `share` saves the server and costs a tab, in headless Chromium
// against sse-testserver (same origin, HTTP/1.1): the connections the server holds for 1, 5 and
// 20 tabs with and without `share`, and how many tabs receive the stream; the hand-over time
// (a holder's close() to the next holder's request at the server) over 20 hand-overs; and the
// cost of a follower (JS heap after a GC, and the wasm memory, in a tab that holds one).
import { startServer } from './bench/server.mjs';
import { launch } from '../tests/js/browser.mjs';
import { log as requestLog } from '../tests/js/scenarios.js';

const PORT = Number(process.env.SHARE_PORT ?? 8797);
const base = `http://127.0.0.1:${PORT}`;
// The streams go to the second listener (another origin, so its 6 HTTP/1.1 connections are not the
// pages' own).
const sse = `http://127.0.0.1:${PORT + 1}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const token = (n) => `${n}-${Math.random().toString(36).slice(2)}`;

await startServer(PORT);
const browser = await launch(['--js-flags=--expose-gc']);

async function tab(context) {
  const page = await context.newPage();
  await page.goto(`${base}/tests/js/share/index.html`);
  await page.waitForFunction(() => window.ready === true);
  return page;
}
const open = (page, url, init) => page.evaluate(([u, i]) => window.openSource(u, i), [url, init]);
const seen = (page, i) => page.evaluate((n) => window.seen(n), i);

// Connections held, and tabs that receive the stream, for N tabs.
async function connections(n, share) {
  const t = token(`tabs${n}`);
  const context = await browser.newContext();
  const pages = [];
  for (let i = 0; i < n; i++) pages.push(await tab(context));
  for (const p of pages) await open(p, `${sse}/counter?token=${t}&total=1000000&interval=50`, { share });
  // Every tab that can receive the stream (an event each 50 ms) has events within 3 s.
  const end = Date.now() + 3000;
  let receiving = 0;
  while (Date.now() < end) {
    receiving = (await Promise.all(pages.map((p) => seen(p, 0)))).filter((s) => s.ids.length > 0).length;
    if (receiving === n) break;
    await sleep(50);
  }
  const held = (await requestLog(base, t)).filter((r) => r.ended == null).length;
  await context.close();
  return { held, receiving };
}

const rows = [];
for (const n of [1, 5, 20]) {
  console.error(`connections: ${n} tabs`);
  const without = await connections(n, false);
  const withShare = await connections(n, 'bench');
  rows.push(`| ${n} | ${without.held} (${without.receiving} of ${n} tabs receive) | ${withShare.held} (${withShare.receiving} of ${n} tabs receive) |`);
}

// Hand-over: 20 holders in a row call close(); the next source's request reaches the server.
async function handovers() {
  const t = token('handover');
  const context = await browser.newContext();
  const page = await tab(context);
  const url = `${base}/counter?token=${t}&total=100000&interval=5`;
  for (let i = 0; i < 21; i++) await open(page, url);
  const times = [];
  for (let k = 0; k < 20; k++) {
    await page.waitForFunction((i) => window.seen(i).ids.length > 0, k);
    const before = (await requestLog(base, t)).length;
    const at = Date.now();
    await page.evaluate((i) => window.sources[i].es.close(), k);
    for (let tries = 0; ; tries++) {
      const log = await requestLog(base, t);
      if (log.length > before) { times.push(log.at(-1).at - at); break; }
      if (tries > 2500) throw new Error(`hand-over ${k + 1}: no request in 5 s`);
      await sleep(2);
    }
  }
  await context.close();
  return times.sort((a, b) => a - b);
}
console.error('hand-overs');
const times = await handovers();
console.error('follower cost');

// A follower's cost: a tab with one, against the same tab before it (JS heap after a GC) plus the
// wasm memory its engine brings (every source makes one, started only if it holds).
async function followerCost() {
  const t = token('cost');
  await fetch(`${base}/script?token=${t}`, { method: 'POST', body: JSON.stringify([{ steps: [{ write: 'id: 1\ndata: 1\n\n' }], end: 'hang' }]) });
  const context = await browser.newContext();
  const holder = await tab(context);
  await open(holder, `${base}/s?token=${t}`);
  const page = await tab(context);
  const cdp = await context.newCDPSession(page);
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  const before = await heap();
  await open(page, `${base}/s?token=${t}`);
  // It joins the open stream (the event before it is not replayed).
  await page.waitForFunction(() => window.seen(0).readyState === 1);
  const after = await heap();
  // The wasm memory of the tab: wasm-bindgen's init answers the instance it made.
  const wasm = await page.evaluate(async () => (await (await import('/pkg/sse_web.js')).default()).memory.buffer.byteLength);
  await context.close();
  return { js: after - before, wasm };
}
const cost = await followerCost();
await browser.close();

console.log('\nConnections the server holds (HTTP/1.1, one source per tab, one browser):\n');
console.log('| tabs | without share | with share |');
console.log('|---:|---:|---:|');
for (const r of rows) console.log(r);
console.log(`\nHand-over, a holder's close() to the next holder's request at the server (20 in a row): median ${times[10]} ms, worst ${times.at(-1)} ms`);
console.log(`A follower tab: JS heap +${(cost.js / 1024).toFixed(1)} KB (after a GC), wasm memory ${(cost.wasm / 1024).toFixed(0)} KB (the module's, one per tab; a follower's engine is never started)`);
