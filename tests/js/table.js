// The scenario table (tests/scenarios/table.json, its format in tests/scenarios/README.md) through
// the JS EventSource: run by the wasm-bindgen suites in a page, a dedicated Worker and Node, and by
// tests/node/package.test.mjs against the packed package. sse-web-native and sse-web's Rust Stream API
// run the same table and compare the same observations.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const show = (v) => {
  const s = JSON.stringify(v);
  return s.length > 600 ? `${s.slice(0, 600)}…` : s;
};

/** Resolves when `cond()` holds, polling; rejects after `ms`. */
async function until(cond, what, ms) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** The table's URL with its placeholders filled in. */
function fill(text, server, token) {
  const cross = new URL(server);
  cross.port = String(Number(cross.port) + 1);
  return text
    .replaceAll('{server}', server)
    .replaceAll('{cross}', cross.origin)
    .replaceAll('{token}', token)
    .replaceAll('{unreachable}', 'http://127.0.0.1:2/');
}

/** The table's options in the JS API, its `$` test constructs built with it. */
function init(options, trace) {
  const out = {};
  for (const [k, v] of Object.entries(options ?? {})) if (!k.startsWith('$')) out[k] = v;
  if (out.retry) out.retry = { ...out.retry };
  const perAttempt = options?.$headersPerAttempt;
  if (perAttempt) {
    const fixed = out.headers ?? [];
    let n = 0;
    out.headers = async () => {
      const made = perAttempt.map(([k, v]) => [k, v.replaceAll('{n}', String(n))]);
      n++;
      return [...fixed, ...made];
    };
  }
  const statuses = options?.$retryStatuses;
  if (statuses) {
    out.retry = { ...out.retry, classify: (failure, byDefault) => statuses.includes(failure.status) || byDefault };
  }
  const fatal = options?.$fatalWhenBodyHas;
  if (fatal) {
    out.retry = { ...out.retry, classify: (failure, byDefault) => (failure.body === undefined ? byDefault : !failure.body.includes(fatal)) };
  }
  if (options?.$comments) out.onComment = (text) => trace.push(['comment', text]);
  return out;
}

/** An expected event's data: a string, or `{repeat, times}`. */
const expand = (d) => (d && typeof d === 'object' ? d.repeat.repeat(d.times) : d);

/** Whether observation `got` is what `want` (a table trace entry) says. */
function same(got, want) {
  if (got.length !== want.length || got[0] !== want[0]) return false;
  return want.every((w, i) => {
    if (want[0] === 'event' && i === 2) return got[i] === expand(w);
    if (want[0] === 'error' && i === 4 && Array.isArray(w)) return typeof got[i] === 'number' && got[i] >= w[0] && got[i] <= w[1];
    return got[i] === w;
  });
}

/**
 * How this realm measures memory for `maxMemoryMiB`: `{what, read, gc}` (`read()` in bytes,
 * `gc()` a full collection where the realm lets one be forced), or `{why}` when it cannot.
 * Node: the V8 heap in use plus `external` (ArrayBuffers, the wasm memory), with the `gc` that
 * `--expose-gc` set at run time gives; a Chromium page: `performance.memory` when it is live (it
 * moves over an 8 MiB allocation; without --enable-precise-memory-info Chromium quantizes it and
 * may refresh it seldom); else the wasm memory's size when the caller passed it (a high-water
 * mark).
 */
async function memoryProbe(probe) {
  if (typeof globalThis.process?.memoryUsage === 'function') {
    let gc;
    try {
      const v8 = await import('node:v8');
      const vm = await import('node:vm');
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc');
    } catch {
      gc = undefined;
    }
    return {
      what: `the peak of V8 heapUsed + external (ArrayBuffers, wasm memory)${gc ? ', a sample over half the bound re-taken after a full GC' : ''}`,
      read: () => {
        const m = globalThis.process.memoryUsage();
        return m.heapUsed + m.external;
      },
      gc,
    };
  }
  const pm = globalThis.performance?.memory;
  if (pm && typeof pm.usedJSHeapSize === 'number') {
    // Chromium refreshes the value at most every 50 ms (and seldom when it is not precise).
    const before = pm.usedJSHeapSize;
    const ballast = new Array(1 << 20).fill(1.5);
    await sleep(120);
    const live = globalThis.performance.memory.usedJSHeapSize !== before && ballast.length > 0;
    // With `--js-flags=--expose-gc` (scripts/webdriver.json) the page can force a GC, as Node does.
    const gc = typeof globalThis.gc === 'function' ? () => globalThis.gc() : undefined;
    if (live) return { what: `the peak of performance.memory.usedJSHeapSize${gc ? ', a sample over half the bound re-taken after a full GC' : ''}`, read: () => globalThis.performance.memory.usedJSHeapSize, gc };
  }
  if (probe?.wasmMemory instanceof WebAssembly.Memory) {
    return { what: 'the wasm memory size (a high-water mark)', read: () => probe.wasmMemory.buffer.byteLength };
  }
  return { why: pm ? 'performance.memory does not move, and no wasm memory was given' : 'no memory API in this realm, and no wasm memory was given' };
}

