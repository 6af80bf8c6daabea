// The codes the JS and Rust halves of sse-web exchange are one definition: each side's constants
// must agree with the other's, name for name, or `npm test` fails (a code added on one side only,
// or renumbered, is caught here rather than by a scenario that happens to use it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readOptions } from '../../src/js/event_source.js';

const read = (path) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
/** `const NAME = N;` (JS) or `const NAME: u8 = N;` (Rust) as { NAME: N }. */
function constants(source) {
  const out = {};
  for (const m of source.matchAll(/const ([A-Z_]+)(?:: u(?:8|16|32|size))? = (\d+);/g)) out[m[1]] = Number(m[2]);
  return out;
}
const pick = (all, names) => Object.fromEntries(names.map((n) => [n, all[n]]));

test('io.js reports with the codes src/engine.rs routes', () => {
  const names = ['RESPONDED', 'READ', 'FAILED', 'TIMER', 'REFUSED', 'PREPARED', 'CORS'];
  const js = pick(constants(read('src/js/io.js')), names);
  assert.deepEqual(js, pick(constants(read('src/engine.rs')), names));
  assert.equal(new Set(Object.values(js)).size, names.length, 'distinct codes');
});

test('io.js feeds the engine in pieces of sse-web-core\'s FEED_PER_TURN', () => {
  const js = constants(read('src/js/io.js')).FEED_PER_TURN;
  assert.ok(js > 0, 'defined in io.js');
  assert.equal(js, constants(read('crates/sse-web-core/src/reconnect.rs')).FEED_PER_TURN);
});

test('the frame and signal codes of src/js_bridge.rs are the shell\'s', () => {
  const names = ['TYPED', 'NEW_ID', 'RETRY', 'ID', 'COMMENT', 'ABORTED', 'HIDDEN', 'ONLINE', 'FROZEN'];
  const js = pick(constants(read('src/js/event_source.js')), names);
  assert.ok(Object.values(js).every(Number.isInteger), 'every code defined in the shell');
  assert.deepEqual(js, pick(constants(read('src/js_bridge.rs')), names));
});

