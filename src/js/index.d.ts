/** What a retry policy may say; the defaults are the WHATWG EventSource's. */
export interface RetryInit {
  /** `'resilient'`: backoff with jitter (1 s doubling to 30 s), a 100 ms floor, 5xx/429/408 retried. */
  preset?: 'resilient';
  /** The reconnection time before the server sends `retry:`, in ms (default 3000). */
  reconnectionTime?: number;
  /** Exponential backoff with full jitter over the reconnection time (default off). */
  backoff?: boolean | { factor?: number; maxDelay?: number; jitter?: boolean; resetAfter?: number };
  /** No wait is shorter than this, whatever the server's `retry:` says (default 0). */
  minDelay?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  maxAttempts?: number;
  /**
   * `'spec'` (default): only network errors, timeouts and the end of the stream reconnect.
   * `'transient'`: also 5xx, 429 and 408, after their Retry-After.
   * A function: gets the failure and the default decision; returns true (retry), false (close),
   * or a number (retry after at least that many ms). An HTTP error's failure carries the
   * response's headers and the start of its body (so a 401 can be retried after a token refresh,
   * or a JSON error stop the source).
   */
  classify?:
    | 'spec'
    | 'transient'
    | ((failure: SseFailure, retryByDefault: boolean) => boolean | number);
  /**
   * The clean end of the response closes the source for good (an `error` of kind `'ended'`,
   * `willRetry` false, readyState CLOSED), while a broken connection (or a response that ends
   * inside an event) still resumes with
   * Last-Event-ID: for a stream that is one answer (an LLM's over POST), which the spec would
   * ask for again. Default false.
   */
  closeOnEnd?: boolean;
}

export type HeadersLike = HeadersInit | undefined;

/**
 * What a `fetch` override is called with, as the `eventsource` package calls one: the request's
 * headers as a plain object, names as sent (`Accept`, `Last-Event-ID` on a reconnect, yours),
 * so `{ ...init.headers, Authorization: 'Bearer t' }` keeps them; the fetch fields you set.
 */
export interface SseFetchInit extends RequestInit {
  method: string;
  headers: Record<string, string>;
  signal: AbortSignal;
  cache: RequestCache;
  credentials: RequestCredentials;
  mode: RequestMode;
  redirect: RequestRedirect;
}

/** The native `EventSourceInit`, and every extension. */
export interface EventSourceInit {
  withCredentials?: boolean;
  method?: string;
  /** Headers, or a function called before every attempt (e.g. a refreshed token). */
  headers?: HeadersLike | (() => HeadersLike | Promise<HeadersLike>);
  /** A body, or a function called before every attempt. */
  body?: BodyInit | null | (() => BodyInit | null | Promise<BodyInit | null>);
  mode?: RequestMode;
  cache?: RequestCache;
  credentials?: RequestCredentials;
  referrer?: string;
  referrerPolicy?: ReferrerPolicy;
  redirect?: RequestRedirect;
  /** Subresource Integrity metadata, passed to fetch. */
  integrity?: string;
  /** Passed to fetch (a keepalive request's body is limited to 64 KiB). */
  keepalive?: boolean;
  /** fetch's priority hint. */
  priority?: 'high' | 'low' | 'auto';
  /** A fetch to use instead of the global one (the global `fetch` itself fits). */
  fetch?: (url: string, init: SseFetchInit) => Promise<Response>;
  /** Aborting it closes the source with an `aborted` error (an already-aborted one too). */
  signal?: AbortSignal;
  retry?: RetryInit;
  /** Reconnect when no byte (comments included) arrives for this many ms. */
  inactivityTimeout?: number;
  /** The last event ID to start from. */
  lastEventId?: string;
  /** Also send the last event ID as this query parameter (`true`: `lastEventId`). */
  lastEventIdQuery?: string | boolean;
  /** The bound on one event, in bytes (default 16 MiB). */
  maxEventSize?: number;
  /** Drop the connection while the page is hidden, and make one when it is shown. */
  pauseWhenHidden?: boolean;
  /** Reconnect at once when the browser comes back online (default true). */
  reconnectOnOnline?: boolean;
  /**
   * One connection for every source of this origin (tabs, Workers) with the same method, URL and
   * `share` string (`true`: ''): one holds it (elected with Web Locks), the others receive its
   * events over a BroadcastChannel, as if each had its own. Body and header values are not
   * compared: make the string say what differs. Where Web Locks or BroadcastChannel are missing
   * (Node), a connection of its own; `shared` says which.
   */
  share?: string | boolean;
  /**
   * The fast path for high-rate streams: called once per received chunk with its events as plain
   * objects, instead of one MessageEvent each (no `message` or named events are dispatched then).
   * Use it above some thousands of events per second, where DOM event dispatch dominates.
   */
  batch?: (events: SseEvent[]) => void;
  /**
   * Called with each comment line (`: text`, the one leading space stripped), in stream order
   * among the events (with `batch`, the events before it are delivered first). Without it,
   * comments are dropped inside the engine, at no cost.
   */
  onComment?: (comment: string) => void;
}

/**
 * `too-large`: an event over `maxEventSize`, or a last event ID over the 4096 bytes sent back.
 * `request`: your own code failed (a header or body function, a fetch override, a body that is not bytes).
 * `cors`: the browser blocked the cross-origin response (the server must send Access-Control-Allow-Origin);
 * closes for good, as the native EventSource does.
 */
export type ErrorKind = 'network' | 'http' | 'content-type' | 'timeout' | 'too-large' | 'aborted' | 'ended' | 'request' | 'cors';

