// The EventSource class: a real EventTarget dispatching real MessageEvents, a thin shell over the
// Rust engine (src/reconnect.rs), which makes every parsing and reconnect decision.
// `defineEventSource(open)` takes `open(hooks, url, init)`, which returns a started engine.

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;
const EVENT = 0;
const RETRY = 1;
const ID = 2;

/** The `error` event: what happened, and whether and when the source retries. */
export class SseErrorEvent extends Event {
  constructor(kind, status, message, retryIn, attempt, gaveUp) {
    super('error');
    /** network | http | content-type | timeout | too-large | aborted | ended */
    this.kind = kind;
    /** The HTTP status, when the server answered. */
    this.status = status;
    /** A sentence for people. */
    this.message = status === undefined ? message : `${message} (HTTP ${status})`;
    /** Whether the source reconnects, and after how many milliseconds. */
    this.willRetry = retryIn !== undefined;
    this.retryIn = retryIn;
    /** Consecutive attempts that failed or ended, this one included. */
    this.attempt = attempt;
    this.gaveUp = gaveUp;
  }
}

function headerPairs(h) {
  if (h === undefined || h === null) return undefined;
  return [...new Headers(h)];
}

export function defineEventSource(open) {
  class EventSource extends EventTarget {
    static CONNECTING = CONNECTING;
    static OPEN = OPEN;
    static CLOSED = CLOSED;
    CONNECTING = CONNECTING;
    OPEN = OPEN;
    CLOSED = CLOSED;

    #engine;
    #readyState = CONNECTING;
    #url;
    #withCredentials;
    #lastEventId;
    #reconnectionTime;
    #origin = '';
    #handlers = { open: null, message: null, error: null };
    #batch = null;
    #cleanup = [];

    constructor(url, init = {}) {
      super();
      init = init ?? {};
      // As the native constructor: a relative URL resolves against the document, a bad one throws.
      this.#url = new URL(url, globalThis.location?.href).href;
      this.#withCredentials = Boolean(init.withCredentials);
      this.#lastEventId = init.lastEventId ?? '';
      this.#reconnectionTime = init.retry?.reconnectionTime ?? 3000;
      if (typeof init.batch === 'function') this.#batch = init.batch;
      const hooks = {
        prepare: () => this.#prepare(init),
        open: (finalUrl) => this.#opened(finalUrl),
        frames: (batch) => this.#frames(batch),
        error: (...args) => this.#failed(...args),
        pause: () => { if (this.#readyState !== CLOSED) this.#readyState = CONNECTING; },
      };
      const signal = init.signal;
      this.#engine = open(hooks, this.#url, init);
      if (signal) {
        const onAbort = () => this.#engine?.abort();
        if (signal.aborted) queueMicrotask(onAbort);
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          this.#cleanup.push(() => signal.removeEventListener('abort', onAbort));
        }
      }
      const doc = globalThis.document;
      if (init.pauseWhenHidden && doc && 'visibilityState' in doc) {
        const onVisibility = () => this.#engine?.setHidden(doc.visibilityState === 'hidden');
        doc.addEventListener('visibilitychange', onVisibility);
        this.#cleanup.push(() => doc.removeEventListener('visibilitychange', onVisibility));
        if (doc.visibilityState === 'hidden') onVisibility();
      }
      if (typeof globalThis.addEventListener === 'function' && 'onLine' in (globalThis.navigator ?? {})) {
        const online = () => this.#engine?.setOnline(true);
        const offline = () => this.#engine?.setOnline(false);
        globalThis.addEventListener('online', online);
        globalThis.addEventListener('offline', offline);
        this.#cleanup.push(() => {
          globalThis.removeEventListener('online', online);
          globalThis.removeEventListener('offline', offline);
        });
      }
    }

    get url() { return this.#url; }
    get withCredentials() { return this.#withCredentials; }
    get readyState() { return this.#readyState; }
    /** The last event ID (sent as Last-Event-ID on reconnect). */
    get lastEventId() { return this.#lastEventId; }
    /** The reconnection time in milliseconds (the server's last `retry:`, or the option). */
    get reconnectionTime() { return this.#reconnectionTime; }

    /**
     * Events from a stream the caller already has (whatwg/html#12272): parsed as a server's would
     * be, no request, no reconnect; `error` (kind `ended`) and CLOSED when the stream ends.
     */
    static fromReadableStream(stream, init = {}) {
      let used = false;
      return new this('data:text/event-stream,', {
        ...init,
        fetch: () => {
          if (used) return Promise.reject(new TypeError('the stream was already read'));
          used = true;
          return Promise.resolve(new Response(stream, { headers: { 'content-type': 'text/event-stream' } }));
        },
        retry: { ...init.retry, classify: () => false },
      });
    }

    get onopen() { return this.#handlers.open; }
    set onopen(f) { this.#setHandler('open', f); }
    get onmessage() { return this.#handlers.message; }
    set onmessage(f) { this.#setHandler('message', f); }
    get onerror() { return this.#handlers.error; }
    set onerror(f) { this.#setHandler('error', f); }

    /** Closes for good, at once: no further event, no request, no timer. */
    close() {
      if (this.#readyState === CLOSED && !this.#engine) return;
      this.#readyState = CLOSED;
      this.#release();
    }

    #release() {
      const engine = this.#engine;
      this.#engine = undefined;
      if (engine) {
        engine.close();
        // Not now: this may run inside one of the engine's own calls (an abort, say).
        queueMicrotask(() => engine.free());
      }
      for (const f of this.#cleanup.splice(0)) f();
    }

    #setHandler(type, f) {
      const old = this.#handlers[type];
      if (old) this.removeEventListener(type, old);
      this.#handlers[type] = typeof f === 'function' ? f : null;
      if (this.#handlers[type]) this.addEventListener(type, this.#handlers[type]);
    }

    #prepare(init) {
      const headers = typeof init.headers === 'function' ? init.headers() : init.headers;
      const body = typeof init.body === 'function' ? init.body() : init.body;
      if (headers instanceof Promise || body instanceof Promise) {
        return Promise.all([headers, body]).then(([h, b]) => ({ headers: headerPairs(h), body: b }));
      }
      return { headers: headerPairs(headers), body };
    }

    #opened(finalUrl) {
      if (this.#readyState === CLOSED) return;
      try { this.#origin = new URL(finalUrl || this.#url).origin; } catch { this.#origin = ''; }
      this.#readyState = OPEN;
      this.dispatchEvent(new Event('open'));
    }

    #frames(batch) {
      if (this.#batch) return this.#framesToBatch(batch);
      for (let i = 0; i < batch.length;) {
        // close() inside a handler cancels what is still queued.
        if (this.#readyState === CLOSED) return;
        const code = batch[i];
        if (code === EVENT) {
          const type = batch[i + 1];
          this.#lastEventId = batch[i + 3];
          this.dispatchEvent(new MessageEvent(type, { data: batch[i + 2], lastEventId: this.#lastEventId, origin: this.#origin }));
          i += 4;
        } else if (code === RETRY) {
          this.#reconnectionTime = batch[i + 1];
          i += 2;
        } else if (code === ID) {
          this.#lastEventId = batch[i + 1];
          i += 2;
        } else {
          return;
        }
      }
    }

    // The fast path: one call per chunk with plain objects, instead of one DOM event per message.
    #framesToBatch(batch) {
      const events = [];
      for (let i = 0; i < batch.length;) {
        const code = batch[i];
        if (code === EVENT) {
          this.#lastEventId = batch[i + 3];
          events.push({ type: batch[i + 1], data: batch[i + 2], lastEventId: this.#lastEventId });
          i += 4;
        } else if (code === RETRY) {
          this.#reconnectionTime = batch[i + 1];
          i += 2;
        } else {
          this.#lastEventId = batch[i + 1];
          i += 2;
        }
      }
      if (events.length > 0 && this.#readyState !== CLOSED) this.#batch.call(this, events);
    }

    #failed(kind, status, message, retryIn, attempt, gaveUp) {
      if (this.#readyState === CLOSED) return;
      const closing = retryIn === undefined;
      this.#readyState = closing ? CLOSED : CONNECTING;
      if (closing) this.#release();
      this.dispatchEvent(new SseErrorEvent(kind, status, message, retryIn, attempt, gaveUp));
    }
  }
  return EventSource;
}
