// sse-web: a drop-in EventSource over fetch streams, WHATWG-exact by default, limits lifted by
// option. Works in pages, Workers and Node; bundlers need no configuration (the wasm file is
// found with `new URL(..., import.meta.url)`, loaded on first use).
import init, { initSync, Source } from './sse_web.js';
import { defineEventSource, SseErrorEvent } from './event_source.js';

let loading;
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
  })();
  return loading;
}

/** Starts an engine once the wasm is loaded; calls made before that are replayed in order. */
function open(hooks, url, init) {
  let engine;
  let queued = [];
  load().then(
    () => {
      if (queued === null) return; // closed before it was loaded
      engine = new Source(hooks, url, init);
      engine.start();
      for (const [name, args] of queued) engine[name](...args);
      queued = undefined;
    },
    (e) => hooks.error('network', undefined, `sse-web could not load its wasm: ${e}`, undefined, 0, false),
  );
  const call = (name) => (...args) => {
    if (engine) return engine[name](...args);
    if (name === 'close' || name === 'free') queued = null;
    else if (queued) queued.push([name, args]);
  };
  return {
    close: call('close'),
    free: call('free'),
    signal: call('signal'),
  };
}

/** The EventSource class (an EventTarget; the native one's API, plus the options of `init`). */
export const EventSource = defineEventSource(open);
export { SseErrorEvent };

/** Makes `globalThis.EventSource` this one (polyfill use); returns it. */
export function install() {
  globalThis.EventSource = EventSource;
  return EventSource;
}

/** Loads the wasm now instead of on first use. */
export function preload() {
  return load();
}
