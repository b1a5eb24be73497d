// Bundles the CLI so `tsbuild` starts fast: start-up is part of every warm rebuild.
//
//   dist/tsbuild-<hash>.cjs  the whole CLI, one CommonJS file. Lazily imported
//                            commands and modules (ora, tar, the registry client)
//                            stay lazy: esbuild runs their top level only when
//                            they are first imported.
//   dist/tsbuild.mjs         the entry point (src/boot/loader.ts): runs that
//                            bundle from V8's code cache, so a run compiles only
//                            what no earlier run compiled.
//
// A CommonJS bundle because V8's code cache is open to scripts (vm.Script's
// cachedData), not to ES modules on Node 20.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const dist = 'dist';
mkdirSync(dist, { recursive: true });

/** writeAtomic replaces path at once: tests may be running the CLI while dist/ is rebuilt. */
function writeAtomic(path, contents) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

const cli = await build({
  entryPoints: ['src/cli/main.ts'],
  write: false,
  outfile: join(dist, 'tsbuild.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // import() of node builtins and externals becomes require(): vm.Script has no
  // ES module loader behind it.
  supported: { 'dynamic-import': false },
  // @napi-rs/xattr loads a native .node file: keep it external.
  external: ['@napi-rs/xattr'],
  define: { 'import.meta.url': '__tsbuild_import_meta_url' },
  // The file is a script whose value is the function Node's CommonJS loader
  // would wrap a module in, so the loader hands V8 the file's text as it is.
  banner: { js: "(function (exports, require, module, __filename, __dirname) {var __tsbuild_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  footer: { js: '})' },
  // Fewer bytes to read and to hold as a string at every start; names are kept,
  // so stack traces (TSBUILD_DEBUG=1) still read.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  charset: 'ascii',
  logLevel: 'warning',
});
const code = cli.outputFiles[0].contents;
// The loader reads the bundle as latin1, one byte a character, the cheapest string V8 makes.
const nonAscii = code.findIndex((b) => b > 0x7f);
if (nonAscii >= 0) throw new Error(`bundle: non-ASCII byte at offset ${nonAscii} (a regular expression literal with a non-ASCII character? write it as \\uXXXX)`);
const id = createHash('sha256').update(code).digest('hex').slice(0, 16);
const bundleName = `tsbuild-${id}.cjs`;
writeAtomic(join(dist, bundleName), code);

const loader = await build({
  entryPoints: ['src/boot/loader.ts'],
  write: false,
  outfile: join(dist, 'tsbuild.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  define: { BUNDLE_ID: JSON.stringify(id), BUNDLE_FILE: JSON.stringify(bundleName) },
  logLevel: 'warning',
});
writeAtomic(join(dist, 'tsbuild.mjs'), loader.outputFiles[0].contents);

// Older bundles (and the chunks of the code-split ESM build before them) are
// removed once they are a minute old, so a CLI that started just before this
// rebuild still finds what it loads.
const old = Date.now() - 60_000;
for (const name of readdirSync(dist)) {
  if (name === bundleName || name === 'tsbuild.mjs') continue;
  if (!/^tsbuild-[0-9a-f]{16}\.cjs$|^chunks$|^tsbuild\.mjs\.map$/.test(name)) continue;
  const path = join(dist, name);
  if (statSync(path).mtimeMs < old) rmSync(path, { recursive: true, force: true });
}
