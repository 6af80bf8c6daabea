// The EventSource class: a real EventTarget dispatching real MessageEvents, a thin shell over the
// Rust engine (src/reconnect.rs), which makes every parsing and reconnect decision.
// `defineEventSource(open)` takes `open(hooks, url, options, init)`, which returns a started engine
// (`options`: what readOptions made of `init`).

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;
// Frame codes (src/js_bridge.rs): an event, plus TYPED and NEW_ID when it has those fields.
// These, the signal codes and OPTION_FIELDS are checked against the Rust side by
// tests/node/codes.test.mjs.
const TYPED = 1;
const NEW_ID = 2;
const RETRY = 4;
const ID = 5;
const COMMENT = 6;
// What the engine's signal(what, on) is told (src/js_bridge.rs).
const ABORTED = 0;
const HIDDEN = 1;
const ONLINE = 2;
const FROZEN = 3;
// The event IDs a shared source remembers, to tell how far behind a new holder resumes.
const RECENT = 64;

// readOptions' array, by position (src/options.rs reads it by the same names, in the same order;
// tests/node/codes.test.mjs checks it): method withCredentials inactivityTimeout maxEventSize
// lastEventId lastEventIdQuery pauseWhenHidden reconnectOnOnline preset reconnectionTime minDelay
// maxAttempts backoff factor maxDelay jitter resetAfter classify headers onComment closeOnEnd

const bad = (name, what) => new TypeError(`sse-web: option ${name} must be ${what}`);
// Each converter takes (value, name) and is skipped for undefined (the default applies).
const ms = (v, n) => {
  if (typeof v !== 'number' || !(v >= 0 && v < Infinity)) throw bad(n, 'a number of milliseconds, 0 or more');
  return Math.floor(v);
};
const whole = (v, n) => {
  if (!Number.isSafeInteger(v) || v < 0) throw bad(n, 'a whole number, 0 or more');
  return v;
};
const num = (v, n) => {
  if (typeof v !== 'number') throw bad(n, 'a number');
  return v;
};
const text = (v, n) => {
  if (typeof v !== 'string') throw bad(n, 'a string');
  return v;
};
const oneOf = (...allowed) => (v, n) => {
  if (!allowed.includes(v)) throw bad(n, allowed.join(' or '));
  return v;
};
// WebIDL's boolean: any value converts.
const flag = (v) => Boolean(v);
// A callback option: given or not (the function itself stays with the shell).
const fn = (v, n) => {
  if (typeof v !== 'function') throw bad(n, 'a function');
  return true;
};
const read = (v, n, f) => (v === undefined ? undefined : f(v, n));

/** `init` as the array listed above (undefined where not given), converted as the platform
 * converts a dictionary: at construction, a wrong type throws a TypeError naming the option.
 * What the values may be (a header, a method, a size) is sse-web-core's Options::validate. */
export function readOptions(init) {
  const o = init ?? {};
  const r = o.retry ?? {};
  const b = read(r.backoff, 'retry.backoff', (v, n) => {
    if (typeof v !== 'boolean' && typeof v !== 'object') throw bad(n, 'true, false or an object');
    return v;
  });
  const q = o.lastEventIdQuery;
  const c = r.classify;
  return [
    read(o.method, 'method', text), Boolean(o.withCredentials), read(o.inactivityTimeout, 'inactivityTimeout', ms),
    read(o.maxEventSize, 'maxEventSize', whole), read(o.lastEventId, 'lastEventId', text),
    q === true ? 'lastEventId' : q === false ? undefined : read(q, 'lastEventIdQuery', text),
    read(o.pauseWhenHidden, '', flag), read(o.reconnectOnOnline, '', flag),
    read(r.preset, 'retry.preset', oneOf('resilient')), read(r.reconnectionTime, 'retry.reconnectionTime', ms),
    read(r.minDelay, 'retry.minDelay', ms), read(r.maxAttempts, 'retry.maxAttempts', whole),
    b == null ? undefined : b !== false,
    read(b?.factor, 'retry.backoff.factor', num),
    read(b?.maxDelay, 'retry.backoff.maxDelay', ms), read(b?.jitter, '', flag),
    read(b?.resetAfter, 'retry.backoff.resetAfter', ms),
    typeof c === 'function' ? 'function' : read(c, 'retry.classify', oneOf('spec', 'transient')),
    typeof o.headers === 'function' ? undefined : o.headers,
    read(o.onComment, 'onComment', fn), read(r.closeOnEnd, '', flag),
  ];
}

