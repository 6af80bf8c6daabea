// The clients under test, each behind the same `run(url, n, done)` shape: open `url`, touch every
// event's data, call `done()` at the `n`th event and close. Driven by scripts/bench-browser.mjs.
import { EventSource as SseWeb, preload } from '/pkg/index.js';
import wasmExports from '/pkg/sse_web.js';
import { EventSource as Polyfill } from 'eventsource';
import { fetchEventSource } from '@microsoft/fetch-event-source';

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

await preload();
window.ready = true;
