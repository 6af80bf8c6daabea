// The platform half of sse-web's engine (src/engine.rs): the user's per-attempt functions, the
// fetch, the body reads and one timer, each started when the engine says and reported back
// through one callback, `cb(what, conn, value)`. It decides nothing: what to send, when, and what
// a response or a failure means are sse-web-core's.

// What comes back through the callback (checked against src/engine.rs by tests/node/codes.test.mjs).
const RESPONDED = 0;
const READ = 1;
const FAILED = 2;
const TIMER = 3;
const REFUSED = 4;
const PREPARED = 5;
const CORS = 6;

// Fields of `init` given to fetch as they are.
const FETCH_FIELDS = ['mode', 'cache', 'credentials', 'referrer', 'referrerPolicy', 'integrity', 'keepalive', 'priority', 'redirect'];
// The longest wait setTimeout takes (a longer one fires at once); the engine re-arms after it.
const MAX_TIMER = 2 ** 31 - 1;

/** The platform's own words for an error: its innermost `cause`'s message (Node's "connect
 * ECONNREFUSED 127.0.0.1:1" behind "fetch failed"). */
function words(e) {
  for (let i = 0; i < 8 && e?.cause instanceof Object; i++) e = e.cause;
  return typeof e === 'string' ? e : e?.message;
}

/** A headers init (a record, a Headers, or [name, value] pairs; null: none) as flat
 * [name, value, ...] strings; undefined when it is not one (src/engine.rs reads it). */
