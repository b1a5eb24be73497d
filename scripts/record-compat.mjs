#!/usr/bin/env node
// Records test/fixtures/compat/*/expected/ from Docker 20.10 (BuildKit), the reference.
// Usage (as root): node scripts/record-compat.mjs [case ...]
// The recorder is TypeScript (test/integration/compat/record.ts, sharing the listing code with
// the tests); esbuild bundles it to a temporary file first.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const repo = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'record-compat-bundle-'));
const out = join(dir, 'record.mjs');
try {
  await build({
    entryPoints: [join(repo, 'test/integration/compat/record.ts')],
    bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'error',
    define: { 'import.meta.dirname': JSON.stringify(join(repo, 'test/integration/compat')) },
    absWorkingDir: repo,
  });
  await import(pathToFileURL(out).href);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
