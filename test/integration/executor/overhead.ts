/**
 * overhead measures the per-run cost of each executor on `/bin/true` in a busybox
 * rootfs, interleaved with the bare runtime it wraps so that both see the same load:
 *   runc:    RuncExecutor.run()    vs `runc run` of a bundle written once (our config)
 *   unshare: UnshareExecutor.run() (the perl launch server; output to streams, as build
 *            steps have it) vs `unshare -m -p -f -u -i --root=R /bin/true`
 * Each executor also runs in insecure mode (no seccomp filter, no masked paths), and a
 * static probe times 200,000 getppid(2) calls under the filter and without it: the
 * filter's cost per step is its install (sandbox vs insecure) plus that per-call cost
 * times the calls a step makes.
 * It prints the median wall time and the CPU time per run (ours plus every child's, and
 * the perl server's with its children's: steadier than wall time on a busy machine). Not a test: run it bundled, e.g.
 *   npx esbuild --bundle --platform=node --format=esm --outfile=/tmp/overhead.mjs test/integration/executor/overhead.ts && node /tmp/overhead.mjs 50
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { RuncExecutor } from '../../../src/executor/RuncExecutor.ts';
import { UnshareExecutor } from '../../../src/executor/UnshareExecutor.ts';
import { writeContainerFiles } from '../../../src/executor/containerFiles.ts';
import { prepareMountPoints } from '../../../src/executor/mountPoints.ts';
import { allMounts, buildRuntimeSpec } from '../../../src/executor/runtimeSpec.ts';
import type { Executor, RunSpec } from '../../../src/executor/types.ts';
import { makeBusyboxRootfs } from '../../helpers/rootfs.ts';
import { perlServer } from '../../../src/sys/perlServer.ts';

/** procCpuMs is a process's CPU time plus that of its waited-for children (/proc/PID/stat utime..cstime), in ms. */
function procCpuMs(pid: number | 'self'): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // Fields 14-17 (1-based) are utime, stime, cutime, cstime in clock ticks (USER_HZ = 100 on Linux).
  return f.slice(11, 15).reduce((a, x) => a + Number(x), 0) * 10;
}

/**
 * cpuMs is ours plus our children's, and the perl server's with its children's (it reaps the
 * keepers, which reap the containers' inits), so the unshare executor's forks count too.
 */
function cpuMs(): number {
  const perl = perlServer();
  return procCpuMs('self') + (perl ? procCpuMs(perl.pid) : 0);
}

/** LOOP makes 200,000 getppid(2) calls and prints the nanoseconds they took (raw syscalls, no libc). */
const LOOP = String.raw`
#include <asm/unistd.h>
static long sc(long n, long a, long b, long c) {
  long r;
#if defined(__x86_64__)
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
#else
  register long x8 __asm__("x8") = n; register long x0 __asm__("x0") = a; register long x1 __asm__("x1") = b; register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory"); r = x0;
#endif
  return r;
}
struct ts { long s, ns; };
#if defined(__x86_64__)
__attribute__((force_align_arg_pointer))
#endif
void _start(void) {
  struct ts a, b; char out[24]; int i = 23;
  sc(__NR_clock_gettime, 1, (long)&a, 0);
  for (int n = 0; n < 200000; n++) sc(__NR_getppid, 0, 0, 0);
  sc(__NR_clock_gettime, 1, (long)&b, 0);
  long d = (b.s - a.s) * 1000000000L + (b.ns - a.ns);
  out[i] = 10;
  do { out[--i] = (char)('0' + d % 10); d /= 10; } while (d);
  sc(__NR_write, 1, (long)(out + i), 24 - i);
  sc(__NR_exit_group, 0, 0, 0);
}`;

