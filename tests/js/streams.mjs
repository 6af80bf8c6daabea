// Many streams and compressed streams in a real browser, for tests/node/streams.test.mjs: the same
// functions run in a page (streams.html) and in a dedicated Worker it starts (this module,
// answering messages). Each resolves with what it saw; the Node side asserts.
import { EventSource as SseWeb } from '/pkg/index.js';

const CLASSES = { 'sse-web': SseWeb, native: globalThis.EventSource };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `cond()` holds, polling; rejects after `ms` saying `what`. */
async function until(cond, what, ms) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * `n` sources of `client` at `url + '&i=' + i` at once, each until it has `events` events:
 * resolves with the data each received, in order, and how many were OPEN at once at most
 * (all of them stay open: the server's streams hang after their events). Then closes them.
 */
export async function many({ client, url, n, events, timeout = 30000 }) {
  const Class = CLASSES[client];
  const got = [];
  const sources = [];
  let mostOpen = 0;
  try {
    for (let i = 0; i < n; i++) {
      const seen = [];
      got.push(seen);
      const es = new Class(`${url}&i=${i}`);
      es.onmessage = (e) => seen.push(e.data);
      sources.push(es);
    }
    await until(() => {
      mostOpen = Math.max(mostOpen, sources.filter((s) => s.readyState === 1).length);
      return got.every((seen) => seen.length >= events);
    }, `${n} sources with ${events} events each (have ${got.map((s) => s.length).join(',')})`, timeout);
    return { got, mostOpen };
  } finally {
    for (const s of sources) s.close();
  }
}

/**
 * The per-origin connection limit: 7 sources at `url + '&i=' + i`, whose streams hang once open.
 * Waits for 6 to be OPEN and holds `hold` ms; reports the states then; closes the first and waits
 * for the 7th to open. `states` before and after, and whether the 7th opened.
 */
export async function seventh({ client, url, hold, timeout = 10000 }) {
  const Class = CLASSES[client];
  const sources = [];
  try {
    for (let i = 0; i < 7; i++) sources.push(new Class(`${url}&i=${i}`));
    const states = () => sources.map((s) => s.readyState);
    await until(() => sources.slice(0, 6).every((s) => s.readyState === 1), 'the first 6 OPEN', timeout);
    await sleep(hold);
    const held = states();
    sources[0].close();
    await until(() => sources[6].readyState === 1, 'the 7th OPEN once the first closed', timeout);
    return { held, after: states() };
  } finally {
    for (const s of sources) s.close();
  }
}

/**
 * sse-web over sse-testserver's `/lockstep` (`url`): the server writes each event only once this
 * side acknowledged the one before (`ack + k`), so every event must arrive on its own, before the
 * next is written. `api` is `events` (the EventTarget API) or `batch`. Resolves with the data in
 * order and the server's ms from each write to its ack.
 */
export function lockstep({ url, ack, api, events, timeout = 15000 }) {
  return new Promise((resolve, reject) => {
    const data = [];
    const acks = [];
    let es;
    const timer = setTimeout(() => {
      es.close();
      reject(new Error(`timed out after ${timeout} ms with events ${data.join(',')}: one was held back`));
    }, timeout);
    const on = (d) => {
      data.push(d);
      // The stream hangs after the last: close there.
      if (data.length === events) {
        clearTimeout(timer);
        es.close();
        return resolve({ data, acks });
      }
      fetch(`${ack}${d}`).then((r) => r.text()).then((ms) => acks.push(Number(ms)), reject);
    };
    es = api === 'batch'
      ? new SseWeb(url, { batch: (list) => list.forEach((e) => on(e.data)) })
      : new SseWeb(url);
    if (api !== 'batch') es.onmessage = (e) => on(e.data);
  });
}

// In a dedicated Worker: run what the page asks, answer with `{ok}` or `{error}`.
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  const fns = { many, seventh, lockstep };
  globalThis.onmessage = async ({ data: [id, name, args] }) => {
    try {
      globalThis.postMessage([id, { ok: await fns[name](args) }]);
    } catch (e) {
      globalThis.postMessage([id, { error: String(e?.message ?? e) }]);
    }
  };
  globalThis.postMessage('ready');
}