/** What `retry.classify` is given: what failed, and for an HTTP error the response. */
export interface SseFailure {
  kind: ErrorKind;
  status?: number;
  /** The response's headers, when the server answered (an HTTP error, a wrong Content-Type). */
  headers?: Headers;
  /** An HTTP error's body as text: its first 64 KiB, read for 1 s at most (invalid UTF-8 replaced). */
  body?: string;
}

/** The `open` event: the stream is open, and what the response said (as fetch-event-source's `onopen` gets it). */
export interface SseOpenEvent extends Event {
  /** 200. */
  readonly status: number;
  /** The response's final URL, after redirects (empty for `fromReadableStream` and a fetch override's own Response). */
  readonly url: string;
  readonly headers: Headers;
}

/** The `error` event, with what happened. */
export declare class SseErrorEvent extends Event {
  readonly kind: ErrorKind;
  readonly status: number | undefined;
  /** The same as `status`: the name the `eventsource` package's `ErrorEvent` gives it. */
  readonly code: number | undefined;
  /** The response's headers, when the server answered (an HTTP error, a wrong Content-Type). */
  readonly headers: Headers | undefined;
  /** An HTTP error's body as text, for the server's own words (`{"error":"token expired"}`): its
   * first 64 KiB, read for 1 s at most, invalid UTF-8 replaced. Undefined for other errors. */
  readonly body: string | undefined;
  /** sse-web-core's sentence, the same in every client: what happened, the platform's words, what comes next. */
  readonly message: string;
  /** The error behind it: the platform's (a fetch TypeError) or your own code's. */
  readonly cause: unknown;
  readonly willRetry: boolean;
  readonly retryIn: number | undefined;
  readonly attempt: number;
  readonly gaveUp: boolean;
}

/**
 * What `for await (const e of source)` throws when the source closes for good on an error: the
 * error event's `kind`, `status` and `message` (`cause`: the error behind it, if any).
 */
export interface SseError extends Error {
  readonly kind: ErrorKind;
  readonly status: number | undefined;
  readonly headers: Headers | undefined;
  readonly body: string | undefined;
}

interface EventSourceEventMap {
  open: SseOpenEvent;
  message: MessageEvent<string>;
  error: SseErrorEvent;
}

export declare class EventSource extends EventTarget {
  constructor(url: string | URL, init?: EventSourceInit);
  /** Events parsed from a stream you already have: no request, no reconnect. */
  static fromReadableStream(stream: ReadableStream<Uint8Array>, init?: Omit<EventSourceInit, 'fetch'>): EventSource;
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSED: 2;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;
  readonly url: string;
  readonly withCredentials: boolean;
  readonly readyState: 0 | 1 | 2;
  readonly lastEventId: string;
  /** Whether this source shares one connection with the others of its `share` key. */
  readonly shared: boolean;
  /** The server's last `retry:`, or the option's; undefined until the engine has started (only the
   * first source of a page waits for the wasm, a few milliseconds). */
  readonly reconnectionTime: number | undefined;
  // Each `on*` handler is an accessor pair: what you set is typed precisely (`this` is the source,
  // `onerror` gets an SseErrorEvent), what you read back takes any Event, so that an sse-web
  // `EventSource` is assignable where the DOM's `EventSource` is expected (whose handlers take an
  // `Event` and the DOM source as `this`). Accessors of two types need TypeScript 4.3.
  get onopen(): ((ev: Event) => any) | null;
  set onopen(handler: ((this: EventSource, ev: SseOpenEvent) => any) | null);
  get onmessage(): ((ev: MessageEvent) => any) | null;
  set onmessage(handler: ((this: EventSource, ev: MessageEvent<string>) => any) | null);
  get onerror(): ((ev: Event) => any) | null;
  set onerror(handler: ((this: EventSource, ev: SseErrorEvent) => any) | null);
  close(): void;
  /**
   * Drops the connection and reconnects now with the last event ID, as after a network error but
   * with no `error` event and no failed attempt counted: CONNECTING, then `open` again. Nothing
   * when closed.
   */
  restart(): void;
  /**
   * Every event, whatever its type (`message` and named ones), as `{ type, data, lastEventId }`
   * (the objects `batch` gets), in order; the ones that arrive while the loop body awaits are
   * queued. While only loops read a source (no listener of message events added), no DOM event
   * is dispatched. The loop ends when the
   * source closes: cleanly on `close()`, at the end of a stream that is not reconnected, or on a
   * 204; on any other error that closes it, it throws an {@link SseError}. `break` closes the
   * source.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<SseEvent>;
  addEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, ev: EventSourceEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: (this: EventSource, ev: MessageEvent<string>) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, ev: EventSourceEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: (this: EventSource, ev: MessageEvent<string>) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

/** An event as `batch`, `EventSourceParserStream` and the scenario table see it. */
export interface SseEvent {
  /** The event's type (`message` unless the server named one). */
  type: string;
  data: string;
  /** The last event ID, as the spec keeps it: the latest `id:` so far, not only this event's. */
  lastEventId: string;
}

/**
 * A stream you already have, parsed by the same engine as `EventSource`:
 * `response.body.pipeThrough(new EventSourceParserStream())`. Takes bytes (or strings, which it
 * encodes as UTF-8), gives one object per event. It errors when an event exceeds `maxEventSize`
 * (an `Error` with `kind: 'too-large'`) or a chunk is neither a `Uint8Array` nor a string (a
 * `TypeError`); an event left unfinished when the input ends is dropped, as the spec says.
 */
export declare class EventSourceParserStream extends TransformStream<Uint8Array | string, SseEvent> {
  constructor(options?: Pick<EventSourceInit, 'onComment' | 'maxEventSize'>);
}

/** Makes `globalThis.EventSource` this one; returns it. */
export declare function install(): typeof EventSource;
/** Loads the wasm now instead of on first use. */
export declare function preload(): Promise<void>;
