// `npm run bench`: sse-web against what a page would use instead, in one headless-Chromium run
// against sse-testserver (same origin): events/s over the four parser-benchmark corpora, latency
// from server write to handler, memory over 1M events and 1,000 reconnects, and gzipped sizes.
// Then many streams: 100 sources in one page over HTTP/2 (the TLS listener, same origin), their
// total events/s, and what an idle open source costs in memory against the floor (an open fetch
// with its reader and AbortController). Prints a table with ratios and writes
// scripts/bench/chart.svg (shown in the README). BENCH_PART=many runs the many-streams part alone,
// BENCH_PART=streams the parser streams alone (sse-web's EventSourceParserStream against
// eventsource-parser's and a floor that parses nothing, on the same corpora).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { minify } from 'terser';
import { startServer } from './bench/server.mjs';
import { launch } from '../tests/js/browser.mjs';
import { log as requestLog } from '../tests/js/scenarios.js';

const PORT = Number(process.env.BENCH_PORT ?? 8790);
const base = `http://127.0.0.1:${PORT}`;
const CLIENTS = ['native', 'sse-web', 'sse-web batch', 'sse-web for await', 'eventsource', 'fetch-event-source', 'raw fetch + decode', 'raw fetch'];
const RAW = new Set(['raw fetch + decode', 'raw fetch']);
const CORPORA = Object.fromEntries(Object.entries({ llm: 50_000, multiline: 20_000, large: 400, 'llm-crlf': 50_000 })
  .filter(([c]) => !process.env.BENCH_CORPUS || process.env.BENCH_CORPUS === c));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ONLY_MANY = process.env.BENCH_PART === 'many';
const ONLY_STREAMS = process.env.BENCH_PART === 'streams';
const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`);

await startServer(PORT);

// The TLS listener's certificate, trusted for this browser only.
const certificate = await (await fetch(`${base}/certificate`)).json();
const browser = await launch(['--js-flags=--expose-gc', '--enable-precise-memory-info', `--ignore-certificate-errors-spki-list=${certificate.spki}`]);
const page = await browser.newPage();
page.on('pageerror', (e) => console.error('page error:', e.message));
await page.goto(`${base}/scripts/bench/page.html`);
await page.waitForFunction(() => window.ready === true, null, { timeout: 30000 });

const withTimeout = (p, ms) => Promise.race([p, new Promise((_, no) => setTimeout(() => no(new Error('timed out')), ms))]);

// Parser streams: a fetched body through each TransformStream, best of RUNS, taking turns.
const STREAMS = ['sse-web', 'eventsource-parser', 'floor'];
const streamRate = {};
if (!ONLY_MANY) {
  for (const [corpus, n] of Object.entries(CORPORA)) {
    streamRate[corpus] = Object.fromEntries(STREAMS.map((c) => [c, 0]));
    const sep = corpus === 'llm-crlf' ? '\r\n\r\n' : '\n\n';
    for (let run = 0; run <= RUNS; run++) {
      for (const kind of STREAMS) {
        const [ms, got] = await withTimeout(page.evaluate(([k, u, s]) => window.parserStream(k, u, s), [kind, `/bench?corpus=${corpus}&n=${n}`, sep]), 120000);
        if (got !== n) throw new Error(`${kind} on ${corpus}: ${got} events, not ${n}`);
        if (run > 0) streamRate[corpus][kind] = Math.max(streamRate[corpus][kind], (n / ms) * 1000);
      }
    }
  }
}
const reportStreams = (out, checks) => {
  out('parser streams: a fetched body through a TransformStream, one event per read() (events/s, best of runs)');
  out('| corpus | sse-web EventSourceParserStream | eventsource-parser EventSourceParserStream | floor (decode + one event per blank line) | sse-web / eventsource-parser | sse-web / floor | floor / eventsource-parser (the most any parser gets) |');
  out('|---|---:|---:|---:|---:|---:|---:|');
  for (const corpus of Object.keys(CORPORA)) {
    const r = streamRate[corpus];
    const [ratio, share, most] = [r['sse-web'] / r['eventsource-parser'], r['sse-web'] / r.floor, r.floor / r['eventsource-parser']];
    out(`| ${corpus} | ${fmt(r['sse-web'])} | ${fmt(r['eventsource-parser'])} | ${fmt(r.floor)} | ${ratio.toFixed(2)}x | ${share.toFixed(2)}x | ${most.toFixed(2)}x |`);
    checks.push([`${corpus}: EventSourceParserStream >= 2x eventsource-parser's (${ratio.toFixed(2)}x)${most < 2 ? ` (unreachable: the floor, parsing nothing, is ${most.toFixed(2)}x)` : ''}`, ratio >= 2]);
  }
  out();
};

