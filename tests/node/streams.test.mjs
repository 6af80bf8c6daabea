// Many streams and compressed streams in headless Chromium, against sse-testserver (SSE_TESTSERVER)
// and its TLS listener (HTTP/2 by ALPN, a certificate made at start, trusted for this browser only
// by its SPKI hash from /certificate). The page (tests/js/streams.html, served here with the built
// package) and a dedicated Worker it starts run tests/js/streams.mjs; the request log says which
// protocol and which client socket (peer) each stream came over.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launch, serve } from '../js/browser.mjs';
import { log as requestLog } from '../js/scenarios.js';

const server = process.env.SSE_TESTSERVER ?? 'http://127.0.0.1:8787';
const certificate = await (await fetch(`${server}/certificate`)).json();
const h2 = certificate.url;
const site = await serve(fileURLToPath(new URL('../../', import.meta.url)));
after(() => site.close());
const browser = await launch([`--ignore-certificate-errors-spki-list=${certificate.spki}`]);
// The shared page first: it checks it saw no page errors.
after(async () => {
  await shared?.close();
  await browser.close();
});

let tokens = 0;
const token = (what) => `${what}-${process.pid}-${tokens++}`;

async function store(t, scripts) {
  const res = await fetch(`${server}/script?token=${t}`, { method: 'POST', body: JSON.stringify(scripts) });
  assert.ok(res.ok, await res.text());
}

/** A page of its own browser context (its own connections), with streams.html loaded. */
async function page() {
  const context = await browser.newContext();
  const p = await context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  await p.goto(`${site.url}/tests/js/streams.html`);
  await p.waitForFunction(() => globalThis.streams, null, { timeout: 10000 });
  return {
    run: (where, name, args) => p.evaluate(([w, n, a]) => (w === 'page' ? globalThis.streams.page[n](a) : globalThis.streams.worker(n, a)), [where, name, args]),
    close: async () => {
      await context.close();
      assert.deepEqual(errors, [], 'no page errors');
    },
  };
}

const SOURCES = 100;
const EVENTS = 20;
const numbers = (n) => Array.from({ length: n }, (_, i) => String(i + 1));

for (const where of ['page', 'worker']) {
  test(`${SOURCES} sse-web sources in a ${where} over HTTP/2: one connection, every event of every stream`, async () => {
    const t = token(`h2-${where}`);
    const steps = numbers(EVENTS).flatMap((k) => [{ write: `id: ${k}\ndata: ${k}\n\n` }, { sleep: 10 }]);
    await store(t, [{ steps, end: 'hang' }]);
    const p = await page();
    try {
      const { got, mostOpen } = await p.run(where, 'many', { client: 'sse-web', url: `${h2}/s?token=${t}`, n: SOURCES, events: EVENTS });
      assert.equal(mostOpen, SOURCES, 'all open at once');
      for (const [i, seen] of got.entries()) assert.deepEqual(seen, numbers(EVENTS), `stream ${i}`);
    } finally {
      await p.close();
    }
    const log = await requestLog(server, t);
    assert.equal(log.length, SOURCES, 'one request per source');
    assert.deepEqual([...new Set(log.map((e) => e.version))], ['HTTP/2.0']);
    assert.equal(new Set(log.map((e) => e.peer)).size, 1, `one connection: peers ${[...new Set(log.map((e) => e.peer))]}`);
  });
}

// Over HTTP/1.1 a browser opens at most 6 connections per origin: a 7th stream waits for one.
for (const client of ['native', 'sse-web']) {
  test(`over HTTP/1.1 the 7th ${client} source stays CONNECTING until one of the first 6 closes`, async () => {
    const t = token(`h1-limit-${client}`);
    await store(t, [{ steps: [{ write: 'data: open\n\n' }], end: 'hang' }]);
    const p = await page();
    let result;
    try {
      result = await p.run('page', 'seventh', { client, url: `${server}/s?token=${t}`, hold: 300 });
    } finally {
      await p.close();
    }
    assert.deepEqual(result.held, [1, 1, 1, 1, 1, 1, 0], 'six OPEN, the 7th CONNECTING');
    assert.deepEqual(result.after, [2, 1, 1, 1, 1, 1, 1], 'the first CLOSED, the 7th OPEN');
    const log = await requestLog(server, t);
    const of = (i) => log.find((e) => e.uri.endsWith(`&i=${i}`));
    assert.equal(log.length, 7);
    assert.deepEqual([...new Set(log.map((e) => e.version))], ['HTTP/1.1']);
    assert.equal(new Set(log.slice(0, 6).map((e) => e.peer)).size, 6, 'six connections');
    assert.ok(of(0).ended <= of(6).at, `the 7th request (at ${of(6).at}) came once the first ended (${of(0).ended})`);
  });
}

// One page for these (each its own token and stream), closed with the browser.
let shared;
const sharedPage = async () => (shared ??= await page());

// Compressed streams, flushed per event by the server, each event written only after the one
// before was acknowledged through a side request: an event held back anywhere stalls the stream.
const CASES = [
  ['page', 'HTTP/1.1', server],
  ['page', 'HTTP/2', h2],
  ['worker', 'HTTP/2', h2],
];
for (const [where, protocol, base] of CASES) {
  for (const encoding of ['gzip', 'br']) {
    for (const api of ['events', 'batch']) {
      test(`${encoding} over ${protocol} in a ${where} (${api === 'batch' ? 'batch' : 'EventTarget API'}): each event arrives before the next is written`, async () => {
        const t = token(`lockstep-${encoding}`);
        const n = 10;
        const p = await sharedPage();
        const result = await p.run(where, 'lockstep', { url: `${base}/lockstep?token=${t}&n=${n}&encoding=${encoding}`, ack: `${base}/ack?token=${t}&n=`, api, events: n });
        assert.deepEqual(result.data, numbers(n));
        // Over HTTP/2 the URI is absolute (scheme and authority).
        const paths = (await requestLog(server, t)).map((e) => new URL(e.uri, server).pathname);
        assert.equal(paths.filter((p) => p === '/lockstep').length, 1, 'one stream');
        assert.ok(paths.filter((p) => p === '/ack').length >= n - 1, 'every event acknowledged');
        console.log(`${encoding} ${protocol} ${where} ${api}: ms from write to ack ${result.acks.join(' ')}`);
      });
    }
  }
}
