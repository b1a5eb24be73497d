#!/usr/bin/env node
// Registry benchmark: push and pull throughput of tsbuild against Debian's
// docker-registry on loopback, side by side with skopeo on the same image, the same
// registry binary and the same machine, interleaved run by run (absolute times
// drift on a shared machine; the ratios are what counts).
//
//   node bench/registry-bench.mjs [--runs N] [--mb SIZE] [--json FILE] [SCENARIO...]
//
// Scenarios (each builds one image with tsbuild, then measures it):
//   one-layer      one RUN writing SIZE MB (default 300): 1/3 raw /dev/urandom, 2/3 base64 of it
//   six-layers     six RUNs of SIZE/6 MB each, same mix
//   big-run-layer  ../shared/bench/scenarios/big-run-layer (310 MB of hex text in 5,000 files)
//
// Measured, per tool:
//   cold push  plain layers → gzip → an empty registry (compression included).
//              tsbuild: its compressed-layer records and blobs removed first; skopeo
//              copies oci:<our store> (plain layers, it gzips them itself).
//   warm push  the already-compressed image → an empty registry. tsbuild: records
//              kept (no compression); skopeo: from an oci: layout holding gzip layers.
//   pull       the registry's image → an empty store / an empty oci: layout.
// Each figure is the median wall time of the runs, with the client's CPU time
// (user+sys, from bash's time) and the throughput of uncompressed MB per second.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin/tsbuild.mjs');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const runs = Number(opt('--runs', '3'));
const mb = Number(opt('--mb', '300'));
const jsonOut = opt('--json', undefined);
const names = args.filter((a, i) => !a.startsWith('--') && !['--runs', '--mb', '--json'].includes(args[i - 1]));
const scenarios = names.length ? names : ['one-layer', 'six-layers', 'big-run-layer'];

const work = mkdtempSync(join(tmpdir(), 'tsbuild-regbench-'));
const root = join(work, 'root');
const registries = [];

function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** shTimed runs a command under bash's `time` and returns the child's CPU seconds (user + sys). */
function shTimed(cmd, argv) {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="CPU %U %S"; time "$@" >/dev/null', 'timed', cmd, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return m ? Number(m[1]) + Number(m[2]) : NaN;
}

/** measure runs a command and returns its wall seconds and CPU seconds. */
function measure(cmd, argv) {
  const t0 = process.hrtime.bigint();
  const cpu = shTimed(cmd, argv);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu };
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

/** startRegistry runs a fresh docker-registry (empty storage) and resolves once /v2/ answers. */
async function startRegistry() {
  const dir = mkdtempSync(join(work, 'registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(8).toString('hex')}\n`);
  const child = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: 'ignore' });
  const reg = { host: `127.0.0.1:${port}`, dir, child };
  registries.push(reg);
  for (let i = 0; i < 300; i++) {
    const up = await new Promise((res) => http.get(`http://${reg.host}/v2/`, (r) => { r.resume(); res(true); }).on('error', () => res(false)));
    if (up) return reg;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('docker-registry did not start');
}

async function stopRegistry(reg) {
  if (reg.child.exitCode === null) {
    const gone = new Promise((r) => reg.child.once('exit', r));
    reg.child.kill('SIGTERM');
    await gone;
  }
  rmSync(reg.dir, { recursive: true, force: true });
  registries.splice(registries.indexOf(reg), 1);
}

/** mix is a shell snippet writing n MB: a third raw random bytes, two thirds base64 text of random bytes. */
function mix(dir, n) {
  const raw = Math.round(n / 3);
  const text = n - raw;
  return `mkdir -p ${dir} && head -c ${raw}m /dev/urandom > ${dir}/raw.bin && head -c $((${text} * 3 / 4))m /dev/urandom | base64 > ${dir}/text.b64`;
}

function makeContext(name) {
  const ctx = join(work, `ctx-${name}`);
  switch (name) {
    case 'one-layer':
      mkdirSync(ctx, { recursive: true });
      writeFileSync(join(ctx, 'Buildfile'), `FROM busybox:local\nRUN ${mix('/data', mb)}\n`);
      return ctx;
    case 'six-layers':
      mkdirSync(ctx, { recursive: true });
      writeFileSync(join(ctx, 'Buildfile'), ['FROM busybox:local', ...Array.from({ length: 6 }, (_, i) => `RUN ${mix(`/data${i}`, Math.round(mb / 6))}`), ''].join('\n'));
      return ctx;
    case 'big-run-layer': {
      const src = resolve(repo, '../shared/bench/scenarios/big-run-layer');
      if (!existsSync(src)) throw new Error(`no scenario at ${src}`);
      cpSync(src, ctx, { recursive: true });
      return ctx;
    }
    default:
      throw new Error(`unknown scenario ${name} (one-layer, six-layers, big-run-layer)`);
  }
}

/** forgetCompression removes the store's compressed-layer records and their blobs, so the next push compresses again. */
function forgetCompression() {
  const dir = join(root, 'cache/compressed');
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    const rec = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    rmSync(join(root, 'oci/blobs/sha256', rec.digest.slice(7)), { force: true });
    rmSync(join(dir, f));
  }
  rmSync(join(root, 'cache/blobsources'), { recursive: true, force: true });
}

