// The codes the JS and Rust halves of sse-web exchange are one definition: each side's constants
// must agree with the other's, name for name, or `npm test` fails (a code added on one side only,
// or renumbered, is caught here rather than by a scenario that happens to use it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readOptions } from '../../src/js/event_source.js';

const read = (path) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
/** `const NAME = N;` (JS) or `const NAME: u8 = N;` (Rust) as { NAME: N }. */
function constants(source) {
  const out = {};
  for (const m of source.matchAll(/const ([A-Z_]+)(?:: u(?:8|16|32))? = (\d+);/g)) out[m[1]] = Number(m[2]);
  return out;
}
const pick = (all, names) => Object.fromEntries(names.map((n) => [n, all[n]]));

test('io.js reports with the codes src/engine.rs routes', () => {
  const names = ['RESPONDED', 'READ', 'FAILED', 'TIMER', 'REFUSED', 'PREPARED'];
  const js = pick(constants(read('src/js/io.js')), names);
  assert.deepEqual(js, pick(constants(read('src/engine.rs')), names));
  assert.equal(new Set(Object.values(js)).size, names.length, 'distinct codes');
});

test('the frame and signal codes of src/js_bridge.rs are the shell\'s', () => {
  const names = ['TYPED', 'NEW_ID', 'RETRY', 'ID', 'ABORTED', 'HIDDEN', 'ONLINE'];
  const js = pick(constants(read('src/js/event_source.js')), names);
  assert.ok(Object.values(js).every(Number.isInteger), 'every code defined in the shell');
  assert.deepEqual(js, pick(constants(read('src/js_bridge.rs')), names));
});

test('readOptions fills the positions src/options.rs reads, by the same names', () => {
  // The Rust side: `const NAME: u32 = i;` for each position.
  const rust = Object.entries(constants(read('src/options.rs'))).sort((a, b) => a[1] - b[1]);
  assert.deepEqual(rust.map(([, i]) => i), rust.map((_, i) => i), 'positions 0..n');
  const snake = (camel) => camel.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  // The JS side, from the list it documents...
  const listed = read('src/js/event_source.js').match(/readOptions' array, by position[^:]*:([^]*?)\n\n/)[1]
    .replace(/\/\//g, ' ').trim().split(/\s+/);
  assert.deepEqual(listed.map(snake), rust.map(([n]) => n));
  // ...and from what it does: each option set alone lands at its position.
  const probes = {
    method: [{ method: 'M' }, 'M'], withCredentials: [{ withCredentials: true }, true],
    inactivityTimeout: [{ inactivityTimeout: 11 }, 11], maxEventSize: [{ maxEventSize: 12 }, 12],
    lastEventId: [{ lastEventId: 'L' }, 'L'], lastEventIdQuery: [{ lastEventIdQuery: 'q' }, 'q'],
    pauseWhenHidden: [{ pauseWhenHidden: true }, true], reconnectOnOnline: [{ reconnectOnOnline: false }, false],
    preset: [{ retry: { preset: 'resilient' } }, 'resilient'], reconnectionTime: [{ retry: { reconnectionTime: 13 } }, 13],
    minDelay: [{ retry: { minDelay: 14 } }, 14], maxAttempts: [{ retry: { maxAttempts: 15 } }, 15],
    backoff: [{ retry: { backoff: true } }, true], factor: [{ retry: { backoff: { factor: 1.5 } } }, 1.5],
    maxDelay: [{ retry: { backoff: { maxDelay: 16 } } }, 16], jitter: [{ retry: { backoff: { jitter: false } } }, false],
    resetAfter: [{ retry: { backoff: { resetAfter: 17 } } }, 17], classify: [{ retry: { classify: 'transient' } }, 'transient'],
  };
  listed.forEach((name, i) => {
    if (name === 'headers') {
      const h = { A: 'b' };
      assert.equal(readOptions({ headers: h })[i], h, 'headers');
      return;
    }
    const [init, value] = probes[name];
    assert.equal(readOptions(init)[i], value, name);
  });
  assert.equal(readOptions({}).length, listed.length);
});
