// Builds the demo (www/main.js) against the sse-web package in pkg/ (npm run build makes it),
// exactly as an app that installed it would: no wasm-specific configuration.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  entry: './www/main.js',
  output: {
    path: fileURLToPath(new URL('./www/dist/', import.meta.url)),
    filename: 'main.js',
    clean: true,
  },
  resolve: {
    alias: { 'sse-web': fileURLToPath(new URL('./pkg/', import.meta.url)) },
  },
  performance: { hints: false },
};