/**
 * With `maxStallMs` or `maxMemoryMiB`: a setInterval(…, 10) ticker on this event loop, its worst
 * gap, and the memory's peak over its start, until `stop()`. A sample over half the `bound` of
 * growth (in bytes) is taken again after a full GC where one can be forced (garbage not yet
 * collected is no growth); the time that GC takes is the runner's, not counted as a stall.
 */
function startMeasuring(memory, bound) {
  memory.gc?.();
  let last = performance.now();
  let worst = 0;
  const base = memory.read?.();
  let peak = base;
  let over = false;
  const tick = () => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    if (!memory.read) return;
    let m = memory.read();
    if (m - base > bound / 2 && memory.gc && !over) {
      memory.gc();
      m = memory.read();
      over = m - base > bound;
      last = performance.now();
    }
    peak = Math.max(peak, m);
  };
  const id = setInterval(tick, 10);
  return {
    stop() {
      tick();
      clearInterval(id);
      return { stall: worst, grew: memory.read ? peak - base : undefined };
    },
  };
}

const mib = (bytes) => (bytes / 1048576).toFixed(1);

/** The request log sse-testserver keeps for `token`. */
const readLog = async (server, token) => (await fetch(`${server}/log?token=${token}`)).json();

function checkRequests(log, want, fail) {
  if (typeof want === 'number') {
    if (log.length !== want) fail(`requests: expected ${want}, got ${log.length}`);
    return;
  }
  if (log.length !== want.length) fail(`requests: expected ${want.length}, got ${log.length}: ${show(log.map((r) => r.uri))}`);
  want.forEach((w, i) => {
    const r = log[i];
    if (!r) return;
    const at = `request ${i + 1}`;
    if ('method' in w && r.method !== w.method) fail(`${at}: method ${r.method}, expected ${w.method}`);
    if ('body' in w && r.body !== w.body) fail(`${at}: body ${show(r.body)}, expected ${show(w.body)}`);
    if ('lastEventId' in w && r.last_event_id !== w.lastEventId) fail(`${at}: Last-Event-ID ${show(r.last_event_id)}, expected ${show(w.lastEventId)}`);
    if ('uriStartsWith' in w && !r.uri.startsWith(w.uriStartsWith)) fail(`${at}: URI ${r.uri} does not start with ${w.uriStartsWith}`);
    if ('uriEndsWith' in w && !r.uri.endsWith(w.uriEndsWith)) fail(`${at}: URI ${r.uri} does not end with ${w.uriEndsWith}`);
    for (const [name, value] of w.headers ?? []) {
      const got = r.headers.filter(([n]) => n === name).map(([, v]) => v);
      if (show(got) !== show([value])) fail(`${at}: ${name} ${show(got)}, expected ${show([value])}`);
    }
    for (const name of w.absent ?? []) {
      if (r.headers.some(([n]) => n === name)) fail(`${at}: ${name} was sent`);
    }
  });
}

/**
 * Runs one scenario; returns what diverged (empty when it passed). `out.measured` is set to what
 * it measured (with `maxStallMs` or `maxMemoryMiB`).
 */
