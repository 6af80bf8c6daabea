// Scenarios of the JS EventSource against sse-testserver, run by the wasm-bindgen suites in a
// page, a dedicated Worker and Node (tests/common). Each resolves, or rejects with what failed.

function assert(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}
function eq(a, b, what) {
  const [x, y] = [JSON.stringify(a), JSON.stringify(b)];
  if (x !== y) throw new Error(`${what}: expected ${y}, got ${x}`);
}
const token = (name) => `${name}-${Math.random().toString(36).slice(2)}`;

/** Resolves when `cond()` holds, polling; rejects after `ms`. */
async function until(cond, what, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
/** The request log sse-testserver keeps for token `t`. */
export const log = async (server, t) => (await fetch(`${server}/log?token=${t}`)).json();
async function store(server, t, scripts) {
  const res = await fetch(`${server}/script?token=${t}`, { method: 'POST', body: JSON.stringify(scripts) });
  assert(res.ok, 'script stored');
  return `${server}/s?token=${t}`;
}

/** Records everything a source fires. */
function record(es) {
  const seen = { events: [], errors: [], opens: 0, states: [] };
  es.onopen = () => { seen.opens++; seen.states.push(es.readyState); };
  es.onmessage = (e) => seen.events.push({ type: e.type, data: e.data, id: e.lastEventId, origin: e.origin, message: e instanceof MessageEvent });
  es.addEventListener('error', (e) => { seen.errors.push({ kind: e.kind, status: e.status, willRetry: e.willRetry, retryIn: e.retryIn, state: es.readyState, message: e.message }); });
  return seen;
}


// The request both clients put on the wire for the same options (crates/sse-client/tests/client.rs
// reads this table too, between the markers: keep it JSON). Header names as the server logs
// them; `headers` must be present with exactly these values (once each), `absent` must not be.
// wire:begin
export const WIRE = [
  {"name": "spec defaults", "options": {},
   "expect": {"method": "GET", "headers": [["accept", "text/event-stream"], ["cache-control", "no-cache"], ["pragma", "no-cache"]], "absent": ["last-event-id"], "body": ""}},
  {"name": "user headers replace the defaults; the method is normalised; the ID as UTF-8",
   "options": {"method": "post", "headers": [["Accept", "application/json"], ["X-A", " 1 "]], "lastEventId": "é1", "body": "x"},
   "expect": {"method": "POST", "headers": [["accept", "application/json"], ["x-a", "1"], ["cache-control", "no-cache"], ["pragma", "no-cache"], ["last-event-id", "é1"]], "absent": [], "body": "x"}},
  {"name": "a user cache header stays, the other default is added",
   "options": {"method": "Put", "headers": [["Cache-Control", "max-age=0"]]},
   "expect": {"method": "PUT", "headers": [["cache-control", "max-age=0"], ["pragma", "no-cache"], ["accept", "text/event-stream"]], "absent": [], "body": ""}}
];
// wire:end

/** What the server logged of `request` matches `expect` (a WIRE entry's). */
export function matchesWire(request, expect, what) {
  eq(request.method, expect.method, `${what}: method`);
  for (const [name, value] of expect.headers) {
    eq(request.headers.filter(([n]) => n === name).map(([, v]) => v), [value], `${what}: ${name}`);
  }
  for (const name of expect.absent) eq(request.headers.some(([n]) => n === name), false, `${what}: no ${name}`);
  eq(request.body, expect.body, `${what}: body`);
}

export const scenarios = {

  async wire_parity(EventSource, server) {
    for (const { name, options, expect } of WIRE) {
      const t = token('wire');
      const es = new EventSource(`${server}/inline?token=${t}&script=${encodeURIComponent('{"status":204}')}`, options);
      await until(() => es.readyState === 2, `${name}: closed by 204`);
      const requests = await log(server, t);
      eq(requests.length, 1, `${name}: one request`);
      matchesWire(requests[0], expect, name);
    }
  },

  async state_is_the_engines(EventSource, server) {
    const t = token('state');
    const seen = [];
    const fetchSpy = (url, init) => { seen.push(init.credentials); return fetch(url, init); };
    const url = `${server}/inline?token=${t}&script=${encodeURIComponent('{"status":204}')}`;
    // reconnectionTime is the engine's: the resilient preset's 1000 ms, not the spec's 3000.
    const resilient = new EventSource(url, { retry: { preset: 'resilient' }, fetch: fetchSpy });
    await until(() => resilient.readyState === 2, 'closed by 204');
    eq(resilient.reconnectionTime, 1000, 'reconnectionTime of the preset');
    // withCredentials is converted once (WebIDL boolean), and that is what goes on the wire.
    const one = new EventSource(url, { withCredentials: 1, fetch: fetchSpy });
    eq(one.withCredentials, true, 'withCredentials: 1 reads true');
    await until(() => one.readyState === 2, 'closed by 204');
    const none = new EventSource(url, { fetch: fetchSpy });
    await until(() => none.readyState === 2, 'closed by 204');
    eq(seen, ['same-origin', 'include', 'same-origin'], 'credentials sent');
    eq([none.lastEventId, new EventSource(url, { lastEventId: 'x' }).lastEventId], ['', 'x'], 'lastEventId');
  },

  async bad_options_throw_at_construction(EventSource, server) {
    const t = token('bad');
    const url = `${server}/inline?token=${t}&script=${encodeURIComponent('{"status":204}')}`;
    let e;
    try { new EventSource('http://[::1'); } catch (x) { e = x; }
    assert(e instanceof DOMException && e.name === 'SyntaxError', `a bad URL throws a SyntaxError: ${e}`);
    const cases = [
      [{ maxEventSize: -1 }, 'maxEventSize'], [{ maxEventSize: NaN }, 'maxEventSize'], [{ maxEventSize: '1000' }, 'maxEventSize'],
      [{ maxEventSize: 1.5 }, 'maxEventSize'], [{ maxEventSize: 0 }, 'maxEventSize'], [{ inactivityTimeout: Infinity }, 'inactivityTimeout'],
      [{ method: 'GE T' }, 'method'], [{ method: 'TRACE' }, 'method'], [{ headers: { 'X Y': 'v' } }, 'headers'],
      [{ headers: { A: 'a\nb' } }, 'headers'], [{ headers: { 'Last-Event-ID': '1' } }, 'headers'], [{ headers: 5 }, 'headers'],
      [{ lastEventId: '1\nAuthorization\nBearer x' }, 'lastEventId'], [{ lastEventId: 'a\0' }, 'lastEventId'],
      [{ retry: { backoff: { factor: NaN } } }, 'retry.backoff.factor'], [{ retry: { backoff: { factor: 0.5 } } }, 'retry.backoff.factor'],
      [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'], [{ retry: { preset: 'fast' } }, 'retry.preset'],
      [{ retry: { classify: 'sometimes' } }, 'retry.classify'], [{ retry: { backoff: 'yes' } }, 'retry.backoff'],
    ];
    for (const [init, name] of cases) {
      let thrown;
      try { new EventSource(url, init); } catch (x) { thrown = x; }
      assert(thrown instanceof TypeError, `${JSON.stringify(init)} throws a TypeError: ${thrown}`);
      assert(thrown.message.includes(`option ${name} `), `${JSON.stringify(init)} names ${name}: ${thrown.message}`);
    }
    await new Promise((r) => setTimeout(r, 50));
    eq((await log(server, t)).length, 0, 'no request was made');
  },

  async user_code_failures_are_request_errors(EventSource, server) {
    const t = token('user');
    const url = `${server}/counter?token=${t}&total=3`;
    const boom = new Error('no token today');
    const nonBytes = () => Promise.resolve(new Response(new ReadableStream({ start(c) { c.enqueue('not bytes'); } }), { headers: { 'content-type': 'text/event-stream' } }));
    const cases = [
      ['headers() throws', { headers: () => { throw boom; } }, boom],
      ['headers() rejects', { headers: () => Promise.reject(boom) }, boom],
      ['body() throws', { method: 'POST', body: () => { throw boom; } }, boom],
      ['headers() gives Last-Event-ID', { headers: () => ({ 'Last-Event-ID': '9' }) }, undefined],
      ['fetch throws', { fetch: () => { throw boom; } }, boom],
      ['fetch gives no Response', { fetch: () => Promise.resolve({}) }, undefined],
      ['the body yields no bytes', { fetch: nonBytes }, undefined],
    ];
    for (const [what, init, cause] of cases) {
      const es = new EventSource(url, { retry: { reconnectionTime: 10, preset: 'resilient' }, ...init });
      const seen = record(es);
      const causes = [];
      es.addEventListener('error', (e) => causes.push(e.cause));
      await until(() => es.readyState === 2, `${what}: closed`);
      await new Promise((r) => setTimeout(r, 50));
      eq(seen.errors.map((e) => [e.kind, e.willRetry, e.state]), [['request', false, 2]], `${what}: one request error, closed for good`);
      assert(seen.errors[0].message.startsWith('the request could not be made'), `${what}: message ${seen.errors[0].message}`);
      if (cause) {
        assert(causes[0] === cause, `${what}: the cause is the user's error`);
        assert(seen.errors[0].message.includes('no token today'), `${what}: its text is in the message`);
      }
    }
    eq((await log(server, t)).length, 0, 'none reached the server (the fetch overrides made none)');
  },

  async close_inside_classify(EventSource, server) {
    // The classifier runs while the engine decides: a close() from inside it is applied as soon
    // as the engine is free, and wins.
    const t = token('classify-close');
    const url = `${server}/inline?token=${t}&script=${encodeURIComponent('{"status":503}')}`;
    let es;
    const calls = [];
    es = new EventSource(url, {
      retry: { reconnectionTime: 10, classify: (info, retry) => { calls.push([info.kind, info.status, retry]); es.close(); return true; } },
    });
    const seen = record(es);
    await until(() => calls.length === 1, 'the classifier called');
    await new Promise((r) => setTimeout(r, 100));
    eq(calls, [['http', 503, false]], 'called once, with the default decision');
    eq(es.readyState, 2, 'closed');
    eq(seen.errors.length, 0, 'no error event after close()');
    eq((await log(server, t)).length, 1, 'no reconnect');
  },

  async transport_message_is_kept(EventSource) {
    const es = new EventSource('http://127.0.0.1:1/', { retry: { maxAttempts: 1 } });
    const seen = record(es);
    const causes = [];
    es.addEventListener('error', (e) => causes.push(e.cause));
    await until(() => es.readyState === 2, 'closed');
    eq(seen.errors.map((e) => [e.kind, e.state]), [['network', 2]], 'a network error');
    const m = seen.errors[0].message;
    assert(/^the connection failed: .+; gave up after 1 failed attempts in a row$/.test(m), `the platform's words kept: ${m}`);
    assert(causes[0] instanceof Error, 'the cause is the platform error');
  },

  async long_timers_do_not_fire_early(EventSource, server) {
    // setTimeout fires at once past 2^31 - 1 ms: the engine re-arms instead.
    const t = token('long');
    const url = await store(server, t, [{ steps: [{ write: 'retry: 3000000000\ndata: a\n\n' }] }]);
    const es = new EventSource(url, { inactivityTimeout: 3e9 });
    const seen = record(es);
    await until(() => seen.errors.length === 1, 'the end of the stream');
    eq(seen.events.map((e) => e.data), ['a'], 'the stream opened (the inactivity timer did not fire first)');
    eq([seen.errors[0].kind, seen.errors[0].retryIn], ['ended', 3000000000], 'a long wait announced');
    await new Promise((r) => setTimeout(r, 400));
    es.close();
    eq((await log(server, t)).length, 1, 'no reconnect storm');
  },
  async spec_defaults(EventSource, server) {
    const t = token('spec');
    const url = await store(server, t, [
      { steps: [{ write: 'retry: 10\nid: é1\nevent: greet\ndata: a\ndata: b\n\n' }, { write: 'data: c\n\nid: 2\ndata: cut' }] },
      { steps: [{ write: ': hi\n\ndata: d\n\n' }] },
      { status: 204 },
    ]);
    const es = new EventSource(url);
    assert(es instanceof EventTarget, 'an EventTarget');
    eq([EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED, es.CLOSED], [0, 1, 2, 2], 'constants');
    eq(es.readyState, 0, 'CONNECTING at first');
    eq(es.url, url, 'url');
    eq(es.withCredentials, false, 'withCredentials');
    const seen = record(es);
    const greet = [];
    es.addEventListener('greet', (e) => greet.push([e.data, e.lastEventId]));
    await until(() => es.readyState === 2, 'closed by 204');
    eq(greet, [['a\nb', 'é1']], 'named event');
    eq(seen.events.map((e) => [e.data, e.id]), [['c', 'é1'], ['d', 'é1']], 'messages, the cut one discarded');
    assert(seen.events.every((e) => e.message && e.origin === new URL(server).origin), 'MessageEvents with origin');
    eq(seen.opens, 2, 'opened twice');
    eq(seen.errors.map((e) => [e.kind, e.status, e.willRetry, e.state]), [['ended', undefined, true, 0], ['ended', undefined, true, 0], ['http', 204, false, 2]], 'errors');
    eq(es.lastEventId, 'é1', 'lastEventId getter');
    eq(es.reconnectionTime, 10, 'reconnectionTime from retry:');
    const requests = await log(server, t);
    eq(requests.length, 3, 'requests');
    eq(requests.map((r) => r.method), ['GET', 'GET', 'GET'], 'GET');
    eq(requests.map((r) => r.last_event_id), [null, 'é1', 'é1'], 'Last-Event-ID as UTF-8, committed only');
    assert(requests[0].headers.some(([n, v]) => n === 'accept' && v === 'text/event-stream'), 'Accept');
  },

  async http_errors_fail_for_good(EventSource, server) {
    for (const [script, kind, status] of [[{ status: 500 }, 'http', 500], [{ headers: [['Content-Type', 'text/plain']] }, 'content-type', 200]]) {
      const t = token('fatal');
      const es = new EventSource(await store(server, t, [script]), { retry: { reconnectionTime: 10 } });
      const seen = record(es);
      await until(() => seen.errors.length === 1, 'the error');
      eq(seen.errors.map((e) => [e.kind, e.status, e.willRetry, e.state]), [[kind, status, false, 2]], 'fatal');
      await new Promise((r) => setTimeout(r, 100));
      eq((await log(server, t)).length, 1, 'no retry');
    }
  },

  async post_headers_body_on_every_attempt(EventSource, server) {
    const t = token('post');
    const url = await store(server, t, [{ steps: [{ write: 'id: 1\ndata: x\n\n' }] }, { status: 204 }]);
    let n = 0;
    const es = new EventSource(url, {
      method: 'POST',
      headers: async () => ({ Authorization: `Bearer t${n++}`, 'Content-Type': 'application/json' }),
      body: () => JSON.stringify({ q: 'é' }),
      retry: { reconnectionTime: 10 },
    });
    const seen = record(es);
    await until(() => es.readyState === 2, 'done');
    eq(seen.events.length, 1, 'event');
    const requests = await log(server, t);
    eq(requests.map((r) => [r.method, r.body]), [['POST', '{"q":"é"}'], ['POST', '{"q":"é"}']], 'body resent');
    eq(requests.map((r) => r.headers.find(([k]) => k === 'authorization')?.[1]), ['Bearer t0', 'Bearer t1'], 'headers per attempt');
  },

  async close_inside_onmessage_cancels_the_rest(EventSource, server) {
    const t = token('close');
    const url = await store(server, t, [{ steps: [{ write: 'retry: 5\ndata: 1\n\ndata: 2\n\ndata: 3\n\n' }] }]);
    const es = new EventSource(url);
    const got = [];
    es.onmessage = (e) => { got.push(e.data); if (e.data === '2') es.close(); };
    await until(() => got.length >= 2, 'two events');
    eq(es.readyState, 2, 'CLOSED');
    await new Promise((r) => setTimeout(r, 100));
    eq(got, ['1', '2'], 'nothing after close');
    eq((await log(server, t)).length, 1, 'no reconnect after close');
  },

  async close_inside_onerror(EventSource, server) {
    const t = token('closeerr');
    const es = new EventSource(await store(server, t, [{ steps: [{ write: 'retry: 5\n' }] }]));
    let errors = 0;
    es.onerror = () => { errors++; es.close(); };
    await until(() => errors === 1, 'the end of the stream');
    await new Promise((r) => setTimeout(r, 100));
    eq(errors, 1, 'one error');
    eq((await log(server, t)).length, 1, 'no reconnect');
  },

  async hundred_reconnects_leak_nothing(EventSource, server) {
    const t = token('cycles');
    const es = new EventSource(await store(server, t, [{ steps: [{ write: 'retry: 0\ndata: x\n\n' }] }]));
    let opens = 0;
    es.onopen = () => { opens++; if (opens === 100) es.close(); };
    await until(() => opens === 100, '100 opens', 20000);
    await new Promise((r) => setTimeout(r, 100));
    eq((await log(server, t)).length, 100, 'exactly 100 requests: no leaked fetch or timer');
  },

  async abort_signal(EventSource, server) {
    const t = token('abort');
    const controller = new AbortController();
    const es = new EventSource(await store(server, t, [{ steps: [{ write: 'data: a\n\n' }], end: 'hang' }]), { signal: controller.signal });
    const seen = record(es);
    await until(() => seen.events.length === 1, 'an event');
    controller.abort();
    await until(() => seen.errors.length === 1, 'the aborted error');
    eq(seen.errors.map((e) => [e.kind, e.state]), [['aborted', 2]], 'aborted');
    const pre = new AbortController();
    pre.abort();
    const es2 = new EventSource(`${server}/counter?total=3`, { signal: pre.signal });
    const seen2 = record(es2);
    await until(() => seen2.errors.length === 1, 'already aborted');
    eq([seen2.errors[0].kind, es2.readyState, seen2.events.length], ['aborted', 2, 0], 'an already-aborted signal');
  },
};

Object.assign(scenarios, {
  async network_chunk_boundaries(EventSource, server) {
    // é split across chunks, a CRLF split across chunks, a CR ending a chunk.
    const t = token('chunks');
    const url = await store(server, t, [
      { steps: [{ hex: '646174613a2063616fc3' }, { sleep: 30 }, { hex: 'a90d' }, { sleep: 30 }, { hex: '0a0d' }, { sleep: 30 }, { write: '\ndata: next\r' }, { sleep: 30 }, { write: '\r' }], end: 'hang' },
    ]);
    const es = new EventSource(url);
    const seen = record(es);
    await until(() => seen.events.length === 2, 'two events');
    es.close();
    eq(seen.events.map((e) => e.data), ['caoé', 'next'], 'decoded across chunks');
  },

  async event_types_and_ids_across_chunks(EventSource, server) {
    // Types and IDs repeat, change and change back, across chunks and in the fast path.
    const t = token('types');
    const url = await store(server, t, [
      { steps: [{ write: 'event: a\nid: 1\ndata: 1\n\nevent: a\ndata: 2\n\n' }, { sleep: 30 }, { write: 'data: 3\n\nevent: a\nid: 2\ndata: 4\n\nid\n\n' }, { sleep: 30 }, { write: 'event: b\ndata: 5\n\nevent: a\ndata: 6\n\n' }], end: 'hang' },
    ]);
    const expect = [['a', '1', '1'], ['a', '2', '1'], ['message', '3', '1'], ['a', '4', '2'], ['b', '5', ''], ['a', '6', '']];
    const got = [];
    const es = new EventSource(url);
    for (const type of ['a', 'b', 'message']) es.addEventListener(type, (e) => got.push([e.type, e.data, e.lastEventId]));
    await until(() => got.length === 6, 'six events');
    es.close();
    eq(got, expect, 'EventTarget');
    const batched = [];
    const fast = new EventSource(url, { batch: (events) => batched.push(...events.map((e) => [e.type, e.data, e.lastEventId])) });
    await until(() => batched.length === 6, 'six batched events');
    fast.close();
    eq(batched, expect, 'fast path');
  },

  async fetch_override_and_last_event_id_query(EventSource, server) {
    const t = token('query');
    const calls = [];
    const es = new EventSource(`${server}/counter?token=${t}&total=7`, {
      lastEventId: '5',
      lastEventIdQuery: true,
      retry: { reconnectionTime: 10 },
      fetch: (url, init) => { calls.push(url); return fetch(url, init); },
    });
    const seen = record(es);
    await until(() => es.readyState === 2, 'done (204)');
    eq(seen.events.map((e) => e.data), ['6', '7'], 'resumed after the initial id');
    eq(calls.length, 2, 'the override made every request');
    const requests = await log(server, t);
    assert(requests[0].uri.endsWith('lastEventId=5') && requests[1].uri.endsWith('lastEventId=7'), 'query parameter');
    eq(requests.map((r) => r.last_event_id), ['5', '7'], 'and the header');
  },

  async inactivity_timeout_reconnects(EventSource, server) {
    const t = token('idle');
    const url = await store(server, t, [{ steps: [{ write: 'data: a\n\n' }], end: 'hang' }, { steps: [{ write: 'data: b\n\n' }] }, { status: 204 }]);
    const es = new EventSource(url, { inactivityTimeout: 200, retry: { reconnectionTime: 10 } });
    const seen = record(es);
    await until(() => es.readyState === 2, 'done');
    eq(seen.events.map((e) => e.data), ['a', 'b'], 'events');
    eq(seen.errors[0].kind, 'timeout', 'timeout first');
    eq(seen.errors[0].willRetry, true, 'and retried');
  },

  async backoff_classify_and_max_attempts(EventSource, server) {
    const t = token('attempts');
    const url = await store(server, t, [{ status: 503 }]);
    const es = new EventSource(url, { retry: { reconnectionTime: 10, backoff: { factor: 2, maxDelay: 40, jitter: false }, classify: 'transient', maxAttempts: 4 } });
    const seen = record(es);
    await until(() => es.readyState === 2, 'gave up');
    eq(seen.errors.map((e) => [e.status, e.willRetry]), [[503, true], [503, true], [503, true], [503, false]], 'errors');
    eq((await log(server, t)).length, 4, 'four attempts');
    const t2 = token('hook');
    const url2 = await store(server, t2, [{ status: 418 }, { status: 204 }]);
    const es2 = new EventSource(url2, { retry: { reconnectionTime: 10, classify: (f, byDefault) => f.status === 418 || byDefault } });
    const seen2 = record(es2);
    await until(() => es2.readyState === 2, 'closed by 204');
    eq(seen2.errors.map((e) => [e.status, e.willRetry]), [[418, true], [204, false]], 'the hook retried 418');
  },

  async redirect_origin_is_the_final_url(EventSource, server) {
    const cross = new URL(server);
    cross.port = String(Number(cross.port) + 1);
    const target = `${cross.origin}/counter?total=1`;
    const es = new EventSource(`${server}/redirect?code=307&to=${encodeURIComponent(target)}`, { retry: { reconnectionTime: 10 } });
    const seen = record(es);
    await until(() => es.readyState === 2, 'done');
    eq(seen.events.map((e) => e.origin), [cross.origin], 'origin of the final response');
  },

  async soak_a_thousand_disconnects(EventSource, server) {
    const t = token('soak');
    const total = 3000;
    const es = new EventSource(`${server}/counter?token=${t}&total=${total}&drops=1000&seed=7`);
    let next = 1;
    let drops = 0;
    let bad = null;
    es.onmessage = (e) => { if (e.data !== String(next)) bad ??= `got ${e.data}, expected ${next}`; next++; };
    es.onerror = (e) => { if (e.kind === 'network') drops++; };
    await until(() => es.readyState === 2 || bad, 'the end of the soak', 60000);
    assert(!bad, bad);
    eq(next, total + 1, 'every event once, in order');
    eq(drops, 1000, 'disconnects');
  },
});

Object.assign(scenarios, {
  async from_readable_stream(EventSource) {
    const bytes = new TextEncoder().encode('id: 1\ndata: one\n\nevent: x\ndata: two\n\ndata: cut');
    const stream = new ReadableStream({
      start(c) { c.enqueue(bytes.slice(0, 7)); c.enqueue(bytes.slice(7)); c.close(); },
    });
    const es = EventSource.fromReadableStream(stream);
    const seen = record(es);
    const named = [];
    es.addEventListener('x', (e) => named.push(e.data));
    await until(() => es.readyState === 2, 'closed at the end of the stream');
    eq(seen.events.map((e) => [e.data, e.id]), [['one', '1']], 'messages');
    eq(named, ['two'], 'named');
    eq(seen.errors.map((e) => [e.kind, e.willRetry]), [['ended', false]], 'ends without reconnect');
  },

  async batch_fast_path(EventSource, server) {
    const batches = [];
    const es = new EventSource(`${server}/bench?corpus=llm&n=2000`, { batch: (events) => batches.push(events) });
    let messages = 0;
    es.onmessage = () => messages++;
    await until(() => batches.flat().length === 2000, '2000 events', 10000);
    es.close();
    const all = batches.flat();
    eq(messages, 0, 'no DOM event per message');
    assert(batches.length < all.length, 'batched');
    assert(all.every((e) => e.type === 'message' && e.data.startsWith('{"id":"chatcmpl')), 'plain events');
    assert(all[1999].data.endsWith(',"n":1999}'), 'in order');
  },
});

// Page only: they drive the document's visibility and the window's online state.
export const pageScenarios = {
  async pause_when_hidden(EventSource, server) {
    let state = 'visible';
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    const flip = (to) => { state = to; document.dispatchEvent(new Event('visibilitychange')); };
    try {
      const t = token('hidden');
      const es = new EventSource(`${server}/counter?token=${t}&total=1000&interval=20`, { pauseWhenHidden: true });
      const seen = record(es);
      await until(() => seen.events.length >= 3, 'events while visible');
      flip('hidden');
      eq(es.readyState, 0, 'CONNECTING while hidden');
      const at = seen.events.length;
      await new Promise((r) => setTimeout(r, 150));
      eq(seen.events.length, at, 'no event while hidden');
      flip('visible');
      flip('visible');
      await until(() => seen.events.length >= at + 3, 'events again');
      es.close();
      const requests = await log(server, t);
      eq(requests.length, 2, 'one connection after showing, never two');
      eq(requests[1].last_event_id, seen.events[at - 1].id, 'resumed from the last event');
      eq(seen.events.map((e) => Number(e.data)), seen.events.map((_, i) => i + 1), 'nothing lost or repeated');
    } finally {
      delete document.visibilityState;
    }
  },

  async online_reconnects_at_once(EventSource, server) {
    const t = token('online');
    const url = await store(server, t, [{ steps: [{ write: 'retry: 100000\ndata: a\n\n' }] }, { steps: [{ write: 'data: b\n\n' }], end: 'hang' }]);
    const es = new EventSource(url);
    const seen = record(es);
    await until(() => seen.errors.length === 1, 'the end of the first stream');
    eq(seen.errors[0].retryIn, 100000, 'a long wait');
    globalThis.dispatchEvent(new Event('offline'));
    globalThis.dispatchEvent(new Event('online'));
    await until(() => seen.events.length === 2, 'reconnected at once');
    es.close();
    eq((await log(server, t)).length, 2, 'two requests');
  },
};

/** Runs one scenario by name with the given class. */
export function run(name, EventSource, server) {
  return (scenarios[name] ?? pageScenarios[name])(EventSource, server);
}
