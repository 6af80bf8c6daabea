// The options the types declare (src/js/index.d.ts) are the options the runtime reads, name for
// name: an option read but not declared is a TS2353 for its users, one declared but never read
// is silently ignored. The runtime's reads are recorded by handing it an `init` that is a Proxy
// and constructing a source: once through the shell (src/js/event_source.js) over a stub engine
// that drives src/js/io.js through one attempt, once through the built package (pkg/, the real
// wasm engine, which must read nothing more).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { defineEventSource } from '../../src/js/event_source.js';
import { Io } from '../../src/js/io.js';
import { EventSource as Packaged } from '../../pkg/index.js';

const dts = readFileSync(new URL('../../src/js/index.d.ts', import.meta.url), 'utf8');

/** The body of `interface NAME { ... }`, comments removed. */
function body(name) {
  const start = dts.indexOf(`export interface ${name} {`);
  assert.ok(start >= 0, `interface ${name} in index.d.ts`);
  let depth = 0;
  for (let i = dts.indexOf('{', start); i < dts.length; i++) {
    if (dts[i] === '{') depth++;
    else if (dts[i] === '}' && --depth === 0) {
      return dts.slice(dts.indexOf('{', start) + 1, i).replace(/\/\*[^]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    }
  }
  throw new Error(`unclosed interface ${name}`);
}

/** The member names at the top level of an object type's body (`name?: type;`). */
function keys(text) {
  const out = [];
  let depth = 0;
  for (const m of text.matchAll(/=>|[{}()<>]|(?:^|[;\s])([A-Za-z_$][\w$]*)\??:/g)) {
    if (m[0] === '=>') continue;
    if ('{(<'.includes(m[0])) depth++;
    else if ('})>'.includes(m[0])) depth--;
    else if (depth === 0) out.push(m[1]);
  }
  return out.sort();
}

/** What the types declare: EventSourceInit's keys, `retry.*` (RetryInit), `retry.backoff.*`. */
function declared() {
  const init = keys(body('EventSourceInit'));
  const retryBody = body('RetryInit');
  const retry = keys(retryBody).map((k) => `retry.${k}`);
  const backoffType = retryBody.match(/backoff\?:[^;]*?\{([^}]*)\}/);
  assert.ok(backoffType, 'RetryInit.backoff has an object form');
  const backoff = keys(backoffType[1]).map((k) => `retry.backoff.${k}`);
  return [...init, ...retry, ...backoff].sort();
}

/** An `init` that records every property read as a dotted path; `retry` and `retry.backoff` are
 * recorders too, `fetch` is `fetch` (a stub). Any other read gives undefined: the defaults. */
function recordingInit(fetch) {
  const reads = new Set();
  const others = [];
  const recorder = (prefix) => new Proxy({}, {
    get(_, key) {
      if (typeof key !== 'string') return undefined;
      const path = prefix + key;
      reads.add(path);
      if (path === 'retry' || path === 'retry.backoff') return recorder(`${path}.`);
      if (path === 'fetch') return fetch;
      return undefined;
    },
    has(_, key) { others.push(`has ${prefix}${String(key)}`); return false; },
    ownKeys() { others.push(`ownKeys ${prefix}`); return []; },
  });
  return { init: recorder(''), reads, others };
}

const pending = () => new Promise(() => {});

/** Equal lists, or which names are on one side only. */
function sameOptions(read) {
  const decl = declared();
  assert.deepEqual(
    { readButNotDeclared: read.filter((k) => !decl.includes(k)), declaredButNotRead: decl.filter((k) => !read.includes(k)) },
    { readButNotDeclared: [], declaredButNotRead: [] },
  );
  assert.deepEqual(read, decl);
}

test('the options the types declare are the ones the shell and io.js read', async () => {
  let fetched = false;
  const { init, reads, others } = recordingInit(() => { fetched = true; return pending(); });
  // A stub engine doing what src/engine.rs does with `init`: an Io for it, one attempt prepared
  // (the header and body functions) and fetched (the fetch fields, the fetch override).
  let io;
  const Source = defineEventSource((hooks, url, options, given) => {
    io = new Io(() => {}, given);
    io.prepare(1);
    io.fetch(1, url, options[0] ?? 'GET', undefined, options[1] ? 'include' : 'same-origin');
    return { close: () => 2, free() {}, signal() {}, restart() {} };
  });
  const es = new Source('http://127.0.0.1:1/', init);
  await new Promise((r) => setTimeout(r, 10));
  es.close();
  io.detach();
  assert.ok(fetched, 'the attempt reached fetch');
  assert.deepEqual(others, [], 'only property reads (no `in`, no spread)');
  const read = [...reads].sort();
  console.log(`declared: ${declared().join(' ')}\nread:     ${read.join(' ')}`);
  sameOptions(read);
});

test('the built package (its wasm engine) reads the same options', async () => {
  let fetched;
  const called = new Promise((r) => { fetched = r; });
  const { init, reads, others } = recordingInit(() => { fetched(); return pending(); });
  const es = new Packaged('http://127.0.0.1:1/', init);
  let timer;
  await Promise.race([called, new Promise((_, no) => { timer = setTimeout(() => no(new Error('fetch never called')), 10000); })]);
  clearTimeout(timer);
  es.close();
  assert.deepEqual(others, [], 'only property reads');
  sameOptions([...reads].sort());
});
