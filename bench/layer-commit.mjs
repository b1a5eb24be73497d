#!/usr/bin/env node
// Layer commit throughput: writeLayerTar / commitDir / applyLayer on ~300 MB in
// 5,000 files, against `tar -cf - DIR | sha256sum` on the same data in the same run.
//   node bench/layer-commit.mjs [DATADIR=/tmp/perfdata]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Bundled under node_modules so the external native addon resolves as usual.
const out = join(mkdtempSync(join(root, 'node_modules', '.tsbuild-bench-')), 'layerCommit.mjs');
await build({
  entryPoints: [join(root, 'bench/layerCommit.ts')],
  bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'warning',
  external: ['@napi-rs/xattr'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  nodePaths: [join(root, 'node_modules')],
});
const r = spawnSync(process.execPath, ['--expose-gc', out, process.argv[2] ?? '/tmp/perfdata'], { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_PATH: join(root, 'node_modules') } });
rmSync(dirname(out), { recursive: true, force: true });
process.exit(r.status ?? 1);
