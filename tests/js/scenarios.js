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

/** Resolves when `cond()` (or what it resolves to) holds, polling; rejects after `ms`. */
async function until(cond, what, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
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

export const scenarios = {
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
    // JS values the WebIDL-style conversion refuses; what every client refuses is in the table.
    const cases = [
      [{ maxEventSize: -1 }, 'maxEventSize'], [{ maxEventSize: NaN }, 'maxEventSize'], [{ maxEventSize: '1000' }, 'maxEventSize'],
      [{ maxEventSize: 1.5 }, 'maxEventSize'], [{ inactivityTimeout: Infinity }, 'inactivityTimeout'],
      [{ headers: 5 }, 'headers'],
      [{ retry: { backoff: { factor: NaN } } }, 'retry.backoff.factor'], [{ retry: { preset: 'fast' } }, 'retry.preset'],
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

  async transport_failure_keeps_its_cause(EventSource) {
    // The message is the table's (connection_refused_keeps_the_platform_words); the cause is JS's.
    const es = new EventSource('http://127.0.0.1:2/', { retry: { maxAttempts: 1 } });
    const causes = [];
    es.addEventListener('error', (e) => causes.push([e.kind, e.cause]));
    await until(() => es.readyState === 2, 'closed');
    eq(causes.map(([k]) => k), ['network'], 'a network error');
    assert(causes[0][1] instanceof Error, 'the cause is the platform error');
  },

  async platform_surface(EventSource, server) {
    // What only the JS class has (the table, tests/scenarios, holds what every client observes).
    const t = token('surface');
    const url = await store(server, t, [{ steps: [{ write: 'retry: 10\nid: é1\ndata: a\n\n' }] }, { status: 204 }]);
    const es = new EventSource(url);
    assert(es instanceof EventTarget, 'an EventTarget');
    eq([EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED, es.CLOSED], [0, 1, 2, 2], 'constants');
    eq(es.readyState, 0, 'CONNECTING at first');
    eq(es.url, url, 'url');
    eq(es.withCredentials, false, 'withCredentials');
    const seen = record(es);
    await until(() => es.readyState === 2, 'closed by 204');
    assert(seen.events.length === 1 && seen.events.every((e) => e.message && e.origin === new URL(server).origin), 'MessageEvents with origin');
    eq(es.lastEventId, 'é1', 'lastEventId getter');
    eq(es.reconnectionTime, 10, 'reconnectionTime from retry:');
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
  async batch_keeps_types_and_ids(EventSource, server) {
    // The table's event_types_and_ids_across_chunks, through the fast path.
    const t = token('types');
    const url = await store(server, t, [
      { steps: [{ write: 'event: a\nid: 1\ndata: 1\n\nevent: a\ndata: 2\n\n' }, { sleep: 30 }, { write: 'data: 3\n\nevent: a\nid: 2\ndata: 4\n\nid\n\n' }, { sleep: 30 }, { write: 'event: b\ndata: 5\n\nevent: a\ndata: 6\n\n' }], end: 'hang' },
    ]);
    const expect = [['a', '1', '1'], ['a', '2', '1'], ['message', '3', '1'], ['a', '4', '2'], ['b', '5', ''], ['a', '6', '']];
    const batched = [];
    const fast = new EventSource(url, { batch: (events) => batched.push(...events.map((e) => [e.type, e.data, e.lastEventId])) });
    await until(() => batched.length === 6, 'six batched events');
    fast.close();
    eq(batched, expect, 'fast path');
  },

  async fetch_override_makes_every_request(EventSource, server) {
    const t = token('override');
    const calls = [];
    const es = new EventSource(`${server}/counter?token=${t}&total=2`, {
      lastEventIdQuery: true,
      retry: { reconnectionTime: 10 },
      fetch: (url, init) => { calls.push(url); return fetch(url, init); },
    });
    await until(() => es.readyState === 2, 'done (204)');
    eq(calls.map((u) => new URL(u).searchParams.get('lastEventId')), [null, '2'], 'the override made every request, with the query');
    eq((await log(server, t)).length, 2, 'and nothing else did');
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
    // It ends inside an event ("data: cut"): a cut, not a clean end (sse-web-core decides).
    eq(seen.errors.map((e) => [e.kind, e.willRetry]), [['network', false]], 'ends without reconnect');
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

/** `promise`, or a rejection naming `what` after `ms`. */
function within(promise, what, ms = 5000) {
  let timer;
  const late = new Promise((_, no) => { timer = setTimeout(() => no(new Error(`timed out waiting for ${what}`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// Coming from the `eventsource` package (v3/v4): what its users' code relies on.
Object.assign(scenarios, {
  async eventsource_compatibility(EventSource, server) {
    eq(EventSource[Symbol.for('eventsource.supports-fetch-override')], true, 'the feature-check symbol');
    const t = token('es-compat');
    const url = await store(server, t, [{ steps: [{ write: 'retry: 10\nid: 7\ndata: a\n\n' }] }, { status: 204 }]);
    const inits = [];
    const es = new EventSource(url, {
      method: 'POST',
      body: 'hello',
      headers: { 'X-Static': 's' },
      // The override from eventsource's README: spread the headers, add one.
      fetch: (input, init) => {
        inits.push(init);
        return fetch(input, { ...init, headers: { ...init.headers, Authorization: 'Bearer t' } });
      },
    });
    await until(() => es.readyState === 2, 'closed by 204');
    eq(inits.map((i) => Object.getPrototypeOf(i.headers) === Object.prototype), [true, true], 'headers are plain objects');
    eq(inits.map((i) => i.headers), [
      { Accept: 'text/event-stream', 'X-Static': 's' },
      { Accept: 'text/event-stream', 'X-Static': 's', 'Last-Event-ID': '7' },
    ], 'the headers as sent (names as eventsource gives them), with Last-Event-ID on the reconnect');
    eq(inits.map((i) => [i.method, i.body, i.mode, i.redirect, i.cache, i.credentials, i.signal instanceof AbortSignal]),
      [['POST', 'hello', 'cors', 'follow', 'no-store', 'same-origin', true], ['POST', 'hello', 'cors', 'follow', 'no-store', 'same-origin', true]],
      'the other fetch fields');
    const requests = await log(server, t);
    const got = (r, name) => r.headers.find(([n]) => n === name)?.[1];
    eq(requests.map((r) => ['accept', 'x-static', 'authorization', 'last-event-id'].map((n) => got(r, n))), [
      ['text/event-stream', 's', 'Bearer t', undefined],
      ['text/event-stream', 's', 'Bearer t', '7'],
    ], 'what the server received: the spread kept them');
    eq(requests.map((r) => [r.method, r.body]), [['POST', 'hello'], ['POST', 'hello']], 'method and body');

    // The global fetch still gets a Headers (no change without an override).
    const global = globalThis.fetch;
    const given = [];
    globalThis.fetch = (input, init) => { given.push(init.headers instanceof Headers); return global(input, init); };
    try {
      const plain = new EventSource(`${server}/inline?script=${encodeURIComponent('{"status":204}')}`);
      await until(() => plain.readyState === 2, 'closed by 204');
    } finally {
      globalThis.fetch = global;
    }
    eq(given, [true], 'the global fetch got a Headers');

    // eventsource's ErrorEvent: `code` is the HTTP status, `message` a string.
    const denied = new EventSource(`${server}/auth?token=${token('es-401')}`);
    const errors = [];
    denied.onerror = (e) => errors.push([e.code, e.status, e.kind, typeof e.message]);
    await until(() => denied.readyState === 2, 'closed by 401');
    eq(errors, [[401, 401, 'http', 'string']], 'code on a 401');
    const refused = new EventSource('http://127.0.0.1:2/', { retry: { maxAttempts: 1 } });
    const codes = [];
    refused.onerror = (e) => codes.push(e.code);
    await until(() => refused.readyState === 2, 'closed');
    eq(codes, [undefined], 'no code without a status');
  },
});

// `for await (const e of source)`.
Object.assign(scenarios, {
  async async_iteration_yields_every_event(EventSource, server) {
    const t = token('iterate');
    const url = await store(server, t, [
      { steps: [{ write: 'retry: 10\nevent: content_block_delta\nid: 1\ndata: a\n\ndata: b\n\n' }, { sleep: 20 }, { write: 'event: ping\ndata: c\n\n' }] },
      { steps: [{ write: 'data: d\n\n' }] },
      { status: 204 },
    ]);
    const es = new EventSource(url);
    const dispatched = [];
    es.onmessage = (e) => dispatched.push(e.data);
    const seen = [];
    await within((async () => {
      for await (const e of es) {
        seen.push([e.type, e.data, e.lastEventId, Object.keys(e).sort().join()]);
        // A slow loop body: what arrives meanwhile is queued.
        await new Promise((r) => setTimeout(r, 30));
      }
    })(), 'the loop to end');
    const keys = 'data,lastEventId,type';
    eq(seen, [
      ['content_block_delta', 'a', '1', keys], ['message', 'b', '1', keys],
      ['ping', 'c', '1', keys], ['message', 'd', '1', keys],
    ], 'every event, in order, across a reconnect, as { type, data, lastEventId }');
    eq(dispatched, ['b', 'd'], 'listeners still get theirs');
    eq([es.readyState, (await log(server, t)).length], [2, 3], 'ended cleanly at the 204');
  },

  async async_iteration_alone_dispatches_no_dom_event(EventSource, server) {
    const t = token('iterate-alone');
    const url = await store(server, t, [{ steps: [{ write: 'data: 1\n\ndata: 2\n\n' }, { sleep: 100 }, { write: 'data: 3\n\nevent: x\ndata: 4\n\n' }] }, { status: 204 }]);
    const es = new EventSource(url);
    // Seen only if the source dispatched (a listener it was not told of: the platform's own add).
    const unseen = [];
    EventTarget.prototype.addEventListener.call(es, 'message', (e) => unseen.push(e.data));
    es.onerror = () => {}; // an error listener does not make it dispatch
    const heard = [];
    const seen = [];
    await within((async () => {
      for await (const e of es) {
        seen.push(e.data);
        // From here on a listener hears the events, as MessageEvents.
        if (e.data === '2') es.addEventListener('message', (m) => heard.push([m.data, m instanceof MessageEvent]));
      }
    })(), 'the loop to end');
    eq(seen, ['1', '2', '3', '4'], 'the loop gets every event');
    eq(unseen, ['3'], 'no DOM event before a listener was added through the source');
    eq(heard, [['3', true]], 'a listener added while the loop runs gets the events from then on');
  },

  async async_iteration_break_closes(EventSource, server) {
    const t = token('iterate-break');
    const url = await store(server, t, [{ steps: [{ write: 'data: 1\n\ndata: 2\n\ndata: 3\n\n' }], end: 'hang' }]);
    const es = new EventSource(url);
    const seen = [];
    await within((async () => {
      for await (const e of es) {
        seen.push(e.data);
        if (e.data === '2') break;
      }
    })(), 'the loop to end');
    eq(seen, ['1', '2'], 'up to the break');
    eq(es.readyState, 2, 'break closed the source');
    // By hand: calls that wait are answered in their order; after return(), done.
    const t2 = token('iterate-by-hand');
    const es2 = new EventSource(await store(server, t2, [{ steps: [{ write: 'data: a\n\ndata: b\n\n' }], end: 'hang' }]));
    const it = es2[Symbol.asyncIterator]();
    const [a, b] = await within(Promise.all([it.next(), it.next()]), 'two events');
    eq([a.value.data, b.value.data], ['a', 'b'], 'waiting calls answered in order');
    eq(await it.return(), { done: true }, 'return()');
    eq([await it.next(), es2.readyState], [{ done: true }, 2], 'done after return(), the source closed');
    await until(async () => (await log(server, t))[0]?.ended != null, 'the server to see the connection end');
    eq((await log(server, t)).length, 1, 'no reconnect');
  },

  async async_iteration_ends_or_throws(EventSource, server) {
    // A fatal error: the loop throws it.
    const t = token('iterate-404');
    const missing = new EventSource(`${server}/inline?token=${t}&script=${encodeURIComponent('{"status":404}')}`);
    let thrown;
    await within((async () => {
      try {
        for await (const e of missing) throw new Error(`an event: ${e.data}`);
      } catch (e) {
        thrown = e;
      }
    })(), 'the loop to end');
    assert(thrown instanceof Error, `an Error: ${thrown}`);
    eq([thrown.kind, thrown.status, missing.readyState], ['http', 404, 2], 'kind and status');
    assert(/404/.test(thrown.message), `the message names the status: ${thrown.message}`);

    // close() ends it cleanly, after the event that was being dispatched.
    const t2 = token('iterate-close');
    const es = new EventSource(await store(server, t2, [{ steps: [{ write: 'data: 1\n\ndata: 2\n\n' }], end: 'hang' }]));
    es.addEventListener('message', () => es.close());
    const seen = [];
    await within((async () => { for await (const e of es) seen.push(e.data); })(), 'the loop to end after close()');
    eq(seen, ['1'], 'ends at close()');

    // A stream that ends and is not reconnected ends it cleanly too; with `batch` too.
    const batched = [];
    const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('event: x\ndata: one\n\ndata: two\n\n')); c.close(); } });
    const fromStream = EventSource.fromReadableStream(stream, { batch: (events) => batched.push(...events.map((e) => e.data)) });
    const got = [];
    await within((async () => { for await (const e of fromStream) got.push([e.type, e.data]); })(), 'the end of the stream');
    eq(got, [['x', 'one'], ['message', 'two']], 'yielded to the end');
    eq(batched, ['one', 'two'], 'and batched');

    // An iterator of a closed source is done at once.
    eq(await es[Symbol.asyncIterator]().next(), { done: true }, 'closed: done');
  },

  async the_response_is_told(EventSource, server) {
    // open: the status, final URL and headers, as fetch-event-source's onopen gets the Response.
    const t = token('response');
    const url = await store(server, t, [
      { headers: [['X-Request-Id', 'r1']], steps: [{ write: 'data: a\n\n' }] },
      { status: 401, headers: [['Content-Type', 'application/json'], ['WWW-Authenticate', 'Bearer']], steps: [{ write: '{"error":"bad or missing token"}' }] },
    ]);
    const es = new EventSource(url, { retry: { reconnectionTime: 10, classify: (f, byDefault) => { infos.push([f.kind, f.status, f.body ?? null, f.headers?.get('www-authenticate') ?? null]); return byDefault; } } });
    const infos = [];
    const opens = [];
    es.onopen = (e) => opens.push([e.status, e.url, e.headers.get('x-request-id'), e.headers instanceof Headers]);
    const errors = [];
    es.onerror = (e) => errors.push([e.kind, e.status, e.body ?? null, e.headers?.get('content-type') ?? null, es.readyState]);
    let thrown;
    await within((async () => {
      try {
        for await (const e of es) eq(e.data, 'a', 'the event');
      } catch (e) {
        thrown = e;
      }
    })(), 'the loop to end');
    eq(opens, [[200, url, 'r1', true]], 'the open event');
    eq(errors, [['ended', undefined, null, null, 0], ['http', 401, '{"error":"bad or missing token"}', 'application/json', 2]], 'the error events');
    eq(infos, [['ended', undefined, null, null], ['http', 401, '{"error":"bad or missing token"}', 'Bearer']], 'what the classifier was given');
    // The iterator's Error carries the same.
    eq([thrown?.kind, thrown?.status, thrown?.body, thrown?.headers?.get('www-authenticate')], ['http', 401, '{"error":"bad or missing token"}', 'Bearer'], 'the thrown Error');
  },
});

// Page only: they drive the document's visibility and the window's online state.
/** Everything a readable stream gives, read to its end (or the error it ends with). */
async function drain(readable) {
  const reader = readable.getReader();
  const got = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { got };
      got.push(value);
    }
  } catch (error) {
    return { got, error };
  }
}
const chunked = (chunks) => new ReadableStream({
  start(c) {
    for (const x of chunks) c.enqueue(x);
    c.close();
  },
});

/** Scenarios of EventSourceParserStream (src/js/event_source.js), given its class. */
export const streamScenarios = {
  async parser_stream_bytes_or_strings_to_events(EventSourceParserStream, server) {
    const text = 'id: 1\r\ndata: one\r\n\r\n: a comment\nevent: x\ndata: two\ndata: lines\n\nretry: 5\nid: 2\ndata: \u00e9\u2026\n\ndata: unfinished';
    const bytes = new TextEncoder().encode(text);
    const want = [
      { type: 'message', data: 'one', lastEventId: '1' },
      { type: 'x', data: 'two\nlines', lastEventId: '1' },
      { type: 'message', data: '\u00e9\u2026', lastEventId: '2' },
    ];
    // Bytes cut everywhere, inside CRLF and inside a code point (é is 2 bytes, … 3).
    for (const size of [1, 2, 3, 7, bytes.length]) {
      const pieces = [];
      for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.slice(i, i + size));
      const comments = [];
      const { got, error } = await drain(chunked(pieces).pipeThrough(new EventSourceParserStream({ onComment: (c) => comments.push(c) })));
      eq(error?.message, undefined, `no error (chunks of ${size})`);
      eq(got, want, `events (chunks of ${size}); the unfinished one dropped`);
      eq(comments, ['a comment'], `comments (chunks of ${size})`);
    }
    // Strings, as after a TextDecoderStream.
    const strings = await drain(chunked([text.slice(0, 5), text.slice(5, 40), text.slice(40)]).pipeThrough(new EventSourceParserStream()));
    eq(strings.got, want, 'events from strings');
    // A server's body.
    const res = await fetch(`${server}/counter?token=${token('parser-stream')}&total=5`);
    const body = await drain(res.body.pipeThrough(new EventSourceParserStream()));
    eq(body.got.map((e) => [e.data, e.lastEventId]), [['1', '1'], ['2', '2'], ['3', '3'], ['4', '4'], ['5', '5']], 'a fetch body');
    eq(body.error, undefined, 'the body ends cleanly');
  },

  async parser_stream_errors(EventSourceParserStream) {
    const big = await drain(chunked([new TextEncoder().encode('data: small\n\ndata: ' + 'x'.repeat(100) + '\n\n')]).pipeThrough(new EventSourceParserStream({ maxEventSize: 50 })));
    eq(big.got.map((e) => e.data), ['small'], 'the events before the big one');
    eq(big.error?.kind, 'too-large', 'an event over maxEventSize errors the stream');
    const wrong = await drain(chunked([42]).pipeThrough(new EventSourceParserStream()));
    assert(wrong.error instanceof TypeError, `a chunk that is neither bytes nor a string is a TypeError: ${wrong.error}`);
    let threw;
    try {
      new EventSourceParserStream({ maxEventSize: -1 });
    } catch (e) {
      threw = e;
    }
    assert(threw instanceof TypeError && /maxEventSize/.test(threw.message), `a bad option throws at construction: ${threw}`);
  },
};

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


// Added to pageScenarios below: the back/forward cache (simulated with the events: headless
// Chromium does not put a test page in it).
pageScenarios.back_forward_cache_lets_go_and_resumes = async (EventSource, server) => {
  const t = token('bfcache');
  const es = new EventSource(`${server}/counter?token=${t}&total=1000&interval=20`);
  const seen = record(es);
  await until(() => seen.events.length >= 3, 'events before pagehide');
  globalThis.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
  eq(es.readyState, 0, 'CONNECTING while in the cache');
  const at = seen.events.length;
  // The server sees the connection end (a page nobody sees holds none).
  await until(async () => (await log(server, t))[0]?.ended, 'the server to see the connection end', 2000);
  await new Promise((r) => setTimeout(r, 150));
  eq(seen.events.length, at, 'no event while in the cache');
  eq(seen.errors.length, 0, 'no error');
  globalThis.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
  await until(() => seen.events.length >= at + 3, 'events again');
  es.close();
  const requests = await log(server, t);
  eq(requests.length, 2, 'one connection after pageshow');
  eq(requests[1].last_event_id, seen.events[at - 1].id, 'resumed from the last event');
  eq(seen.events.map((e) => Number(e.data)), seen.events.map((_, i) => i + 1), 'nothing lost or repeated');
  // A pagehide that does not enter the cache (persisted false) changes nothing.
  const es2 = new EventSource(`${server}/counter?token=${t}-2&total=3`);
  const seen2 = record(es2);
  globalThis.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
  await until(() => seen2.events.length === 3, 'the events');
  es2.close();
};

/** Runs one scenario by name with the given class. */
export function run(name, EventSource, server) {
  return (scenarios[name] ?? pageScenarios[name] ?? streamScenarios[name])(EventSource, server);
}
