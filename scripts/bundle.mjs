// Bundles the CLI into one ESM file so `tsbuild` starts without resolving
// hundreds of modules: start-up time is part of every warm rebuild.
import { build } from 'esbuild';

// dist/ is not wiped first: tests running the CLI at the same time must never
// find it missing. Chunk names carry content hashes, so stale chunks are inert.

await build({
  // Code splitting keeps lazily imported commands and modules (ora, tar, the
  // registry client) out of the start-up path of a cached build.
  entryPoints: { tsbuild: 'src/cli/main.ts' },
  splitting: true,
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  // @napi-rs/xattr loads a native .node file: keep it external.
  external: ['@napi-rs/xattr'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
