#!/usr/bin/env node
// Build benchmarks: the shared scenarios (../shared/bench/scenarios) built by
// tsbuild, and side by side by BuildKit (`DOCKER_BUILDKIT=1 docker build`) when
// --docker is given and a dockerd is running. Reports median wall seconds for
// cold (--no-cache), warm (no change) and incr (one file edited) builds.
// The project's examples are scenarios too: example:hello (in the default set) and
// example:python-app (asked for by name: it needs a Debian minbase base, made once a day
// with mmdebstrap into /var/cache/tsbuild-test, and every cold build downloads Python
// from Debian's mirror).
//
//   node bench/build-bench.mjs [--docker] [--runs N] [SCENARIO...]
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const scenariosDir = resolve(repo, '../shared/bench/scenarios');
const args = process.argv.slice(2);
const withDocker = args.includes('--docker');
const runsIdx = args.indexOf('--runs');
const runsOverride = runsIdx >= 0 ? Number(args[runsIdx + 1]) : undefined;
const names = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs');
const scenarios = names.length ? names : [...readdirSync(scenariosDir).filter((n) => n !== 'seed-python'), 'example:hello'];

/**
 * EXAMPLES are the project's examples as bench scenarios: what the incremental mode
 * edits, and the base each needs (made by setupBase).
 */
const EXAMPLES = {
  hello: { EDIT_FILE: 'greet.sh', RUNS: '5', COLD_RUNS: '3', base: 'busybox' },
  'python-app': { EDIT_FILE: 'src/main.py', RUNS: '3', COLD_RUNS: '2', base: 'debian' },
};

const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-'));
const root = join(work, 'root');
// The command users run, executed itself: its #! line is part of every start (bin/tsbuild.mjs).
const bin = join(repo, 'bin/tsbuild.mjs');

function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}
function timed(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
function env(file) {
  const out = {};
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\w+)=("?)(.*?)\2\s*(#.*)?$/.exec(l.trim());
    if (m) out[m[1]] = m[3];
  }
  return out;
}

function setupBases() {
  sh('bash', [join(repo, 'scripts/make-busybox-base.sh'), '--root', root]);
  if (withDocker) {
    const tar = join(work, 'bb.tar');
    sh('bash', ['-c', `d=$(mktemp -d) && mkdir -p $d/bin $d/etc $d/tmp && cp /bin/busybox $d/bin/ && for a in $(/bin/busybox --list); do [ $a = busybox ] || ln -sf busybox $d/bin/$a; done && printf 'root:x:0:0:root:/root:/bin/sh\\n' > $d/etc/passwd && tar -C $d -cf ${tar} . && rm -rf $d`]);
    sh(DOCKER, ['import', tar, 'busybox:local']);
    sh(DOCKER, ['tag', 'busybox:local', 'busybox:latest']);
  }
}

/** setupDebian makes debian:bookworm-minbase for both tools (mmdebstrap, cached for the day as the tests cache it). */
function setupDebian() {
  const cache = '/var/cache/tsbuild-test';
  const tar = join(cache, `bookworm-minbase-${new Date().toISOString().slice(0, 10)}.tar`);
  if (!existsSync(tar)) {
    mkdirSync(cache, { recursive: true });
    const tmp = join(cache, `.tmp-${process.pid}-bookworm-minbase.tar`);
    sh('mmdebstrap', ['--quiet', '--variant=minbase', 'bookworm', tmp]);
    sh('mv', [tmp, tar]);
  }
  sh(bin, ['--root', root, 'import', tar, 'debian:bookworm-minbase']);
  if (withDocker) sh(DOCKER, ['import', tar, 'debian:bookworm-minbase']);
}

const DOCKER = '/usr/bin/docker'; // Debian's docker.io client (20.10), with its built-in BuildKit
const tools = {
  tsbuild: (ctx, extra) => sh(bin, ['--root', root, 'build', '--progress=quiet', '-t', 'bench:latest', ...extra, ctx]),
  buildkit: (ctx, extra) => sh(DOCKER, ['build', '--network=host', '-q', '-t', 'bench:latest', ...extra, '-f', join(ctx, 'Buildfile'), ctx], { env: { ...process.env, DOCKER_BUILDKIT: '1' } }),
};

const results = [];
setupBases();
for (const name of scenarios) {
  const example = name.startsWith('example:') ? EXAMPLES[name.slice('example:'.length)] : undefined;
  if (name.startsWith('example:') && !example) throw new Error(`unknown example ${name} (${Object.keys(EXAMPLES).map((k) => `example:${k}`).join(', ')})`);
  const dir = example ? join(repo, 'examples', name.slice('example:'.length)) : join(scenariosDir, name);
  if (example?.base === 'debian') setupDebian();
  const e = example ?? env(join(dir, 'bench.env'));
  const ctx = join(work, `ctx-${name.replace(':', '-')}`);
  cpSync(dir, ctx, { recursive: true });
  if (existsSync(join(dir, 'gen.sh'))) sh('bash', [join(dir, 'gen.sh'), ctx]);
  const runs = runsOverride ?? Number(e.RUNS ?? 3);
  const cold = Math.min(runsOverride ?? 99, Number(e.COLD_RUNS ?? 3));
  for (const [tool, run] of Object.entries(tools)) {
    if (tool === 'buildkit' && !withDocker) continue;
    const r = { scenario: name, tool, cold: [], warm: [], incr: [] };
    for (let i = 0; i < cold; i++) r.cold.push(timed(() => run(ctx, ['--no-cache'])));
    for (let i = 0; i < runs; i++) r.warm.push(timed(() => run(ctx, [])));
    if (e.EDIT_FILE) {
      for (let i = 0; i < runs; i++) {
        appendFileSync(join(ctx, e.EDIT_FILE), `\n# edit ${tool} ${i} ${Date.now()}\n`);
        r.incr.push(timed(() => run(ctx, [])));
      }
    }
    results.push(r);
    console.error(`${name} ${tool}: cold ${median(r.cold).toFixed(2)}s warm ${median(r.warm).toFixed(2)}s incr ${r.incr.length ? median(r.incr).toFixed(2) + 's' : '-'}`);
  }
  rmSync(ctx, { recursive: true, force: true });
}

const cpu = cpus()[0]?.model ?? 'unknown';
console.log(`\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpu})\n`);
console.log('| scenario | tool | cold | warm | incr |\n|---|---|---:|---:|---:|');
for (const r of results) {
  const f = (xs) => (xs.length ? median(xs).toFixed(2) : '–');
  console.log(`| ${r.scenario} | ${r.tool} | ${f(r.cold)} | ${f(r.warm)} | ${f(r.incr)} |`);
}
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, 'bench/results', `build-${Date.now()}.json`), JSON.stringify(results, null, 2));
spawnSync('bash', ['-c', `grep -o '${work}[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`]);
rmSync(work, { recursive: true, force: true });
