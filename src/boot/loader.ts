// The CLI's entry point (bundled alone to dist/tsbuild.mjs): it runs the CLI
// bundle (dist/tsbuild-<hash>.cjs) from V8's code cache. Start-up is part of every
// warm rebuild, and compiling the bundle's code, not running it, was most of
// it. This file must not import anything of the CLI itself.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** BUNDLE_FILE is the CLI bundle beside this file, BUNDLE_ID its content hash; scripts/bundle.mjs puts both in. */
declare const BUNDLE_FILE: string;
declare const BUNDLE_ID: string;

const bundle = fileURLToPath(new URL(`./${BUNDLE_FILE}`, import.meta.url));

/**
 * cacheFile is where this bundle's code cache lives: V8 checks only the
 * source's length, so the file name carries the bundle's content hash, and
 * Node's version (V8 rejects another V8's cache, which would rewrite it on
 * every run while two Node versions take turns). The command name keeps the
 * cache of `build` holding `build`'s code, whatever ran first.
 */
function cacheFile(env: NodeJS.ProcessEnv, command: string | undefined): string | undefined {
  if (command === undefined || env.TSBUILD_CODE_CACHE === 'off') return undefined;
  const base = env.TSBUILD_CODE_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tsbuild', 'v8');
  return join(base, `${BUNDLE_ID}-${process.version}-${process.arch}-${command.replace(/[^a-z]/g, '') || 'other'}.bin`);
}

/**
 * commandWord names the command the CLI will run, as src/cli/main.ts picks it:
 * the first argument after the global --root, `build` when that is an option
 * (`tsbuild -f Buildfile .`). undefined for help and version, which need no cache.
 */
function commandWord(argv: string[]): string | undefined {
  let i = 0;
  while (argv[i] === '--root' || argv[i]?.startsWith('--root=')) i += argv[i] === '--root' ? 2 : 1;
  const word = argv[i];
  if (word === undefined || word === '--help' || word === '-h' || word === 'help' || word === '--version') return undefined;
  return word.startsWith('-') ? 'build' : word;
}

function readOrUndefined(path: string): Buffer | undefined {
  try { return readFileSync(path); } catch { return undefined; }
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

/**
 * saveCache writes the code of every function compiled so far (the whole run's
 * path, not only the top level) atomically, and removes the caches of other
 * bundles unused for a week (each upgrade or rebuild of tsbuild leaves its own).
 * A place that cannot be written (read-only home, no home) only costs the cache.
 */
function saveCache(script: Script, path: string): void {
  try {
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, path);
    const old = Date.now() - WEEK_MS;
    for (const name of readdirSync(dir)) {
      if (name.startsWith(`${BUNDLE_ID}-`) || !/^[0-9a-f]{16}-.*\.bin$/.test(name)) continue;
      // A cache in use is read, not written: its atime (relatime keeps it to a day) says so.
      const p = join(dir, name);
      const st = statSync(p);
      if (Math.max(st.atimeMs, st.mtimeMs) < old) rmSync(p, { force: true });
    }
  } catch { /* the cache is an optimisation */ }
}

// The bundle is ASCII (scripts/bundle.mjs checks), so latin1 reads it right.
const source = readFileSync(bundle, 'latin1');
const cachePath = cacheFile(process.env, commandWord(process.argv.slice(2)));
const cachedData = cachePath ? readOrUndefined(cachePath) : undefined;
// The bundle's value is the function Node's CommonJS loader would wrap it in.
const script = new Script(source, {
  filename: bundle,
  cachedData,
});
// Only a run that succeeded saves: a failed one (a typo in the command, a bad
// Buildfile) compiled little of the command's path, and the first saved cache
// stays until the bundle or Node changes.
if (cachePath && (!cachedData || script.cachedDataRejected)) {
  process.once('exit', (code) => { if (code === 0) saveCache(script, cachePath); });
}
const module = { exports: {} };
(script.runInThisContext() as (...a: unknown[]) => void).call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
