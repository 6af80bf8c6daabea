// The clients under test, each behind the same `run(url, n, done)` shape: open `url`, touch every
// event's data, call `done()` at the `n`th event and close. Driven by scripts/bench-browser.mjs.
import { EventSource as SseWeb, EventSourceParserStream, preload } from '/pkg/index.js';
import wasmExports from '/pkg/sse_web.js';
import { EventSource as Polyfill } from 'eventsource';
import { fetchEventSource } from '@microsoft/fetch-event-source';
import { EventSourceParserStream as TheirParserStream } from 'eventsource-parser/stream';

let sink = 0;

function eventTarget(Class) {
  return (url, n, done, onData = () => {}) => {
    let count = 0;
    const es = new Class(url);
    const on = (e) => {
      sink += e.data.length;
      onData(e.data);
      if (++count === n) {
        es.close();
        done();
      }
    };
    // `update`: the multiline corpus's event type.
    es.addEventListener('message', on);
    es.addEventListener('update', on);
  };
}

function readBody(decode) {
  return async (url, n, done) => {
    const reader = (await fetch(url)).body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      sink += decode ? decoder.decode(value, { stream: true }).length : value.length;
    }
    done();
  };
}

const clients = {
  native: eventTarget(globalThis.EventSource),
  'sse-web': eventTarget(SseWeb),
  'sse-web batch': (url, n, done, onData = () => {}) => {
    let count = 0;
    const es = new SseWeb(url, {
      batch(events) {
        for (const e of events) {
          sink += e.data.length;
          onData(e.data);
          if (++count === n) {
            es.close();
            done();
            return;
          }
        }
      },
    });
  },
  // Every event of every type, as `for await` users write it (`break` closes the source).
  'sse-web for await': (url, n, done, onData = () => {}) => {
    (async () => {
      let count = 0;
      for await (const e of new SseWeb(url)) {
        sink += e.data.length;
        onData(e.data);
        if (++count === n) break;
      }
      done();
    })();
  },
  eventsource: eventTarget(Polyfill),
  'fetch-event-source': (url, n, done, onData = () => {}) => {
    let count = 0;
    const ac = new AbortController();
    fetchEventSource(url, {
      signal: ac.signal,
      openWhenHidden: true,
      onmessage(e) {
        sink += e.data.length;
        onData(e.data);
        if (++count === n) {
          ac.abort();
          done();
        }
      },
    }).catch(() => {});
  },
  // The ceilings, parsing nothing: the body read and decoded (the least any client that hands out
  // strings does), and the body read alone.
  'raw fetch + decode': readBody(true),
  'raw fetch': readBody(false),
};

/** Milliseconds from opening `url` to its `n`th event. */
window.throughput = (client, url, n) => new Promise((resolve) => {
  const t0 = performance.now();
  clients[client](url, n, () => resolve(performance.now() - t0));
});

// A body you already have, parsed as a TransformStream read one event per read(): sse-web's,
// eventsource-parser's (after a TextDecoderStream, as its README shows), and the floor: the body
// decoded and one ready-made event per blank line that ends one (`sep`), nothing else parsed.
const parserStreams = {
  'sse-web': (body) => body.pipeThrough(new EventSourceParserStream()),
  'eventsource-parser': (body) => body.pipeThrough(new TextDecoderStream()).pipeThrough(new TheirParserStream()),
  floor: (body, sep) => {
    const event = { type: 'message', data: '', lastEventId: '' };
    let tail = '';
    return body.pipeThrough(new TextDecoderStream()).pipeThrough(new TransformStream({
      transform(text, c) {
        const s = tail + text;
        let i = 0;
        for (let j; (j = s.indexOf(sep, i)) >= 0; i = j + sep.length) c.enqueue(event);
        tail = s.slice(i);
      },
    }));
  },
};

/** Milliseconds to read every event of `url`'s body through parser stream `kind`; and the count. */
window.parserStream = async (kind, url, sep) => {
  const t0 = performance.now();
  const reader = parserStreams[kind]((await fetch(url)).body, sep).getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    sink += value.data.length;
    n++;
  }
  return [performance.now() - t0, n];
};

/** Per-event latency (server write to handler, ms) over a paced `/clock` stream. */
window.latency = (client, url, n) => new Promise((resolve) => {
  const lat = [];
  clients[client](url, n, () => resolve(lat), (data) => lat.push(performance.timeOrigin + performance.now() - Number(data)));
});

/** The JS heap after a full GC, and sse-web's wasm memory, in bytes. */
window.memory = async () => {
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 50));
  globalThis.gc?.();
  return { heap: performance.memory.usedJSHeapSize, wasm: (await wasmExports()).memory.buffer.byteLength };
};

/** sse-web through `n` events of a stream cut `cuts` times, reconnecting at once. */
window.reconnects = (url, n) => new Promise((resolve) => {
  let count = 0;
  const es = new SseWeb(url, { retry: { reconnectionTime: 0 } });
  es.onmessage = () => {
    if (++count === n) {
      es.close();
      resolve();
    }
  };
});

/** `k` sources of `client` at once, each through `n` events of `url`: ms until all are done. */
window.manyThroughput = (client, url, n, k) => new Promise((resolve) => {
  const t0 = performance.now();
  let left = k;
  for (let i = 0; i < k; i++) {
    clients[client](`${url}&i=${i}`, n, () => {
      if (--left === 0) resolve(performance.now() - t0);
    });
  }
});

// What an open source is, idle: each client opened and left open (held here, so nothing of it is
// garbage), and the floor, parsing nothing: an open fetch, its body's reader (a read pending) and
// its AbortController.
const idle = [];
const opener = {
  native: (url) => new globalThis.EventSource(url),
  'sse-web': (url) => new SseWeb(url),
  eventsource: (url) => new Polyfill(url),
  'fetch + reader': (url) => {
    const ac = new AbortController();
    const held = { ac, readyState: 0, close: () => ac.abort() };
    // The Response itself is let go, as sse-web does: the reader holds the body.
    fetch(url, { signal: ac.signal, cache: 'no-store' }).then((res) => res.body.getReader()).then(async (reader) => {
      held.readyState = 1;
      for (;;) if ((await reader.read()).done) break;
    }).catch(() => {});
    return held;
  },
};

/** Opens `k` idle sources of `client` at `url`; resolves once all are OPEN. */
window.openIdle = async (client, url, k) => {
  for (let i = 0; i < k; i++) idle.push(opener[client](`${url}&i=${i}`));
  const t0 = performance.now();
  while (idle.some((s) => s.readyState !== 1)) {
    if (performance.now() - t0 > 30000) throw new Error(`${client}: ${idle.filter((s) => s.readyState !== 1).length} of ${k} not open`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** sse-web's wasm memory in use, in bytes: its size less what its allocator still has free,
 * found by taking 16-byte blocks until the memory would have to grow (then given back). */
window.wasmInUse = async () => {
  const wasm = await wasmExports();
  const size = wasm.memory.buffer.byteLength;
  const taken = [];
  for (;;) {
    const p = wasm.__wbindgen_malloc(16, 1);
    if (wasm.memory.buffer.byteLength !== size) {
      wasm.__wbindgen_free(p, 16, 1);
      break;
    }
    taken.push(p);
  }
  for (const p of taken) wasm.__wbindgen_free(p, 16, 1);
  return size - taken.length * 16;
};

await preload();
window.ready = true;
