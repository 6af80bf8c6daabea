// Compiled by `tsc --noEmit` in npm test: the package's types accept what the README shows and
// reject what they should.
import { EventSource, EventSourceParserStream, SseErrorEvent, install, preload, type SseError, type SseEvent } from '../../src/js/index.js';

const es = new EventSource('/v1/chat', {
  method: 'POST',
  headers: async () => ({ Authorization: 'Bearer t' }),
  body: () => JSON.stringify({ prompt: 'hi' }),
  retry: { preset: 'resilient', maxAttempts: 5, closeOnEnd: true, classify: (f, byDefault) => f.status === 418 || byDefault },
  inactivityTimeout: 30_000,
  lastEventIdQuery: true,
  batch: (events) => events.forEach((e) => e.data.length),
  onComment: (comment) => comment.trimStart(),
});
es.restart();
es.onmessage = (e) => e.data.toUpperCase();
es.onerror = (e: SseErrorEvent) => (e.willRetry ? e.retryIn : e.status);
es.addEventListener('update', (e) => e.lastEventId);
const state: 0 | 1 | 2 = es.readyState;
const fromStream: EventSource = EventSource.fromReadableStream(new ReadableStream<Uint8Array>());
const Installed: typeof EventSource = install();
void preload();
void [state, fromStream, Installed, es.reconnectionTime, es.lastEventId, EventSource.CLOSED];

// A stream you already have: bytes or strings in, SseEvents out.
const parsed: ReadableStream<SseEvent> = new ReadableStream<Uint8Array>().pipeThrough(new EventSourceParserStream({ maxEventSize: 1024, onComment: (c) => c.length }));
new ReadableStream<string>().pipeThrough(new EventSourceParserStream());
// @ts-expect-error only onComment and maxEventSize
new EventSourceParserStream({ method: 'POST' });
void parsed;

// Every fetch field the runtime passes on (src/js/io.js FETCH_FIELDS).
new EventSource('/x', {
  mode: 'cors', cache: 'no-store', credentials: 'include', referrer: '', referrerPolicy: 'no-referrer',
  redirect: 'follow', integrity: 'sha256-abc', keepalive: true, priority: 'high',
  fetch: (input, init) => fetch(input, init), signal: new AbortController().signal,
});
// Handlers are typed precisely without annotations, `this` included.
es.onerror = (e) => e.kind;
es.onerror = function (e) { this.restart(); return e.willRetry; };
es.onmessage = function (e) { const data: string = e.data; this.restart(); return data; };
es.onopen = null;
es.addEventListener('error', (e) => e.retryIn);
const onUpdate = (e: MessageEvent<string>) => e.data;
es.addEventListener('update', onUpdate);
es.removeEventListener('update', onUpdate);
// What a handler reads back takes any Event.
es.onerror?.(new Event('error'));

// A drop-in: usable wherever the DOM's EventSource (and its constructor) is expected.
const asDom: globalThis.EventSource = new EventSource('/x', { keepalive: true });
function takesDom(source: globalThis.EventSource) { source.onerror = (e: Event) => e.type; return source.readyState; }
takesDom(es);
let Ctor: typeof globalThis.EventSource = install();
Ctor = EventSource;
const viaDom: globalThis.EventSource = new Ctor('/x', { withCredentials: true });
void [asDom, viaDom];

// Coming from `eventsource`: its fetch override, its `code`, its feature check.
new EventSource('/x', {
  fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, Authorization: 'Bearer t' } }),
});
es.onerror = (e) => e.code === 401 || e.message.length;
// The response: the open event's status, final URL and headers; an HTTP error's headers and body.
es.onopen = (e) => `${e.status} ${e.url} ${e.headers.get('content-type')}`;
es.addEventListener('open', (e) => e.headers.has('x-request-id'));
es.onerror = (e) => (e.body?.length ?? 0) + (e.headers?.get('retry-after')?.length ?? 0);
new EventSource('/x', { retry: { classify: (f) => f.status === 401 && !f.body?.includes('revoked') && f.headers?.get('www-authenticate') !== null } });
new EventSource('/x', { fetch }); // the global one fits
const overridable: boolean = Symbol.for('eventsource.supports-fetch-override') in EventSource;
// Async iteration: SseEvents of every type; what it throws is an SseError.
async function iterate(): Promise<string[]> {
  const seen: string[] = [];
  try {
    for await (const e of es) seen.push(e.type, e.data, e.lastEventId);
  } catch (e) {
    const error = e as SseError;
    seen.push(error.kind, error.message, String(error.status));
  }
  return seen;
}
void [overridable, iterate];

// @ts-expect-error: readyState is read-only
es.readyState = 2;
// @ts-expect-error: an unknown classification
new EventSource('/x', { retry: { classify: 'sometimes' } });
// @ts-expect-error: onComment takes a function
new EventSource('/x', { onComment: 'yes' });
// @ts-expect-error: not a fetch priority
new EventSource('/x', { priority: 'urgent' });
// @ts-expect-error: keepalive is a boolean
new EventSource('/x', { keepalive: 'yes' });
// @ts-expect-error: onerror gets an SseErrorEvent, which has no `foo`
es.onerror = (e) => e.foo;
// @ts-expect-error: an iterated event's data is a string
for await (const e of es) { const n: number = e.data; void n; }