test('readOptions fills the positions src/options.rs reads, by the same names', () => {
  // The Rust side: `const NAME: u32 = i;` for each position.
  const rust = Object.entries(constants(read('src/options.rs'))).sort((a, b) => a[1] - b[1]);
  assert.deepEqual(rust.map(([, i]) => i), rust.map((_, i) => i), 'positions 0..n');
  const snake = (camel) => camel.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  // The JS side, from the list it documents...
  const listed = read('src/js/event_source.js').match(/readOptions' array, by position[^:]*:([^]*?)\n\n/)[1]
    .replace(/\/\//g, ' ').trim().split(/\s+/);
  assert.deepEqual(listed.map(snake), rust.map(([n]) => n));
  // ...and from what it does: each option set alone lands at its position.
  const probes = {
    method: [{ method: 'M' }, 'M'], withCredentials: [{ withCredentials: true }, true],
    inactivityTimeout: [{ inactivityTimeout: 11 }, 11], maxEventSize: [{ maxEventSize: 12 }, 12],
    lastEventId: [{ lastEventId: 'L' }, 'L'], lastEventIdQuery: [{ lastEventIdQuery: 'q' }, 'q'],
    pauseWhenHidden: [{ pauseWhenHidden: true }, true], reconnectOnOnline: [{ reconnectOnOnline: false }, false],
    preset: [{ retry: { preset: 'resilient' } }, 'resilient'], reconnectionTime: [{ retry: { reconnectionTime: 13 } }, 13],
    minDelay: [{ retry: { minDelay: 14 } }, 14], maxAttempts: [{ retry: { maxAttempts: 15 } }, 15],
    backoff: [{ retry: { backoff: true } }, true], factor: [{ retry: { backoff: { factor: 1.5 } } }, 1.5],
    maxDelay: [{ retry: { backoff: { maxDelay: 16 } } }, 16], jitter: [{ retry: { backoff: { jitter: false } } }, false],
    resetAfter: [{ retry: { backoff: { resetAfter: 17 } } }, 17], classify: [{ retry: { classify: 'transient' } }, 'transient'],
    onComment: [{ onComment: () => {} }, true], closeOnEnd: [{ retry: { closeOnEnd: true } }, true],
  };
  listed.forEach((name, i) => {
    if (name === 'headers') {
      const h = { A: 'b' };
      assert.equal(readOptions({ headers: h })[i], h, 'headers');
      return;
    }
    const [init, value] = probes[name];
    assert.equal(readOptions(init)[i], value, name);
  });
  assert.equal(readOptions({}).length, listed.length);
});

test('readOptions refuses an onComment that is not a function, naming it', () => {
  assert.equal(readOptions({})[readOptions({}).length - 1], undefined, 'none given: comments stay in the engine');
  assert.throws(() => readOptions({ onComment: 'log' }), (e) => e instanceof TypeError && e.message.includes('option onComment '));
});

test('the shell hands comments over in stream order, and takes readyState from the engine on restart()', async () => {
  // The shell alone, over a stand-in engine: the frame codes are the Rust side's.
  const { defineEventSource } = await import('../../src/js/event_source.js');
  const c = constants(read('src/js_bridge.rs'));
  let hooks;
  const engine = { start() {}, close: () => 2, free() {}, signal() {}, restart: () => hooks.connecting() };
  const Source = defineEventSource((h) => { hooks = h; return engine; });
  const meta = [c.EVENT, c.EVENT, c.COMMENT, c.EVENT | c.TYPED];
  const text = 'a\rb\rhi\rt\rc\r';

  const seen = [];
  const plain = new Source('http://x/', { onComment: (s) => seen.push(['comment', s]) });
  plain.onmessage = (e) => seen.push(['message', e.data]);
  plain.addEventListener('t', (e) => seen.push(['t', e.data]));
  hooks.open('http://x/');
  hooks.frames(meta, text);
  assert.deepEqual(seen, [['message', 'a'], ['message', 'b'], ['comment', 'hi'], ['t', 'c']]);
  assert.equal(plain.readyState, 1);
  plain.restart();
  assert.equal(plain.readyState, 0, 'CONNECTING, from the engine');
  plain.close();
  plain.restart();
  assert.equal(plain.readyState, 2, 'a no-op once closed');

  // With batch, the events before a comment are delivered before it.
  seen.length = 0;
  new Source('http://x/', {
    batch: (events) => seen.push(['batch', events.map((e) => e.data)]),
    onComment: (s) => seen.push(['comment', s]),
  });
  hooks.frames(meta, text);
  assert.deepEqual(seen, [['batch', ['a', 'b']], ['comment', 'hi'], ['batch', ['c']]]);
});

test('io.js tells a CORS block from a network error by one no-cors request, only where CORS is enforced', async () => {
  const { Io } = await import('../../src/js/io.js');
  const c = constants(read('src/js/io.js'));
  const saved = { fetch: globalThis.fetch, location: Object.getOwnPropertyDescriptor(globalThis, 'location') };
  const calls = [];
  let probe; // how the no-cors request settles: 'answer', 'refuse' or 'hang'
  globalThis.fetch = (url, init) => {
    calls.push([url, init]);
    if (init.mode !== 'no-cors') return Promise.reject(new TypeError('Failed to fetch'));
    if (probe === 'hang') return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)));
    return probe === 'answer' ? Promise.resolve(new Response(null, { status: 200 })) : Promise.reject(new TypeError('Failed to fetch'));
  };
  const here = (origin) => Object.defineProperty(globalThis, 'location', { value: origin && { href: `${origin}/page`, origin }, configurable: true });
  /** What one attempt reports (code and the words), and the requests it made. */
  async function attempt(url, init) {
    calls.length = 0;
    const got = [];
    const io = new Io((what, conn, value) => got.push([what, value?.[1]]), init);
    io.fetch(1, url, 'GET', undefined, 'same-origin');
    await new Promise((r) => setTimeout(r, 10));
    return { got, modes: calls.map(([, i]) => i.mode ?? 'cors'), io };
  }
  try {
    here('http://page.test');
    probe = 'answer';
    let a = await attempt('http://api.test/s');
    assert.deepEqual(a.got, [[c.CORS, 'Failed to fetch']], 'the server answered: CORS');
    assert.deepEqual(a.modes, ['cors', 'no-cors']);
    const [, init] = calls[1];
    assert.deepEqual([init.method, init.credentials, init.cache, init.headers], ['GET', 'omit', 'no-store', undefined]);
    assert.equal(init.signal.aborted, true, 'the answer is let go');
    probe = 'refuse';
    a = await attempt('http://api.test/s');
    assert.deepEqual([a.got, a.modes], [[[c.FAILED, 'Failed to fetch']], ['cors', 'no-cors']], 'unreachable: a network error');
    probe = 'hang';
    a = await attempt('http://api.test/s');
    assert.deepEqual([a.got, a.modes], [[], ['cors', 'no-cors']], 'waiting for the answer');
    a.io.stop();
    assert.equal(calls[1][1].signal.aborted, true, 'close() aborts it');
    probe = 'answer';
    // Same origin (relative URLs too), a fetch override's own failures, a realm without CORS: no probe.
    for (const url of ['http://page.test/s', '/s']) assert.deepEqual((await attempt(url)).modes, ['cors'], url);
    a = await attempt('http://api.test/s', { fetch: (url, i) => globalThis.fetch(url, i) });
    assert.deepEqual([a.got, a.modes], [[[c.FAILED, 'Failed to fetch']], ['cors']], 'an override');
    here(undefined);
    a = await attempt('http://api.test/s');
    assert.deepEqual([a.got, a.modes], [[[c.FAILED, 'Failed to fetch']], ['cors']], 'no location (Node)');
  } finally {
    globalThis.fetch = saved.fetch;
    if (saved.location) Object.defineProperty(globalThis, 'location', saved.location);
    else delete globalThis.location;
  }
});
