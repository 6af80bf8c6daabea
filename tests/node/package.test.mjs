// The built npm package (pkg/, from scripts/build.sh) through its public JS API, in Node's test
// runner, against sse-testserver (SSE_TESTSERVER). The same scenarios run in Chromium and a Worker
// through the wasm-bindgen suites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource, EventSourceParserStream, SseErrorEvent, install } from '../../pkg/index.js';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { scenarios, streamScenarios } from '../js/scenarios.js';
import { runTable } from '../js/table.js';

const server = process.env.SSE_TESTSERVER ?? 'http://127.0.0.1:8787';

for (const [name, scenario] of Object.entries(scenarios)) {
  test(name, () => scenario(EventSource, server));
}

for (const [name, scenario] of Object.entries(streamScenarios)) {
  test(`${name} (the package's export)`, () => scenario(EventSourceParserStream, server));
}

test('the scenario table (tests/scenarios) through the packed package', { timeout: 240000 }, async () => {
  const table = readFileSync(new URL('../scenarios/table.json', import.meta.url), 'utf8');
  console.log(await runTable(EventSource, server, table, 'package'));
});

test('install() makes it the global EventSource', () => {
  const native = globalThis.EventSource;
  try {
    assert.equal(install(), EventSource);
    assert.equal(globalThis.EventSource, EventSource);
  } finally {
    globalThis.EventSource = native;
  }
});

test('a bad URL throws a SyntaxError DOMException at construction, as the spec says', () => {
  assert.throws(() => new EventSource('http://[bad'), (e) => e instanceof DOMException && e.name === 'SyntaxError');
});

test('error events are SseErrorEvents with what happened', async () => {
  const es = new EventSource(`${server}/inline?script=${encodeURIComponent('{"status":404}')}`);
  const e = await new Promise((resolve) => es.addEventListener('error', resolve));
  assert.ok(e instanceof SseErrorEvent);
  assert.equal(e.kind, 'http');
  assert.equal(e.status, 404);
  assert.equal(e.willRetry, false);
  assert.match(e.message, /HTTP 404/);
  assert.equal(es.readyState, EventSource.CLOSED);
});

test('in Node, a source waiting to reconnect does not keep the process alive', async () => {
  const t = `unref-${Math.random().toString(36).slice(2)}`;
  const stored = await fetch(`${server}/script?token=${t}`, { method: 'POST', body: JSON.stringify([{ steps: [{ write: 'retry: 60000\ndata: a\n\n' }] }]) });
  assert.ok(stored.ok);
  // Only the source: the stream ends, the source waits 60 s to reconnect, and nothing else runs.
  const program = `
    import { EventSource } from ${JSON.stringify(new URL('../../pkg/index.js', import.meta.url).href)};
    const es = new EventSource(${JSON.stringify(`${server}/s?token=${t}`)});
    es.onmessage = (e) => console.log(e.data);
    es.onerror = (e) => console.log(e.kind, e.willRetry, e.retryIn);
  `;
  const started = Date.now();
  const node = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: 10000 });
  assert.equal(node.signal, null, `killed after ${Date.now() - started} ms: the process did not exit by itself`);
  assert.equal(node.status, 0, node.stderr);
  assert.equal(node.stdout, 'a\nended true 60000\n');
});
