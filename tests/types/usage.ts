// Compiled by `tsc --noEmit` in npm test: the package's types accept what the README shows and
// reject what they should.
import { EventSource, SseErrorEvent, install, preload } from '../../src/js/index.js';

const es = new EventSource('/v1/chat', {
  method: 'POST',
  headers: async () => ({ Authorization: 'Bearer t' }),
  body: () => JSON.stringify({ prompt: 'hi' }),
  retry: { preset: 'resilient', maxAttempts: 5, classify: (f, byDefault) => f.status === 418 || byDefault },
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

// @ts-expect-error: readyState is read-only
es.readyState = 2;
// @ts-expect-error: an unknown classification
new EventSource('/x', { retry: { classify: 'sometimes' } });
// @ts-expect-error: onComment takes a function
new EventSource('/x', { onComment: 'yes' });
