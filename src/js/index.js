// sse-web: a drop-in EventSource over fetch streams, WHATWG-exact by default, limits lifted by
// option. Works in pages, Workers and Node; bundlers need no configuration (the wasm file is
// found with `new URL(..., import.meta.url)`, loaded on first use).
import init, { initSync, Source } from './sse_web.js';
import { defineEventSource, defineParserStream, SseErrorEvent } from './event_source.js';

let loading;
let loaded = false;
function load() {
  loading ??= (async () => {
    const wasm = new URL('./sse_web_bg.wasm', import.meta.url);
    if (wasm.protocol === 'file:') {
      // Node: read the file (fetch cannot load file: URLs).
      const fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs');
      initSync({ module: fs.readFileSync(wasm) });
    } else {
      await init({ module_or_path: wasm });
    }
    loaded = true;
  })();
  return loading;
}

/** Makes an engine, started unless `idle` (a shared source that waits its turn, `startFrom(id)`
 * later): at once when the wasm is loaded (options sse-web-core refuses throw), else once it is
 * (they close the source with a `request` error), replaying the calls made meanwhile. */
function open(hooks, url, options, init, idle) {
  if (loaded) {
    const engine = new Source(hooks, url, options, init);
    if (!idle) engine.start();
    return engine;
  }
  let engine;
  let queued = [];
  load().then(
    () => {
      if (queued === null) return; // closed before it was loaded
      try {
        engine = new Source(hooks, url, options, init);
      } catch (e) {
        queued = null;
        return hooks.error('request', undefined, e.message, undefined, 0, false, 2, e);
      }
      if (!idle) engine.start();
      for (const [name, args] of queued) engine[name](...args);
      queued = undefined;
    },
    (e) => hooks.error('network', undefined, `sse-web could not load its wasm: ${e}`, undefined, 0, false, 2, e),
  );
  const call = (name) => (...args) => {
    if (engine) return engine[name](...args);
    if (name === 'close' || name === 'free') queued = null;
    else if (queued) queued.push([name, args]);
    return 2; // close(): CLOSED
  };
  return {
    close: call('close'),
    free: call('free'),
    restart: call('restart'),
    signal: call('signal'),
    startFrom: call('startFrom'),
  };
}

/** The EventSource class (an EventTarget; the native one's API, plus the options of `init`). */
export const EventSource = defineEventSource(open);
export { SseErrorEvent };

/** `response.body.pipeThrough(new EventSourceParserStream())`: bytes in, events out, parsed by
 * the same engine (src/js/event_source.js; dropped by a bundler when unused). */
export const EventSourceParserStream = /* @__PURE__ */ defineParserStream(EventSource);

/** Makes `globalThis.EventSource` this one (polyfill use); returns it. */
export function install() {
  globalThis.EventSource = EventSource;
  return EventSource;
}

/** Loads the wasm now instead of on first use. */
export function preload() {
  return load();
}
