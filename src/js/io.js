// The platform half of sse-web's engine (src/reconnect.rs): fetches, body reads and timers, each
// started when the engine says and reported back through one callback, `cb(what, conn, value)`.
// It decides nothing: what to send, when, and what a response or a failure means are the engine's
// (sse-core's). Also the user's per-attempt functions (headers, body), and the reading of `init`
// into the engine's options (src/options.rs): the same words as the Rust API in camelCase, handed
// over as one flat array of plain values so the engine needs no property lookups.

// What comes back through the callback (the same codes as src/reconnect.rs).
const RESPONDED = 0;
const READ = 1;
const FAILED = 2;
const RECONNECT_TIMER = 3;
const IDLE_TIMER = 4;

// Fields of `init` given to fetch as they are.
const FETCH_FIELDS = ['mode', 'cache', 'credentials', 'referrer', 'referrerPolicy', 'integrity', 'keepalive', 'priority', 'redirect'];

const number = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const flag = (v) => (typeof v === 'boolean' ? v : undefined);
const text = (v) => (typeof v === 'string' ? v : undefined);

/** `init` as [method, withCredentials, inactivityTimeout, maxEventSize, lastEventId,
 * lastEventIdQuery, pauseWhenHidden, reconnectOnOnline, preset, reconnectionTime, minDelay,
 * maxAttempts, backoff (false: none, true: default or given), factor, maxDelay, jitter,
 * resetAfter, classify]; undefined where not given. */
export function readOptions(init) {
  const o = init ?? {};
  const r = o.retry ?? {};
  const b = r.backoff;
  const query = o.lastEventIdQuery === true ? 'lastEventId' : text(o.lastEventIdQuery);
  return [
    text(o.method), flag(o.withCredentials), number(o.inactivityTimeout), number(o.maxEventSize),
    text(o.lastEventId), query, flag(o.pauseWhenHidden), flag(o.reconnectOnOnline),
    text(r.preset), number(r.reconnectionTime), number(r.minDelay), number(r.maxAttempts),
    b == null ? undefined : b !== false,
    number(b?.factor), number(b?.maxDelay), flag(b?.jitter), number(b?.resetAfter),
    text(r.classify),
  ];
}

/** A monotonic clock, in milliseconds. */
export function now() {
  return performance.now();
}

export class Io {
  #cb;
  #init;
  #fields = {};
  #controller;
  #reader;
  #timer;
  #idle;

  constructor(cb, init) {
    this.#cb = cb;
    this.#init = init ?? {};
    for (const k of FETCH_FIELDS) if (this.#init[k] != null) this.#fields[k] = this.#init[k];
  }

  #report(what, conn, value) {
    this.#cb?.(what, conn, value);
  }

  /** Attempt `conn`: the user's headers and body for it, then fetch. `headers` are the engine's,
   * as lines `name\nvalue\n...` (values as byte strings); the user's come after them, and the
   * user's body before `body`. */
  connect(conn, url, method, headers, body, credentials) {
    const controller = new AbortController();
    this.#controller = controller;
    const init = this.#init;
    let extra;
    try {
      const h = typeof init.headers === 'function' ? init.headers() : init.headers;
      const b = typeof init.body === 'function' ? init.body() : init.body;
      extra = h instanceof Promise || b instanceof Promise ? Promise.all([h, b]) : [h, b];
    } catch (e) {
      extra = Promise.reject(e);
    }
    Promise.resolve(extra)
      .then(([h, b]) => {
        const all = new Headers();
        const lines = headers.split('\n');
        for (let i = 0; i + 1 < lines.length; i += 2) all.set(lines[i], lines[i + 1]);
        if (h != null) for (const [n, v] of new Headers(h)) all.set(n, v);
        const request = { cache: 'no-store', credentials, ...this.#fields, method, headers: all, signal: controller.signal };
        if (b !== undefined) request.body = b;
        else if (body !== undefined) request.body = body;
        return typeof init.fetch === 'function' ? init.fetch(url, request) : globalThis.fetch(url, request);
      })
      .then((res) => {
        if (controller === this.#controller) this.#reader = res.body?.getReader();
        const get = (n) => res.headers.get(n) ?? undefined;
        this.#report(RESPONDED, conn, [res.status, get('content-type'), get('retry-after'), res.url, this.#reader !== undefined]);
      })
      .catch(() => this.#report(FAILED, conn));
  }

  /** The next chunk of attempt `conn`'s body (undefined: the end). */
  read(conn) {
    this.#reader?.read().then(
      ({ done, value }) => this.#report(READ, conn, done ? undefined : value instanceof Uint8Array ? value : new Uint8Array()),
      () => this.#report(FAILED, conn),
    );
  }

  /** Reconnect after `ms`. */
  wait(ms) {
    this.#timer = setTimeout(() => this.#report(RECONNECT_TIMER, 0), ms);
  }

  /** (Re)arms attempt `conn`'s inactivity timer. */
  idle(conn, ms) {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.#report(IDLE_TIMER, conn), ms);
  }

  /** Drops the fetch (and with it the body) and every timer. */
  stop() {
    this.#controller?.abort();
    this.#controller = this.#reader = undefined;
    clearTimeout(this.#timer);
    clearTimeout(this.#idle);
  }

  /** The engine is gone: nothing more is reported. */
  detach() {
    this.stop();
    this.#cb = undefined;
  }
}