export function headerPairs(h) {
  if (h == null) return [];
  if (typeof h !== 'object') return undefined;
  const flat = [];
  for (const p of typeof h[Symbol.iterator] === 'function' ? h : Object.entries(h)) {
    if (p?.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') return undefined;
    flat.push(p[0], p[1]);
  }
  return flat;
}

/** A monotonic clock, in milliseconds. */
export function now() {
  return performance.now();
}

// A body whose chunks are already buffered resolves read() after read() as microtasks, so a flood
// of chunks that hold no event (empty lines, comments, a gzip bomb of them) would never give the
// event loop a turn. After YIELD_MS of reads that did not wait, the next waits for a task.
const YIELD_MS = 8;
// A decompressed or coalesced chunk can be megabytes: the engine gets it in pieces of
// sse-web-core's FEED_PER_TURN (tests/node/codes.test.mjs checks they agree).
const FEED_PER_TURN = 65536;
function task(f) {
  if (typeof setImmediate === 'function') return setImmediate(f);
  if (typeof MessageChannel !== 'function') return setTimeout(f, 0);
  // Unclamped, unlike setTimeout(0); a channel per turn, so no open port keeps a process alive.
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => {
    port1.close();
    f();
  };
  port2.postMessage(0);
}

export class Io {
  #cb;
  #init;
  // The fetch fields given, if any (none: no object held per source).
  #fields;
  #controller;
  #reader;
  #body;
  #headers;
  #preparing;
  #timer;
  #busy = 0;
  #rest;

  constructor(cb, init) {
    this.#cb = cb;
    this.#init = init ?? {};
    for (const k of FETCH_FIELDS) if (this.#init[k] != null) (this.#fields ??= {})[k] = this.#init[k];
  }

  #report(what, conn, value) {
    this.#cb?.(what, conn, value);
  }

  // A failure goes with the words the engine puts in its message.
  #fail(what, conn, e) {
    this.#report(what, conn, [e, words(e)]);
  }

  // Never from inside the engine's own call: events reach the user from a task of their own, as
  // the platform's do (none from inside the constructor).
  #later(what, conn, value) {
    queueMicrotask(() => this.#report(what, conn, value));
  }

  /** Attempt `conn`: runs the user's header and body functions, then reports PREPARED with the
   * headers they gave (flat pairs); one that throws, rejects or gives no headers is REFUSED. */
  prepare(conn) {
    const init = this.#init;
    const hf = typeof init.headers === 'function';
    const bf = typeof init.body === 'function';
    this.#body = bf ? undefined : init.body;
    this.#preparing = conn;
    if (!hf && !bf) return this.#later(PREPARED, conn, []);
    let extra;
    try {
      extra = Promise.all([hf ? init.headers() : undefined, bf ? init.body() : init.body]);
    } catch (e) {
      extra = Promise.reject(e);
    }
    extra.then(
      ([h, b]) => {
        if (conn !== this.#preparing) return;
        this.#body = b;
        const flat = headerPairs(h);
        if (flat) this.#report(PREPARED, conn, flat);
        else this.#fail(REFUSED, conn, new TypeError('headers() gave no record, Headers or [name, value] pairs'));
      },
    ).catch((e) => this.#fail(REFUSED, conn, e));
  }

  /** A header of the next fetch, as the engine built it (the value as a byte string). */
  header(name, value) {
    (this.#headers ??= []).push([name, value]);
  }

  /** Fetches attempt `conn` as the engine built it, with the headers given since the last fetch;
   * the body is the user's (`init.body` or what its function gave), else `body`. */
  fetch(conn, url, method, body, credentials) {
    const controller = new AbortController();
    this.#controller = controller;
    const pairs = this.#headers ?? [];
    this.#headers = undefined;
    const request = { cache: 'no-store', credentials, ...this.#fields, method, signal: controller.signal };
    if (this.#body !== undefined) request.body = this.#body;
    else if (body !== undefined) request.body = body;
    const f = this.#init.fetch;
    let pending;
    try {
      // An override gets what the `eventsource` package gives one: fetch's defaults spelt out and
      // the headers as a plain object, names as sent (`Accept`, `Last-Event-ID`, yours), so
      // `{ ...init.headers, Authorization }` keeps them. No name is there twice (the engine
      // replaces a header of the same name), so nothing is lost.
      pending = typeof f === 'function'
        ? f(url, { mode: 'cors', redirect: 'follow', ...request, headers: Object.fromEntries(pairs) })
        : globalThis.fetch(url, { ...request, headers: new Headers(pairs) });
    } catch (e) {
      return queueMicrotask(() => this.#fail(REFUSED, conn, e));
    }
    Promise.resolve(pending).then(
      (res) => {
        if (controller !== this.#controller) return;
        const body = res?.body;
        if (typeof res?.status !== 'number' || typeof res.headers?.get !== 'function' || (body != null && typeof body.getReader !== 'function')) {
          return this.#fail(REFUSED, conn, new TypeError('fetch gave no Response with a readable body'));
        }
        // No body is an empty one.
        this.#reader = body?.getReader();
        this.#busy = now();
        const get = (n) => res.headers.get(n) ?? undefined;
        this.#report(RESPONDED, conn, [res.status, get('content-type'), get('retry-after'), res.url, Date.now(), res.headers]);
      },
      // fetch rejects with a TypeError when the network fails; anything else is the override's.
      (e) => {
        const own = typeof f === 'function';
        const here = globalThis.location;
        if (own || !(e instanceof TypeError) || !here || new URL(url, here.href).origin === here.origin) {
          return this.#fail(own && !(e instanceof TypeError) ? REFUSED : FAILED, conn, e);
        }
        // Cross-origin in a page or a Worker (Node has no `location`, and no CORS), a blocked
        // answer rejects as a network error does: a no-cors request tells them apart. The
        // server answering it (an opaque response) means it was reachable, so it was CORS. It
        // is this attempt's: close() aborts it, and so does its answer (no body left open). It
        // redirects as the attempt did (a refused redirect is not CORS).
        globalThis.fetch(url, { mode: 'no-cors', method: 'GET', credentials: 'omit', cache: 'no-store', redirect: this.#fields?.redirect, signal: controller.signal }).then(
          () => {
            controller.abort();
            this.#fail(CORS, conn, e);
          },
          () => this.#fail(FAILED, conn, e),
        );
      },
    );
  }

  /** The next chunk of attempt `conn`'s body (undefined: the end). */
  read(conn) {
    const reader = this.#reader;
    if (!reader) return this.#later(READ, conn, undefined);
    const asked = now();
    if (asked - this.#busy > YIELD_MS) {
      return task(() => {
        this.#busy = now();
        if (reader === this.#reader) this.read(conn);
      });
    }
    const rest = this.#rest;
    if (rest) {
      this.#rest = rest.length > FEED_PER_TURN ? rest.subarray(FEED_PER_TURN) : undefined;
      return this.#later(READ, conn, rest.subarray(0, FEED_PER_TURN));
    }
    reader.read().then(
      ({ done, value }) => {
        // A read that waited let the loop run.
        if (now() - asked > 1) this.#busy = now();
        if (done) this.#report(READ, conn, undefined);
        else if (value instanceof Uint8Array) {
          if (value.length > FEED_PER_TURN) this.#rest = value.subarray(FEED_PER_TURN);
          this.#report(READ, conn, value.subarray(0, FEED_PER_TURN));
        } else this.#fail(REFUSED, conn, new TypeError('the body yielded something other than bytes'));
      },
      (e) => this.#fail(FAILED, conn, e),
    );
  }

  /** The one timer: TIMER after `ms` (clamped to what setTimeout takes), or none when `ms` < 0. */
  timer(ms) {
    clearTimeout(this.#timer);
    this.#timer = ms < 0 ? undefined : setTimeout(() => this.#report(TIMER, 0), Math.min(ms, MAX_TIMER));
    // Node: a source waiting to reconnect does not keep the process alive, as Node's own
    // EventSource (a fetch or a read in progress still does).
    this.#timer?.unref?.();
  }

  /** Drops the fetch (and with it the body). */
  stop() {
    this.#controller?.abort();
    this.#controller = this.#reader = this.#rest = undefined;
  }

  /** The engine is gone: nothing more is reported. */
  detach() {
    this.stop();
    this.timer(-1);
    this.#cb = undefined;
  }
}
