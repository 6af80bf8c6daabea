// eventsource-parser (npm) with a streaming TextDecoder on the corpora the Rust benchmark uses,
// fed in 16 KiB chunks. Prints MB/s per corpus as JSON lines for scripts/bench-parser.sh.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';

const dir = process.argv[2];
const CHUNK = 16 * 1024;

function run(bytes) {
  let n = 0;
  const parser = createParser({ onEvent: (e) => { n += e.data.length + 1; } });
  const decoder = new TextDecoder();
  for (let i = 0; i < bytes.length; i += CHUNK) {
    parser.feed(decoder.decode(bytes.subarray(i, i + CHUNK), { stream: true }));
  }
  return n;
}

for (const name of ['llm', 'multiline', 'large', 'llm-crlf']) {
  const bytes = new Uint8Array(readFileSync(join(dir, `${name}.sse`)));
  for (let i = 0; i < 3; i++) run(bytes); // warm up the JIT
  const times = [];
  for (let i = 0; i < 10; i++) {
    const t0 = process.hrtime.bigint();
    run(bytes);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(JSON.stringify({ corpus: name, bytes: bytes.length, seconds: median, mbps: bytes.length / median / 1e6 }));
}