const rate = {};
const latency = {};
let m0, m1, m2, log;
if (!ONLY_MANY && !ONLY_STREAMS) {
// Throughput: the best of RUNS per client and corpus, after one warm-up run each. Clients take
// turns run by run, so a slow spell of the machine hits them all alike.
for (const [corpus, n] of Object.entries(CORPORA)) {
  rate[corpus] = Object.fromEntries(CLIENTS.map((c) => [c, 0]));
  const url = `/bench?corpus=${corpus}&n=${n}`;
  const failed = new Set();
  for (let run = 0; run <= RUNS; run++) {
    for (const client of CLIENTS.filter((c) => !failed.has(c))) {
      try {
        const ms = await withTimeout(page.evaluate(([c, u, k]) => window.throughput(c, u, k), [client, url, n]), 120000);
        if (run > 0) rate[corpus][client] = Math.max(rate[corpus][client], (n / ms) * 1000);
      } catch (e) {
        console.error(`${client} on ${corpus}: ${e.message}`);
        failed.add(client);
        rate[corpus][client] = 0;
        await page.reload();
        await page.waitForFunction(() => window.ready === true);
      }
    }
  }
}

// Latency: 300 events 5 ms apart.
for (const client of CLIENTS.filter((c) => !RAW.has(c))) {
  const lat = await withTimeout(page.evaluate(([c]) => window.latency(c, '/clock?n=300&interval=5', 300), [client]), 60000);
  lat.sort((a, b) => a - b);
  latency[client] = { median: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)] };
}

// Memory of sse-web: after a warm-up, over 1M events, then over 1,000 reconnects.
await page.evaluate(() => window.throughput('sse-web', '/bench?corpus=llm&n=100000', 100000));
m0 = await page.evaluate(() => window.memory());
for (let i = 0; i < 5; i++) await page.evaluate(() => window.throughput('sse-web', '/bench?corpus=llm&n=200000', 200000));
m1 = await page.evaluate(() => window.memory());
await withTimeout(page.evaluate(() => window.reconnects('/counter?token=bench-reconnects&total=3000&drops=1200&seed=1', 3000)), 120000);
m2 = await page.evaluate(() => window.memory());
log = await requestLog(base, 'bench-reconnects');
}