/** The `error` event: what happened, and whether and when the source retries. */
export class SseErrorEvent extends Event {
  constructor(kind, status, message, retryIn, attempt, gaveUp, cause, body, headers) {
    super('error');
    /** network | http | content-type | timeout | too-large | aborted | ended | request */
    this.kind = kind;
    /** The HTTP status, when the server answered. */
    this.status = status;
    /** The same, under the name the `eventsource` package gives it. */
    this.code = status;
    /** For an HTTP error (a status), the response's headers and the start of its body as text
     * (64 KiB at most, read for 1 s at most): the server's own words. */
    this.headers = headers;
    this.body = body;
    /** A sentence for people (sse-web-core's, the same in every client). */
    this.message = message;
    /** The error behind it: the platform's (a fetch TypeError) or your own code's. */
    this.cause = cause;
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

/** The user's `retry.classify(info, retry)`: true or a delay retries, false fails; anything else
 * keeps the policy's decision (a throw too, reported to the console). */
function classify(f, info, retry) {
  try {
    return f(info, retry);
  } catch (e) {
    queueMicrotask(() => { throw e; });
    return undefined;
  }
}

export function defineEventSource(open) {
  class EventSource extends EventTarget {
    // What the `eventsource` package declares, so code that checks for it passes a `fetch`.
    static [Symbol.for('eventsource.supports-fetch-override')] = true;
    static CONNECTING = CONNECTING;
    static OPEN = OPEN;
    static CLOSED = CLOSED;
    CONNECTING = CONNECTING;
    OPEN = OPEN;
    CLOSED = CLOSED;

    #engine;
    // Set only by the engine (each hook says what the machine holds), never worked out here.
    #readyState = CONNECTING;
    #url;
    #withCredentials;
    #lastEventId;
    #reconnectionTime;
    #origin = '';
    // The head of the attempt's response: what the open and error events, and the classifier,
    // tell of it (the platform's, not the engine's state).
    #response;
    #handlers = { open: null, message: null, error: null };
    #batch = null;
    #onComment;
    // One feed per async iterator, only while one exists: each event goes to every one.
    #taps;
    // A listener of message events (any type but open and error) was added: events are
    // dispatched even while an iterator reads them.
    #listened = false;
    // An AbortController for this source's own listeners (an abort signal, visibility, a shared
    // source's lock), made for the first one.
    #listening;
    // `share` (src/js/share.js, loaded on first use): this source's membership of its key (its
    // channel; once joined, whether it holds the connection); the IDs it received lately; the ID
    // up to which a new holder's replay is dropped.
    #share;
    #recent;
    #skipTo;
    // What an idle source holds is most of what it costs (issue #18): the engine's hooks are one
    // shared prototype over `{ es, init }` rather than closures per source, and every open
    // source hears `online`/`offline` from one pair of listeners per realm, not a pair of its own.
    static #proto = {
      started(reconnectionTime) { this.es.#reconnectionTime = reconnectionTime; },
      response(status, url, headers) { this.es.#response = { status, url, headers }; },
      open(finalUrl) { this.es.#opened(finalUrl); },
      frames(meta, text) { this.es.#frames(meta, text); },
      error(...args) { this.es.#failed(...args); },
      connecting() { this.es.#readyState = CONNECTING; this.es.#response = undefined; },
      classify(kind, status, retry, body) {
        return classify(this.init.retry.classify, { kind, status, body, headers: this.es.#headersOf(status) }, retry);
      },
    };
    static #live;

    constructor(url, init = {}) {
      super();
      init = init ?? {};
      // As the native constructor: a relative URL resolves against the document, a bad one
      // throws a SyntaxError.
      try {
        this.#url = new URL(url, globalThis.location?.href).href;
      } catch {
        throw new DOMException(`sse-web: cannot parse the URL ${url}`, 'SyntaxError');
      }
      const options = readOptions(init);
      this.#withCredentials = options[1];
      this.#lastEventId = options[4] ?? '';
      if (typeof init.batch === 'function') this.#batch = init.batch;
      // Only then do comments cross from the engine at all.
      if (options[19]) this.#onComment = init.onComment;
      const hooks = { __proto__: EventSource.#proto, es: this, init };
      const share = init.share;
      if (share !== undefined && typeof share !== 'string' && typeof share !== 'boolean') throw bad('share', 'a string or a boolean');
      const locks = globalThis.navigator?.locks;
      // Without Web Locks or BroadcastChannel (Node, old browsers): a connection of its own.
      const shared = !!share && typeof locks?.request === 'function' && typeof BroadcastChannel === 'function';
      // A shared source's engine waits for the lock (share.js fills in `told`, and starts it).
      const told = shared ? { __proto__: hooks } : hooks;
      this.#engine = open(told, this.#url, options, init, shared);
      // Every listener below goes when the source closes.
      const listen = (target, type, f) => target.addEventListener(type, f, { signal: (this.#listening ??= new AbortController()).signal });
      if (shared) {
        this.#recent = [];
        const { signal } = (this.#listening ??= new AbortController());
        // As JSON, so no method, URL or string can pass for another's.
        const key = `sse-web ${JSON.stringify([String(options[0] ?? 'GET').toUpperCase(), this.#url, share === true ? '' : share])}`;
        // The side of this source that share.js sees.
        const side = {
          state: () => (this.#engine ? [this.#readyState, this.#lastEventId, this.#reconnectionTime, this.#response] : []),
          start: (id) => this.#engine?.startFrom(id),
          joined: (id, time) => {
            this.#lastEventId = id;
            this.#reconnectionTime = time;
          },
          resume: (id) => {
            if (id !== this.#lastEventId && this.#recent.includes(id)) this.#skipTo = this.#lastEventId;
          },
          restart: () => this.restart(),
        };
        // The channel listens from now on: what the holder tells while share.js loads waits for it.
        const channel = new BroadcastChannel(key);
        const heard = [];
        channel.onmessage = ({ data }) => heard.push(data);
        this.#share = { channel };
        import('./share.js').then(
          ({ join }) => { if (this.#engine) join(this.#share, heard, side, told, hooks, locks, key, signal); },
          // Where it cannot load: a connection of its own (and no channel left buffering).
          () => {
            channel.close();
            this.#share = this.#recent = undefined;
            this.#engine?.startFrom(this.#lastEventId);
          },
        );
      }
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
        if (!EventSource.#live) {
          EventSource.#live = new Set();
          const tell = (on) => () => { for (const es of EventSource.#live) es.#engine?.signal(ONLINE, on); };
          globalThis.addEventListener('online', tell(true));
          globalThis.addEventListener('offline', tell(false));
          // A page put in the back/forward cache holds no connection the server keeps busy; it
          // reconnects from its last ID when it comes back (the engine's decision, for every
          // source, whatever its options).
          const frozen = (on) => (e) => { if (e.persisted) for (const es of EventSource.#live) es.#engine?.signal(FROZEN, on); };
          globalThis.addEventListener('pagehide', frozen(true));
          globalThis.addEventListener('pageshow', frozen(false));
        }
        EventSource.#live.add(this);
      }
    }

    get url() { return this.#url; }
    /** Whether this source shares one connection with the others of its `share` key (false: it
     * has its own, also where the platform has no Web Locks or BroadcastChannel). */
    get shared() { return this.#recent !== undefined; }
    get withCredentials() { return this.#withCredentials; }
    get readyState() { return this.#readyState; }
    /** The last event ID (sent as Last-Event-ID on reconnect). */
    get lastEventId() { return this.#lastEventId; }
    /** The reconnection time in milliseconds (the server's last `retry:`, or the option's);
     * undefined until the engine has started (the first source of a page waits for the wasm). */
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

    addEventListener(type, listener, options) {
      if (type !== 'open' && type !== 'error') this.#listened = true;
      super.addEventListener(type, listener, options);
    }

    get onopen() { return this.#handlers.open; }
    set onopen(f) { this.#setHandler('open', f); }
    get onmessage() { return this.#handlers.message; }
    set onmessage(f) { this.#setHandler('message', f); }
    get onerror() { return this.#handlers.error; }
    set onerror(f) { this.#setHandler('error', f); }

    /** Closes for good, at once: no further event, no request, no timer. */
    close() {
      this.#release();
    }

    /** Drops the connection and reconnects now with the last event ID, as after a network error
     * but with no `error` event and no failed attempt counted: CONNECTING, then `open` again.
     * Nothing when closed. (The engine decides; the state comes back through its hooks.) */
    restart() {
      // A follower asks the holder (one that has not joined yet has no connection to restart).
      const m = this.#share;
      if (this.#recent && !m.holding) m.post?.(['restart']);
      else this.#engine?.restart();
    }

    /**
     * `for await (const e of source)`: every event, whatever its type, as `{ type, data,
     * lastEventId }` (the objects `batch` gets), queued while the loop body awaits; the loop ends
     * when the source closes: cleanly on close(), the end of a stream not reconnected, or a 204;
     * else it throws an Error with the error event's kind, status and message. Leaving the loop
     * closes the source. A hand-written iterator, not an async generator: one settled promise per
     * event is what it costs.
     */
    [Symbol.asyncIterator]() {
      // What arrived and is not yet taken (from `i` on): events, then the end (null: clean, or
      // the Error).
      const queue = [];
      let i = 0;
      let wake;
      let finished = false;
      const tap = (x) => {
        queue.push(x);
        if (wake) {
          const w = wake;
          wake = undefined;
          w();
        }
      };
      if (this.#readyState === CLOSED) tap(null);
      else (this.#taps ??= []).push(tap);
      const end = () => {
        finished = true;
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      };
      const iterator = {
        next: () => {
          if (finished) return Promise.resolve({ value: undefined, done: true });
          // Calls that wait are answered in their order.
          if (i === queue.length) {
            return new Promise((r) => {
              const before = wake;
              wake = () => {
                before?.();
                r(iterator.next());
              };
            });
          }
          const x = queue[i++];
          // A chunk's worth at a time: what was taken goes.
          if (i === queue.length) queue.length = i = 0;
          if (x === null) return end();
          if (x instanceof Error) {
            finished = true;
            this.close();
            return Promise.reject(x);
          }
          return Promise.resolve({ value: x, done: false });
        },
        // However the loop ends early (break, return, a throw in its body).
        return: end,
        [Symbol.asyncIterator]() { return this; },
      };
      return iterator;
    }

    #release(error = null) {
      // Each iterator ends after what it has queued; close() clears them, so this runs once.
      for (const tap of this.#taps ?? []) tap(error);
      this.#taps = undefined;
      const engine = this.#engine;
      this.#engine = undefined;
      if (engine) {
        this.#readyState = engine.close();
        // Not now: this may run inside one of the engine's own calls (an abort, say).
        queueMicrotask(() => engine.free());
      }
      // A shared source leaves the channel and lets go of the lock (or its place in line): the
      // next source of the key takes over.
      this.#share?.channel.close();
      this.#listening?.abort();
      EventSource.#live?.delete(this);
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
      // What fetch-event-source's onopen gets of the Response: its status, final URL and headers.
      this.dispatchEvent(Object.assign(new Event('open'), this.#response));
    }

    // The response's headers, for news of a response (one with a status).
    #headersOf(status) {
      return status === undefined ? undefined : this.#response?.headers;
    }

    // A chunk's frames: `meta` holds a code per frame (and the retry time), `text` their fields,
    // each ended by CR.
    #frames(meta, text) {
      let events = this.#batch ? [] : undefined;
      const fields = text.split('\r');
      let f = 0;
      for (let i = 0; i < meta.length; i++) {
        // close() inside a handler cancels what is still queued.
        if (this.#readyState === CLOSED) return;
        const code = meta[i];
        if (code === RETRY) {
          this.#reconnectionTime = meta[++i];
        } else if (code === ID) {
          const id = fields[f++];
          if (this.#skipTo === undefined) {
            this.#lastEventId = id;
            if (this.#recent?.push(id) > RECENT) this.#recent.shift();
          }
        } else if (code === COMMENT) {
          // In stream order: the events parsed before it go first.
          if (events?.length > 0) {
            this.#call(this.#batch, events);
            events = [];
            if (this.#readyState === CLOSED) return;
          }
          this.#call(this.#onComment, fields[f++]);
        } else {
          const type = code & TYPED ? fields[f++] : 'message';
          const data = fields[f++];
          const id = code & NEW_ID ? fields[f++] : this.#lastEventId;
          // What a new holder replays of what this shared source has (up to its last ID).
          if (this.#skipTo !== undefined) {
            if (code & NEW_ID && id === this.#skipTo) this.#skipTo = undefined;
            continue;
          }
          if (code & NEW_ID) {
            this.#lastEventId = id;
            if (this.#recent?.push(id) > RECENT) this.#recent.shift();
          }
          const taps = this.#taps;
          const plain = events || taps ? { type, data, lastEventId: this.#lastEventId } : undefined;
          // Iterators first: a handler's close() ends them after this event, not before it.
          if (taps) for (const tap of taps) tap(plain);
          if (events) events.push(plain);
          // With only iterators reading, no listener would hear a DOM event.
          else if (!taps || this.#listened) this.dispatchEvent(new SseMessageEvent(type, data, this.#lastEventId, this.#origin));
        }
      }
      // The fast path: one call per chunk with plain objects, instead of one DOM event per message.
      if (events?.length > 0 && this.#readyState !== CLOSED) this.#call(this.#batch, events);
    }

    // A user callback, as a listener is called: a throw is reported, and the stream goes on.
    #call(f, arg) {
      try {
        f.call(this, arg);
      } catch (e) {
        queueMicrotask(() => { throw e; });
      }
    }

    #failed(kind, status, message, retryIn, attempt, gaveUp, readyState, cause, body) {
      if (this.#readyState === CLOSED) return;
      this.#readyState = readyState;
      const headers = this.#headersOf(status);
      // An iterator throws it, unless the stream just ended (not reconnected) or the server said
      // 204, which are how a stream is done.
      if (readyState === CLOSED) {
        this.#release(gaveUp || (kind !== 'ended' && status !== 204)
          ? Object.assign(new Error(message, { cause }), { kind, status, body, headers }) : null);
      }
      this.dispatchEvent(new SseErrorEvent(kind, status, message, retryIn, attempt, gaveUp, cause, body, headers));
    }
  }
  return EventSource;
}

// EventSourceParserStream: a stream the caller already has (a fetch's body, a file, a socket's
// bytes) parsed by the same engine, as a TransformStream: bytes (or strings) in,
// `{ type, data, lastEventId }` out, the objects `batch` gets. index.js makes it with a pure
// call, so a bundle that does not use it drops it.
/** The class over `EventSource` (index.js makes the package's). */
export function defineParserStream(EventSource) {
  let encoder;
  return class EventSourceParserStream extends TransformStream {
    /**
     * `options`: `onComment(text)` and `maxEventSize`, as EventSource takes them. The stream
     * errors when an event is larger than `maxEventSize` (kind `too-large`), or when a chunk is
     * neither bytes nor a string (a TypeError); an event left unfinished at the end is dropped,
     * as the spec says of the end of a stream.
     */
    constructor(options = {}) {
      const { onComment, maxEventSize } = options ?? {};
      // The engine reads what is written here, as a response's body.
      const body = new TransformStream();
      const writer = body.writable.getWriter();
      let source;
      let ended;
      const done = new Promise((r) => { ended = r; });
      super({
        start(controller) {
          source = EventSource.fromReadableStream(body.readable, {
            onComment,
            maxEventSize,
            batch(events) {
              for (const e of events) controller.enqueue(e);
            },
          });
          source.onerror = (e) => {
            // The end of the input (`ended`, or `network` when it ended inside an event) is
            // the end of the events; anything else is the stream's error.
            if (e.kind !== 'ended' && e.kind !== 'network') controller.error(Object.assign(new Error(e.message), { kind: e.kind }));
            ended();
          };
        },
        transform(chunk) {
          if (typeof chunk === 'string') chunk = (encoder ??= new TextEncoder()).encode(chunk);
          else if (!(chunk instanceof Uint8Array)) throw new TypeError('sse-web: EventSourceParserStream takes Uint8Array or string chunks');
          return writer.write(chunk);
        },
        flush() {
          writer.close();
          return done;
        },
        cancel(reason) {
          source.close();
          writer.abort(reason).catch(() => {});
        },
      });
    }
  };
}
