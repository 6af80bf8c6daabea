// The benchmarks' sse-testserver: the release build on `port` (+1, +2), serving the repository as
// static files, killed when the script exits; resolves once it answers.
import { spawn, execFileSync } from 'node:child_process';

export async function startServer(port) {
  execFileSync('cargo', ['build', '-q', '--release', '-p', 'sse-testserver'], { stdio: 'inherit' });
  const server = spawn('target/release/sse-testserver', ['--port', String(port), '--static', '.'], { stdio: 'ignore' });
  process.on('exit', () => server.kill());
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/log?token=ready`)).ok) return;
    } catch {}
    if (i > 100) throw new Error('sse-testserver did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}