async function runOne(EventSource, server, sc, env, memory, out) {
  const failures = [];
  const fail = (what) => failures.push(what);
  const token = `${sc.name}-${Math.random().toString(36).slice(2)}`;
  const expect = sc.expect;
  const timeout = sc.timeout ?? 10000;
  if (sc.server) {
    const res = await fetch(`${server}/script?token=${token}`, { method: 'POST', body: JSON.stringify(sc.server) });
    if (!res.ok) return [`scripts not stored: ${res.status}`];
  }
  const url = fill(sc.url ?? '{server}/s?token={token}', server, token);
  const trace = [];
  const messages = [];
  const bodies = [];
  const measuring = 'maxStallMs' in expect || 'maxMemoryMiB' in expect ? startMeasuring(memory, (expect.maxMemoryMiB ?? Infinity) * 1048576) : null;
  let es;
  try {
    es = new EventSource(url, init(sc.options, trace));
  } catch (e) {
    if (!expect.invalid) {
      measuring?.stop();
      return [`construction threw: ${e}`];
    }
    if (!(e instanceof TypeError)) fail(`construction threw ${e}, not a TypeError`);
    else if (!e.message.includes(`option ${expect.invalid} `)) fail(`the TypeError does not name ${expect.invalid}: ${e.message}`);
  }
  if (es && expect.invalid) {
    es.close();
    fail(`constructed, but ${expect.invalid} is invalid`);
  }
  let closedAt;
  if (es) {
    const seen = { open: 0, event: 0, error: 0, comment: 0 };
    const act = (kind) => {
      seen[kind]++;
      for (const a of sc.act ?? []) {
        if (a.on !== kind || a.n !== seen[kind]) continue;
        const now = () => {
          // A throw inside a listener is the realm's uncaught error (Node exits): record it.
          try {
            if (a.do === 'close') {
              closedAt = Date.now();
              es.close();
            } else if (a.do === 'restart') es.restart();
          } catch (e) {
            fail(`${a.do}() threw: ${e}`);
            es.close();
          }
        };
        if (a.wait) setTimeout(now, a.wait);
        else now();
      }
    };
    es.onopen = () => { trace.push(['open', es.readyState]); act('open'); };
    const types = new Set(['message']);
    for (const t of expect.trace ?? []) if (t[0] === 'event') types.add(t[1]);
    for (const type of types) {
      es.addEventListener(type, (e) => { trace.push(['event', e.type, e.data, e.lastEventId]); act('event'); });
    }
    es.addEventListener('error', (e) => {
      trace.push(['error', e.kind, e.status ?? null, e.willRetry, e.retryIn ?? null, es.readyState]);
      messages.push(e.message);
      bodies.push(e.body ?? null);
      act('error');
    });
    if (sc.options?.$comments) {
      // onComment pushed the entry; count it for `act`.
      const push = trace.push.bind(trace);
      trace.push = (entry) => { const n = push(entry); if (entry[0] === 'comment') act('comment'); return n; };
    }
    try {
      await until(() => es.readyState === 2, 'CLOSED', timeout);
    } catch (e) {
      es.close();
      fail(`${e.message}; trace so far ${show(trace)}`);
    }
  }
  if (measuring) {
    const { stall, grew } = measuring.stop();
    out.measured = `stall ${Math.round(stall)} ms, memory ${grew === undefined ? 'not measured' : `+${mib(grew)} MiB (${memory.what})`}`;
    const maxStall = perRunner(expect.maxStallMs, env);
    if (maxStall !== undefined && stall > maxStall) {
      fail(`the event loop stalled ${Math.round(stall)} ms (the worst gap between 10 ms ticks), expected at most ${maxStall} ms`);
    }
    if ('maxMemoryMiB' in expect && grew !== undefined && grew > expect.maxMemoryMiB * 1048576) {
      fail(`the memory grew ${mib(grew)} MiB (${memory.what}), expected under ${expect.maxMemoryMiB} MiB`);
    }
  }
  await sleep(sc.settle ?? 100);
  if (expect.trace) {
    const want = expect.trace.map((w) => (w[0] === 'event' ? [...w.slice(0, 2), expand(w[2]), w[3]] : w));
    if (trace.length !== want.length || !trace.every((g, i) => same(g, expect.trace[i]))) {
      const at = trace.findIndex((g, i) => !expect.trace[i] || !same(g, expect.trace[i]));
      fail(`trace differs at entry ${at < 0 ? trace.length : at}: got ${show(trace)}, expected ${show(want)}`);
    }
  }
  if (expect.count) {
    const counts = {};
    for (const t of trace) {
      counts[t[0]] = (counts[t[0]] ?? 0) + 1;
      if (t[0] === 'error') counts[`error:${t[1]}`] = (counts[`error:${t[1]}`] ?? 0) + 1;
    }
    for (const [k, n] of Object.entries(expect.count)) {
      if ((counts[k] ?? 0) !== n) fail(`count of ${k}: ${counts[k] ?? 0}, expected ${n}`);
    }
  }
  if (expect.inOrder) {
    const events = trace.filter((t) => t[0] === 'event');
    const bad = events.findIndex((t, i) => t[2] !== String(i + 1) || t[3] !== t[2]);
    if (bad >= 0) fail(`event ${bad + 1} is ${show(events[bad])}: lost, repeated or out of order`);
  }
  if (expect.errorBodies && JSON.stringify(bodies) !== JSON.stringify(expect.errorBodies)) {
    fail(`error bodies ${show(bodies)}, expected ${show(expect.errorBodies)}`);
  }
  if (expect.message) {
    if (!new RegExp(expect.message).test(messages.at(-1) ?? '')) fail(`message ${show(messages.at(-1))} does not match ${expect.message}`);
  }
  if ('requests' in expect || expect.gaps || expect.ended) {
    let log = await readLog(server, token);
    if (expect.ended) {
      const end = Date.now() + expect.ended + 500;
      while (log.length && log[log.length - 1].ended == null && Date.now() < end) {
        await sleep(10);
        log = await readLog(server, token);
      }
      const ended = log.length ? log[log.length - 1].ended : null;
      if (closedAt === undefined) fail('ended: the scenario never called close()');
      else if (ended == null || ended - closedAt > expect.ended) {
        fail(`the server saw the end ${ended == null ? 'never' : `${ended - closedAt} ms`} after close(), expected within ${expect.ended} ms`);
      }
    }
    if ('requests' in expect) {
      let want = expect.requests;
      // Per runner, where the clients differ (`web-js/ENV`, `web-js/ENGINE`, `web-js`, `*`).
      want = perRunner(want, env);
      if (want === undefined) fail('requests: no count for web-js');
      else checkRequests(log, want, fail);
    }
    (expect.gaps ?? []).forEach(([min, max], i) => {
      if (!log[i + 1]) return fail(`gap ${i + 1}: no request ${i + 2}`);
      const gap = log[i + 1].at - log[i].at;
      if (gap < min || gap > max) fail(`gap ${i + 1}: ${gap} ms, expected ${min}..${max}`);
    });
  }
  return failures;
}