function imageSizes(tag) {
  const index = JSON.parse(readFileSync(join(root, 'oci/index.json'), 'utf8'));
  const d = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  const m = JSON.parse(readFileSync(join(root, 'oci/blobs/sha256', d.digest.slice(7)), 'utf8'));
  return { layers: m.layers.length, bytes: m.layers.reduce((n, l) => n + l.size, 0) };
}

function dirBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += statSync(join(e.parentPath ?? e.path, e.name)).size;
  return n;
}

async function benchScenario(name) {
  const ctx = makeContext(name);
  const tag = `bench-${name}:1`;
  sh(bin, ['--root', root, 'build', '--progress=quiet', '-t', tag, ctx]);
  const size = imageSizes(tag);
  const rows = { 'tsbuild cold push': [], 'skopeo cold push': [], 'tsbuild warm push': [], 'skopeo warm push': [], 'tsbuild pull': [], 'skopeo pull': [] };
  let pushedBytes = 0;
  let skopeoGzipLayout;
  for (let i = 0; i < runs; i++) {
    // Alternate who goes first, so neither tool always runs on a warmer page cache.
    const order = i % 2 === 0 ? ['tsbuild', 'skopeo'] : ['skopeo', 'tsbuild'];
    for (const tool of order) {
      const reg = await startRegistry();
      const remote = `${reg.host}/bench/${name}:1`;
      if (tool === 'tsbuild') {
        forgetCompression();
        sh(bin, ['--root', root, 'tag', tag, remote]);
        rows['tsbuild cold push'].push(measure(bin, ['--root', root, 'push', '-q', remote]));
        pushedBytes = dirBytes(join(reg.dir, 'data/docker/registry/v2/blobs'));
      } else {
        rows['skopeo cold push'].push(measure('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${join(root, 'oci')}:${tag}`, `docker://${remote}`]));
        if (!skopeoGzipLayout) {
          skopeoGzipLayout = join(work, `skopeo-gzip-${name}`);
          sh('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${remote}`, `oci:${skopeoGzipLayout}:${tag}`]);
        }
      }
      await stopRegistry(reg);
    }
    for (const tool of order) {
      const reg = await startRegistry();
      const remote = `${reg.host}/bench/${name}:1`;
      if (tool === 'tsbuild') {
        rmSync(join(root, 'cache/blobsources'), { recursive: true, force: true });
        sh(bin, ['--root', root, 'tag', tag, remote]);
        rows['tsbuild warm push'].push(measure(bin, ['--root', root, 'push', '-q', remote]));
      } else {
        rows['skopeo warm push'].push(measure('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${skopeoGzipLayout}:${tag}`, `docker://${remote}`]));
      }
      await stopRegistry(reg);
    }
    // Pull: both tools from one registry holding tsbuild's push.
    const reg = await startRegistry();
    const remote = `${reg.host}/bench/${name}:1`;
    sh(bin, ['--root', root, 'tag', tag, remote]);
    rmSync(join(root, 'cache/blobsources'), { recursive: true, force: true });
    sh(bin, ['--root', root, 'push', '-q', remote]);
    for (const tool of order) {
      const dest = join(work, `pull-${tool}-${i}`);
      if (tool === 'tsbuild') rows['tsbuild pull'].push(measure(bin, ['--root', dest, 'pull', '-q', remote]));
      else rows['skopeo pull'].push(measure('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${remote}`, `oci:${dest}:${tag}`]));
      rmSync(dest, { recursive: true, force: true });
    }
    await stopRegistry(reg);
  }
  const summary = Object.entries(rows).map(([what, xs]) => {
    const wall = median(xs.map((x) => x.wall));
    return { what, wall, cpu: median(xs.map((x) => x.cpu)), mbps: size.bytes / 1e6 / wall, runs: xs.map((x) => Number(x.wall.toFixed(2))) };
  });
  return { scenario: name, layers: size.layers, plainBytes: size.bytes, gzipBytes: pushedBytes, summary };
}

function report(results) {
  const lines = [];
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  lines.push(`Registry benchmark, ${when} UTC, ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${sh('skopeo', ['--version']).trim()}; median of ${runs} runs`);
  for (const r of results) {
    lines.push('', `${r.scenario}: ${r.layers} layer(s), ${(r.plainBytes / 1e6).toFixed(0)} MB plain, ${(r.gzipBytes / 1e6).toFixed(0)} MB as pushed by tsbuild (gzip)`, '');
    lines.push('| operation | wall s | client CPU s | MB/s (plain) | runs (wall s) |', '|---|---:|---:|---:|---|');
    for (const s of r.summary) lines.push(`| ${s.what} | ${s.wall.toFixed(2)} | ${s.cpu.toFixed(2)} | ${s.mbps.toFixed(0)} | ${s.runs.join(', ')} |`);
  }
  return lines.join('\n');
}

async function main() {
  sh('bash', [join(repo, 'scripts/make-busybox-base.sh'), '--root', root]);
  const results = [];
  for (const name of scenarios) results.push(await benchScenario(name));
  console.log(report(results));
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, runs, results }, null, 2));
}

try {
  await main();
} finally {
  for (const r of [...registries]) await stopRegistry(r);
  rmSync(work, { recursive: true, force: true });
}