/** perCall compiles LOOP into the rootfs and reports getppid's cost with and without the seccomp filter. */
async function perCall(name: string, ex: Executor, rootfs: string, dir: string, spec: (s: RunSpec['security']) => RunSpec): Promise<void> {
  writeFileSync(join(dir, 'loop.c'), LOOP);
  await exec('clang', ['-O1', '-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-fno-builtin', '-fuse-ld=lld', '-o', join(rootfs, 'loop'), join(dir, 'loop.c')]);
  const ns: Record<string, number[]> = { sandbox: [], insecure: [] };
  for (let i = 0; i < 7; i++) {
    for (const security of ['sandbox', 'insecure'] as const) {
      let out = '';
      const s = spec(security);
      const stdout = new PassThrough().on('data', (d: Buffer) => (out += d.toString()));
      await ex.run({ ...s, stdout, stateDir: `${s.stateDir}-${security}-${i}` });
      ns[security]!.push(Number(out.trim()) / 2e5);
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!.toFixed(1);
  console.log(`${name}: getppid(2), median of 7 x 200k calls: ${med(ns.sandbox!)} ns with the filter, ${med(ns.insecure!)} ns without`);
}

function exec(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: 'inherit' });
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd}: exit ${code}`))));
  });
}

interface Sample { wall: number[]; cpu: number }
const sample = (): Sample => ({ wall: [], cpu: 0 });

async function timed(s: Sample, f: () => Promise<unknown>, keep: boolean): Promise<void> {
  const c0 = cpuMs();
  const t0 = process.hrtime.bigint();
  await f();
  if (!keep) return;
  s.wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
  s.cpu += cpuMs() - c0;
}

function report(label: string, s: Sample): string {
  const t = [...s.wall].sort((a, b) => a - b);
  const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))]!.toFixed(1);
  return `${label.padEnd(34)} wall median=${q(0.5).padStart(6)}ms p10=${q(0.1).padStart(6)} p90=${q(0.9).padStart(6)}  cpu/run=${(s.cpu / t.length).toFixed(1)}ms`;
}

const n = Number(process.argv[2] ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'tsbuild-overhead-'));
try {
  const rootfs = join(dir, 'rootfs');
  makeBusyboxRootfs(rootfs);
  const spec = (i: number, network: 'host' | 'none', streams = false, security: RunSpec['security'] = 'sandbox'): RunSpec => ({
    id: `bench-${process.pid}-${i}`, rootfs, network, security, stateDir: join(dir, `state-${i}`), stdin: 'ignore',
    stdout: streams ? new PassThrough().resume() : 'inherit', stderr: streams ? new PassThrough().resume() : 'inherit',
    process: { args: ['/bin/true'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0 },
  });
  // One bundle for bare `runc run`, with exactly our config.
  const bare = join(dir, 'bare');
  mkdirSync(join(bare, 'bundle'), { recursive: true });
  const files = await writeContainerFiles(bare, 'bare');
  await prepareMountPoints(rootfs, allMounts(spec(0, 'host'), files));
  writeFileSync(join(bare, 'bundle/config.json'), JSON.stringify(buildRuntimeSpec(spec(0, 'host'), files, false)));

  const runc = new RuncExecutor();
  const unshare = new UnshareExecutor();
  const s: Record<string, Sample> = {};
  const pairs: [string, (i: number) => Promise<unknown>][] = [
    ['runc: RuncExecutor.run (host net)', (i) => runc.run(spec(i, 'host'))],
    ['runc: bare `runc run` (host net)', (i) => exec('runc', ['--root', join(bare, 'runc'), 'run', '--bundle', join(bare, 'bundle'), `bare-${i}`])],
    ['runc: ... --no-new-keyring', (i) => exec('runc', ['--root', join(bare, 'runc'), 'run', '--no-new-keyring', '--bundle', join(bare, 'bundle'), `nk-${i}`])],
    ['runc: RuncExecutor.run (net none)', (i) => runc.run(spec(i, 'none'))],
    ['unshare: UnshareExecutor.run (host net)', (i) => unshare.run(spec(i, 'host', true))],
    ['unshare: UnshareExecutor.run (net none)', (i) => unshare.run(spec(i, 'none', true))],
    ['runc: RuncExecutor.run, insecure', (i) => runc.run(spec(i, 'host', false, 'insecure'))],
    ['unshare: UnshareExecutor.run, insecure', (i) => unshare.run(spec(i, 'host', true, 'insecure'))],
    ['unshare: bare unshare --root', () => exec('unshare', ['-m', '-p', '-f', '-u', '-i', `--root=${rootfs}`, '/bin/true'])],
    ['baseline: spawn /bin/true', () => exec('/bin/true', [])],
  ];
  for (let i = 0; i < (n > 0 ? n + 3 : 0); i++) {
    for (const [label, f] of pairs) await timed((s[label] ??= sample()), () => f(i), i >= 3);
  }
  for (const [label] of pairs) if (s[label]) console.log(report(label, s[label]));
  for (const [name, ex] of [['perl launcher (our BPF)', unshare], ['runc (libseccomp)', runc]] as const) {
    await perCall(name, ex, rootfs, dir, (security) => ({ ...spec(9999, 'host', true, security), process: { args: ['/loop'], env: [], cwd: '/', uid: 0, gid: 0 } }));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
