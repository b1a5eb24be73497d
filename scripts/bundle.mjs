// Bundles the CLI into one ESM file so `tsbuild` starts without resolving
// hundreds of modules: start-up time is part of every warm rebuild.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile: 'dist/tsbuild.mjs',
  // @napi-rs/xattr loads a native .node file: keep it external.
  external: ['@napi-rs/xattr'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
