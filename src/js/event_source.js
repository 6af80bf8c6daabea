// The EventSource class: a real EventTarget dispatching real MessageEvents, a thin shell over the
// Rust engine (src/reconnect.rs), which makes every parsing and reconnect decision.
// `defineEventSource(open)` takes `open(hooks, url, init)`, which returns a started engine.

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;
// Frame codes (src/reconnect.rs): an event, plus TYPED and NEW_ID when it has those fields.
const TYPED = 1;
const NEW_ID = 2;
const RETRY = 4;
const ID = 5;
// What the engine's signal(what, on) is told (src/reconnect.rs).
const ABORTED = 0;
const HIDDEN = 1;
const ONLINE = 2;

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

/** A real MessageEvent whose `data`, `lastEventId` and `origin` are fields: Chromium converts a
 * MessageEventInit dictionary member by member, which took 1 µs of the 2.5 µs an event cost. */
class SseMessageEvent extends MessageEvent {
  #data;
  #lastEventId;
  #origin;
  constructor(type, data, lastEventId, origin) {
    super(type);
    this.#data = data;
    this.#lastEventId = lastEventId;
    this.#origin = origin;
  }
  get data() { return this.#data; }
  get lastEventId() { return this.#lastEventId; }
  get origin() { return this.#origin; }
}

/** The user's `retry.classify(info, default)`: true or a delay retries, false fails; anything
 * else (or no function, or a throw) keeps the engine's default. */
function classify(init, kind, status, retry) {
  const f = init.retry?.classify;
  if (typeof f !== 'function') return undefined;
  try {
    return f({ kind, status }, retry);
  } catch {
    return undefined;
  }
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
    #listening = new AbortController();

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
        open: (finalUrl) => this.#opened(finalUrl),
        frames: (meta, text) => this.#frames(meta, text),
        error: (...args) => this.#failed(...args),
        pause: () => { if (this.#readyState !== CLOSED) this.#readyState = CONNECTING; },
        classify: (kind, status, retry) => classify(init, kind, status, retry),
      };
      this.#engine = open(hooks, this.#url, init);
      // Every listener below goes when the source closes.
      const listen = (target, type, f) => target.addEventListener(type, f, { signal: this.#listening.signal });
      const signal = init.signal;
      if (signal) {
        const onAbort = () => this.#engine?.signal(ABORTED, true);
        if (signal.aborted) queueMicrotask(onAbort);
        else listen(signal, 'abort', onAbort);
      }
      const doc = globalThis.document;
      if (init.pauseWhenHidden && doc && 'visibilityState' in doc) {
        const onVisibility = () => this.#engine?.signal(HIDDEN, doc.visibilityState === 'hidden');
        listen(doc, 'visibilitychange', onVisibility);
        if (doc.visibilityState === 'hidden') onVisibility();
      }
      if (typeof globalThis.addEventListener === 'function' && 'onLine' in (globalThis.navigator ?? {})) {
        listen(globalThis, 'online', () => this.#engine?.signal(ONLINE, true));
        listen(globalThis, 'offline', () => this.#engine?.signal(ONLINE, false));
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
      this.#listening.abort();
    }

    #setHandler(type, f) {
      const old = this.#handlers[type];
      if (old) this.removeEventListener(type, old);
      this.#handlers[type] = typeof f === 'function' ? f : null;
      if (this.#handlers[type]) this.addEventListener(type, this.#handlers[type]);
    }

    #opened(finalUrl) {
      if (this.#readyState === CLOSED) return;
      try { this.#origin = new URL(finalUrl || this.#url).origin; } catch { this.#origin = ''; }
      this.#readyState = OPEN;
      this.dispatchEvent(new Event('open'));
    }

    // A chunk's frames: `meta` holds a code per frame (and the retry time), `text` their fields,
    // each ended by CR.
    #frames(meta, text) {
      const events = this.#batch ? [] : undefined;
      const fields = text.split('\r');
      let f = 0;
      for (let i = 0; i < meta.length; i++) {
        // close() inside a handler cancels what is still queued.
        if (this.#readyState === CLOSED) return;
        const code = meta[i];
        if (code === RETRY) {
          this.#reconnectionTime = meta[++i];
        } else if (code === ID) {
          this.#lastEventId = fields[f++];
        } else {
          const type = code & TYPED ? fields[f++] : 'message';
          const data = fields[f++];
          if (code & NEW_ID) this.#lastEventId = fields[f++];
          if (events) events.push({ type, data, lastEventId: this.#lastEventId });
          else this.dispatchEvent(new SseMessageEvent(type, data, this.#lastEventId, this.#origin));
        }
      }
      if (events?.length > 0 && this.#readyState !== CLOSED) {
        // The fast path: one call per chunk with plain objects, instead of one DOM event per message.
        try {
          this.#batch.call(this, events);
        } catch (e) {
          queueMicrotask(() => { throw e; });
        }
      }
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