/** The value for this runner of an expectation that differs by runner: a plain value, or an
 * object looked up at `web-js/ENV`, `web-js/ENGINE`, `web-js`, then `*`. */
function perRunner(v, env) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return v[`web-js/${env}`] ?? v[`web-js/${engine()}`] ?? v['web-js'] ?? v['*'];
}

/** The browser engine of this realm (`chromium`, `firefox`, `webkit`; undefined outside a
 * browser): runners name it, and a scenario may skip it (`web-js/webkit`). */
export function engine() {
  const ua = globalThis.navigator?.userAgent ?? '';
  if (/Firefox\//.test(ua)) return 'firefox';
  if (/Chrom(e|ium)\//.test(ua)) return 'chromium';
  if (/AppleWebKit\//.test(ua)) return 'webkit';
  return undefined;
}

/**
 * Runs every scenario of `tableText` in realm `env`; resolves with the summary line (also posted
 * to sse-testserver, where scripts/test.sh collects every runner's), rejects listing every
 * scenario that diverged. `probe.wasmMemory`, when given, is the engine's `WebAssembly.Memory`,
 * for `maxMemoryMiB` where the realm has no better measure.
 */
export async function runTable(EventSource, server, tableText, env, probe = {}) {
  const table = JSON.parse(tableText);
  const skipped = [];
  const failed = [];
  const unmeasured = [];
  const measures = [];
  const memory = await memoryProbe(probe);
  let ran = 0;
  const browser = engine();
  for (const sc of table) {
    const reason = sc.skip?.[`web-js/${env}`] ?? sc.skip?.[`web-js/${browser}`] ?? sc.skip?.['web-js'];
    if (reason) {
      skipped.push(`${sc.name} (${reason})`);
      continue;
    }
    let failures;
    const out = {};
    try {
      failures = await runOne(EventSource, server, sc, env, memory, out);
    } catch (e) {
      failures = [`threw ${e?.stack ?? e}`];
    }
    ran++;
    if (out.measured) measures.push(`\n  ${sc.name}: ${out.measured}`);
    if ('maxMemoryMiB' in sc.expect && !memory.read) unmeasured.push(sc.name);
    if (failures.length) failed.push(`${sc.name}: ${failures.join('; ')}`);
  }
  const limits = unmeasured.length ? `; unmeasured: maxMemoryMiB in ${unmeasured.join(', ')} (${memory.why})` : '';
  const line = `scenario table: web-js (${env}${browser ? `, ${browser}` : ''}) ran ${ran} of ${table.length}; skipped: ${skipped.join(', ') || 'none'}${limits}`;
  try {
    await fetch(`${server}/inline?token=scenario-table&script=${encodeURIComponent('{"status":204}')}`, { method: 'POST', body: line + measures.join('') });
  } catch {
    // The count is also in the result; a server that is gone fails the scenarios anyway.
  }
  if (failed.length || ran !== table.length - skipped.length) {
    throw new Error(`${line}\n${failed.length} diverged:\n${failed.join('\n')}`);
  }
  return line;
}