if (ONLY_STREAMS) {
  const checks = [];
  reportStreams(console.log, checks);
  for (const [what, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'} ${what}`);
  process.exit(0);
}

// Many streams: MANY sources in one page over HTTP/2, on the TLS listener (the page is served there
// too, so every request is same-origin, as above).
const MANY = 100;
const h2page = async () => {
  const p = await browser.newPage();
  p.on('pageerror', (e) => console.error('page error:', e.message));
  await p.goto(`${certificate.url}/scripts/bench/page.html`);
  await p.waitForFunction(() => window.ready === true, null, { timeout: 30000 });
  return p;
};
const MANY_CLIENTS = ['native', 'sse-web', 'sse-web batch', 'eventsource'];
const PER_SOURCE = 2000;
const manyRate = Object.fromEntries(MANY_CLIENTS.map((c) => [c, 0]));
{
  const p = await h2page();
  for (let run = 0; run <= 3; run++) {
    for (const client of MANY_CLIENTS) {
      const ms = await withTimeout(p.evaluate(([c, u, n, k]) => window.manyThroughput(c, u, n, k), [client, `/bench?corpus=llm&n=${PER_SOURCE}`, PER_SOURCE, MANY]), 180000);
      if (run > 0) manyRate[client] = Math.max(manyRate[client], (MANY * PER_SOURCE / ms) * 1000);
    }
  }
  await p.close();
}
// Idle: MANY open sources whose streams sent one comment and hang, after a forced GC (CDP), against
// the same page before: the JS heap (V8's used size), Blink's heap (the embedder heap, where the
// fetch, the stream, the reader and the EventTarget live) and sse-web's wasm memory in use (its
// size less what its allocator has free). A fresh page per measurement, REPS each, the median.
const IDLE_CLIENTS = ['sse-web', 'eventsource', 'native', 'fetch + reader'];
const REPS = Number(process.env.BENCH_IDLE_REPS ?? 5);
const idleScript = encodeURIComponent(JSON.stringify({ steps: [{ write: ': open\n\n' }], end: 'hang' }));
async function heaps(p, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const u = await cdp.send('Runtime.getHeapUsage');
  if (typeof u.embedderHeapUsedSize !== 'number') throw new Error(`Runtime.getHeapUsage has no embedderHeapUsedSize: ${JSON.stringify(u)}`);
  return { js: u.usedSize, blink: u.embedderHeapUsedSize, wasm: await p.evaluate(() => window.wasmInUse()) };
}
const idleRuns = Object.fromEntries(IDLE_CLIENTS.map((c) => [c, []]));
const idleProtocols = new Set();
const idlePeers = [];
for (let rep = 0; rep < REPS; rep++) {
  for (const client of IDLE_CLIENTS) {
    const p = await h2page();
    const cdp = await p.context().newCDPSession(p);
    const before = await heaps(p, cdp);
    const t = `idle-${rep}-${client.replace(/\W/g, '')}`;
    await withTimeout(p.evaluate(([c, u, k]) => window.openIdle(c, u, k), [client, `/inline?script=${idleScript}&token=${t}`, MANY]), 60000);
    const open = await heaps(p, cdp);
    idleRuns[client].push(Object.fromEntries(['js', 'blink', 'wasm'].map((k) => [k, (open[k] - before[k]) / MANY])));
    await p.close();
    const l = await requestLog(base, t);
    for (const e of l) idleProtocols.add(e.version);
    idlePeers.push(new Set(l.map((e) => e.peer)).size);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const idleCost = Object.fromEntries(IDLE_CLIENTS.map((c) => {
  const runs = idleRuns[c];
  const total = median(runs.map((r) => r.js + r.blink + r.wasm));
  return [c, { js: median(runs.map((r) => r.js)), blink: median(runs.map((r) => r.blink)), wasm: median(runs.map((r) => r.wasm)), total }];
}));
await browser.close();

// Sizes, minified + gzipped as a bundler ships them.
async function size(files) {
  const code = files.map((f) => readFileSync(f, 'utf8')).join('\n');
  const min = await minify(code, { module: true, compress: true, mangle: true });
  return gzipSync(min.code, { level: 9 }).length;
}
const pkgJs = ['pkg/index.js', 'pkg/event_source.js', 'pkg/sse_web.js', ...execFileSync('sh', ['-c', 'find pkg/snippets -name "*.js"'], { encoding: 'utf8' }).split('\n').filter(Boolean)];
const sizes = {
  native: 0,
  'sse-web': (await size(pkgJs)) + gzipSync(readFileSync('pkg/sse_web_bg.wasm'), { level: 9 }).length,
  eventsource: await size(['node_modules/eventsource/dist/index.js', 'node_modules/eventsource-parser/dist/index.js']),
  'fetch-event-source': await size(['node_modules/@microsoft/fetch-event-source/lib/esm/parse.js', 'node_modules/@microsoft/fetch-event-source/lib/esm/fetch.js']),
};

// Report.
const lines = [];
const out = (s = '') => { lines.push(s); console.log(s); };
const checks = [];
if (!ONLY_MANY) {
out(`sse-web browser benchmark (${RUNS} runs, best; Chromium headless; events/s)`);
out(`| corpus | ${CLIENTS.join(' | ')} |`);
out(`|---|${CLIENTS.map(() => '---:').join('|')}|`);
for (const corpus of Object.keys(CORPORA)) out(`| ${corpus} | ${CLIENTS.map((c) => fmt(rate[corpus][c])).join(' | ')} |`);
out();
// Each of sse-web's three APIs against each peer and the ceilings.
const OTHERS = CLIENTS.filter((c) => !c.startsWith('sse-web'));
const ours = { 'sse-web': 'EventTarget', 'sse-web batch': 'batch', 'sse-web for await': 'for await' };
out(`| ratio | ${Object.values(ours).flatMap((o) => OTHERS.map((c) => `${o} / ${c}`)).join(' | ')} |`);
out(`|---|${Object.keys(ours).flatMap(() => OTHERS.map(() => '---:')).join('|')}|`);
for (const corpus of Object.keys(CORPORA)) {
  const r = rate[corpus];
  out(`| ${corpus} | ${Object.keys(ours).flatMap((o) => OTHERS.map((c) => `${(r[o] / r[c]).toFixed(2)}x`)).join(' | ')} |`);
}
out();
for (const corpus of Object.keys(CORPORA)) {
  const r = rate[corpus];
  const vsPoly = r['sse-web'] / r.eventsource;
  const vsNative = r['sse-web'] / r.native;
  const vsRaw = r['sse-web batch'] / r['raw fetch'];
  // A target no client can reach says so: a rate above decoding the body alone (nothing parsed),
  // or a share of the raw read that decoding alone does not reach.
  const above = (need) => (need > r['raw fetch + decode'] ? ` (unreachable: ${fmt(need)}/s is above decoding the body alone)` : '');
  const decodeShare = r['raw fetch + decode'] / r['raw fetch'];
  checks.push(
    [`${corpus}: EventTarget API >= 2x eventsource${above(2 * r.eventsource)}`, vsPoly >= 2],
    [`${corpus}: EventTarget API >= 10x native${above(10 * r.native)}`, vsNative >= 10],
    [`${corpus}: for await >= 0.9x batch (${(r['sse-web for await'] / r['sse-web batch']).toFixed(2)}x)`, r['sse-web for await'] >= 0.9 * r['sse-web batch']],
    [`${corpus}: fast path >= 0.8x raw fetch${decodeShare < 0.8 ? ` (unreachable: decoding the body alone is ${decodeShare.toFixed(3)}x)` : ''}`, vsRaw >= 0.8],
  );
}
// Where an EventTarget API's time goes, and the least any would take: decoding the body alone,
// plus one MessageEvent (the same engine with and without one per event).
out('| per event (µs) | decode alone | + MessageEvent | = floor | sse-web batch | sse-web EventTarget | 2x eventsource allows | 10x native allows |');
out('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const corpus of Object.keys(CORPORA)) {
  const r = rate[corpus];
  const us = (v) => 1e6 / v;
  const dom = us(r['sse-web']) - us(r['sse-web batch']);
  const cells = [us(r['raw fetch + decode']), dom, us(r['raw fetch + decode']) + dom, us(r['sse-web batch']), us(r['sse-web']), us(r.eventsource) / 2, us(r.native) / 10];
  out(`| ${corpus} | ${cells.map((c) => c.toFixed(2)).join(' | ')} |`);
}
out();
out('| latency, write to handler (ms) | median | p99 |');
out('|---|---:|---:|');
for (const [c, l] of Object.entries(latency)) out(`| ${c} | ${l.median.toFixed(2)} | ${l.p99.toFixed(2)} |`);
out();
const mb = (b) => `${(b / 1048576).toFixed(2)} MB`;
out(`memory (sse-web): after warm-up heap ${mb(m0.heap)}, wasm ${mb(m0.wasm)}; after 1M events heap ${mb(m1.heap)} (${mb(m1.heap - m0.heap)}), wasm ${mb(m1.wasm)} (${mb(m1.wasm - m0.wasm)}); after ${log.length} connections heap ${mb(m2.heap)} (${mb(m2.heap - m1.heap)}), wasm ${mb(m2.wasm)} (${mb(m2.wasm - m1.wasm)})`);
checks.push(['memory flat over 1M events (< 1 MB)', m1.heap - m0.heap < 1048576 && m1.wasm - m0.wasm < 1048576]);
checks.push([`memory flat over ${log.length} connections (< 1 MB)`, log.length >= 1000 && m2.heap - m1.heap < 1048576 && m2.wasm - m1.wasm < 1048576]);
out(`size, minified + gzip: ${Object.entries(sizes).map(([c, b]) => `${c} ${(b / 1024).toFixed(1)} KB`).join(', ')}`);
out();
reportStreams(out, checks);
}
out(`many streams: ${MANY} sources in one page over ${[...idleProtocols].join(', ')} (connections per run: ${[...new Set(idlePeers)].join(', ')}), ${PER_SOURCE} llm events each`);
out(`| ${MANY_CLIENTS.join(' | ')} |`);
out(`|${MANY_CLIENTS.map(() => '---:').join('|')}|`);
out(`| ${MANY_CLIENTS.map((c) => `${fmt(manyRate[c])}/s`).join(' | ')} |`);
out();
out(`idle: memory per open source (${MANY} open, after a forced GC, median of ${REPS} fresh pages; KB = 1000 B)`);
out('| per source | JS heap | Blink heap | wasm in use | total |');
out('|---|---:|---:|---:|---:|');
const kb = (b) => (b / 1000).toFixed(2);
for (const [c, m] of Object.entries(idleCost)) out(`| ${c === 'fetch + reader' ? 'floor: fetch + reader + AbortController' : c} | ${kb(m.js)} | ${kb(m.blink)} | ${kb(m.wasm)} | ${kb(m.total)} |`);
out();
checks.push([`many streams over one connection (HTTP/2): ${[...idleProtocols].join(', ')}, connections per run ${[...new Set(idlePeers)].join(', ')}`, idleProtocols.size === 1 && idleProtocols.has('HTTP/2.0') && idlePeers.every((n) => n === 1)]);
checks.push([`idle cost: sse-web ${kb(idleCost['sse-web'].total)} KB per source <= eventsource ${kb(idleCost.eventsource.total)} KB (floor ${kb(idleCost['fetch + reader'].total)} KB)`, idleCost['sse-web'].total <= idleCost.eventsource.total]);
for (const [what, ok] of checks) out(`${ok ? 'PASS' : 'FAIL'} ${what}`);

if (ONLY_MANY) process.exit(0);
// The chart: events/s per corpus, one bar per client, log scale.
const colors = ['#999', '#0a7', '#05a', '#d80', '#c33', '#888', '#555'];
const W = 760, rowH = 16, gap = 18, left = 150;
const max = Math.max(...Object.values(rate).flatMap((r) => Object.values(r)));
const x = (v) => (v > 0 ? (Math.log10(v) - 3) / (Math.log10(max) - 3 + 0.05) * (W - left - 80) : 0);
let y = 30;
let svg = '';
for (const corpus of Object.keys(CORPORA)) {
  svg += `<text x="10" y="${y + 12}" font-weight="bold">${corpus}</text>`;
  CLIENTS.forEach((c, i) => {
    const v = rate[corpus][c];
    svg += `<text x="${left - 6}" y="${y + 12}" text-anchor="end">${c}</text><rect x="${left}" y="${y}" width="${Math.max(0, x(v)).toFixed(1)}" height="${rowH - 3}" fill="${colors[i]}"/><text x="${left + x(v) + 4}" y="${y + 12}">${fmt(v)}/s</text>`;
    y += rowH;
  });
  y += gap;
}
writeFileSync('scripts/bench/chart.svg', `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" font-family="system-ui,sans-serif" font-size="12"><rect width="100%" height="100%" fill="#fff"/><text x="10" y="18" font-size="14">events/s in headless Chromium (log scale), npm run bench</text>${svg}</svg>\n`);
writeFileSync('scripts/bench/results.md', lines.join('\n') + '\n');
process.exit(0);
