import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Executor, ExitStatus, RunSpec } from '../../../src/executor/types.ts';
import { bindMount, mountView, unmount } from '../../../src/sys/mount.ts';
import { makeBusyboxRootfs } from '../../helpers/rootfs.ts';

/** RunResult is one container run with its output collected. */
export interface RunResult {
  status: ExitStatus;
  stdout: string;
  stderr: string;
}

/** SpecOverrides replace RunSpec fields; process fields are merged one by one. */
export type SpecOverrides = Partial<Omit<RunSpec, 'process'>> & { process?: Partial<RunSpec['process']> };

/** Sandbox is a temp dir per suite, made on first use: rootfs copies and state dirs live below it. */
export class Sandbox {
  #dir: string | undefined;
  #n = 0;

  /** dir is created lazily, so a suite whose tests are all filtered out leaves nothing behind. */
  get dir(): string {
    this.#dir ??= mkdtempSync(join(tmpdir(), 'tsbuild-exec-'));
    return this.#dir;
  }

  /** rootfs makes a fresh busybox rootfs (so tests that create stubs do not see each other's). */
  rootfs(): string {
    const d = join(this.dir, `rootfs-${++this.#n}`);
    makeBusyboxRootfs(d);
    return d;
  }

  /** spec builds a RunSpec for args in rootfs with collected output; overrides win. */
  spec(rootfs: string, args: string[], over: SpecOverrides = {}): RunSpec & { out: () => { stdout: string; stderr: string } } {
    const n = ++this.#n;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let o = '';
    let e = '';
    stdout.setEncoding('utf8').on('data', (d: string) => (o += d));
    stderr.setEncoding('utf8').on('data', (d: string) => (e += d));
    const { process: p, ...rest } = over;
    return {
      id: `tsbuild-test-${process.pid}-${n}`,
      rootfs,
      network: 'host',
      stateDir: join(this.dir, `state-${n}`),
      stdin: 'ignore',
      stdout,
      stderr,
      ...rest,
      process: { args, env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, ...p },
      out: () => ({ stdout: o, stderr: e }),
    };
  }

  cleanup(): void {
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** run runs one spec and returns its status and output. */
export async function run(ex: Executor, spec: ReturnType<Sandbox['spec']>): Promise<RunResult> {
  const { out, ...s } = spec;
  const status = await ex.run(s);
  return { status, ...out() };
}

/** mountsUnder lists the host's mount points below dir (there must be none after a run). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir));
}

/** processesWith lists host pids whose command line contains needle. */
export function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(needle)) out.push(Number(p));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** DOCKER_CAPS is Docker's default capability set as /proc/self/status prints it. */
export const DOCKER_CAPS = '00000000a80425fb';

/**
 * executorSuite is the conformance suite every Executor must pass: the same tests
 * against runc and unshare, on a busybox rootfs in a temp dir, with detached runs
 * (stdin ignored, output to streams: build steps; runs attached to stdin or a terminal
 * are runc's alone, see runc.test.ts).
 */
export function executorSuite(make: () => Executor): void {
  const box = new Sandbox();
  let ex: Executor;
  let shared: string;
  beforeAll(() => {
    ex = make();
    shared = box.rootfs();
  });
  afterEach(() => {
    expect(mountsUnder(box.dir)).toEqual([]);
  });
  afterAll(() => box.cleanup());

  const sh = (script: string, over: Parameters<Sandbox['spec']>[2] = {}, rootfs?: string) => run(ex, box.spec(rootfs ?? shared, ['/bin/sh', '-c', script], over));

  test('exit codes propagate', async () => {
    expect((await sh('exit 3')).status.exitCode).toBe(3);
    expect((await sh('true')).status.exitCode).toBe(0);
  });

  test('stdout and stderr are captured separately', async () => {
    const r = await sh('echo out; echo err >&2; echo out2');
    expect(r).toMatchObject({ stdout: 'out\nout2\n', stderr: 'err\n' });
  });

  test('the process gets exactly the given env (plus HOME, as runc does), and runs in cwd', async () => {
    const r = await run(ex, box.spec(shared, ['/bin/env'], { process: { env: ['PATH=/bin', 'FOO=bar baz', 'EMPTY='], cwd: '/tmp' } }));
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['EMPTY=', 'FOO=bar baz', 'HOME=/root', 'PATH=/bin']);
    expect((await sh('pwd', { process: { cwd: '/tmp' } })).stdout).toBe('/tmp\n');
  });

  test('HOME comes from the image passwd by uid unless set', async () => {
    expect((await sh('echo $HOME', { process: { uid: 1000, gid: 1000 } })).stdout).toBe('/home/app\n');
    expect((await sh('echo $HOME', { process: { uid: 4242, gid: 0 } })).stdout).toBe('/\n');
    expect((await sh('echo $HOME', { process: { env: ['HOME=/custom'] } })).stdout).toBe('/custom\n');
  });

  test('a missing cwd is created (as real content, not a stub)', async () => {
    const rootfs = box.rootfs();
    const r = await sh('pwd', { process: { cwd: '/work/dir' } }, rootfs);
    expect(r.stdout).toBe('/work/dir\n');
    expect(existsSync(join(rootfs, 'work/dir'))).toBe(true);
    expect(r.status.createdStubs).not.toContain('work/dir');
  });

  test('uid, gid and supplementary groups are applied', async () => {
    const r = await sh('id -u; id -g; id -G', { process: { uid: 1000, gid: 1000, additionalGids: [50, 1000] } });
    const [uid, gid, groups] = r.stdout.trim().split('\n');
    expect([uid, gid]).toEqual(['1000', '1000']);
    expect(groups!.split(' ').sort()).toEqual(['1000', '50']);
    expect((await sh('id -G', { process: { uid: 1000, gid: 1000 } })).stdout).toBe('1000\n');
    expect((await sh('id -u; id -g')).stdout).toBe('0\n0\n');
  });

  test('Docker default capabilities, for root and dropped for others', async () => {
    expect((await sh('grep ^CapBnd /proc/self/status')).stdout).toContain(DOCKER_CAPS);
    expect((await sh('grep ^CapEff /proc/self/status')).stdout).toContain(DOCKER_CAPS);
    expect((await sh('grep ^CapEff /proc/self/status', { process: { uid: 1000, gid: 1000 } })).stdout).toContain('0000000000000000');
  });

  test('own pid namespace: the process is pid 1 and sees only its own', async () => {
    const r = await sh('echo $$; ps -o pid,comm');
    const [self, , ...rows] = r.stdout.trim().split('\n');
    expect(self).toBe('1');
    expect(rows.map((l) => l.trim().split(/\s+/)[1])).toEqual(['ps']);
  });

  test('hostname is the id unless given, and /etc/hostname and /etc/hosts agree', async () => {
    const s = box.spec(shared, ['/bin/sh', '-c', 'hostname; cat /etc/hostname; grep -c "localhost $(hostname)" /etc/hosts']);
    expect((await run(ex, s)).stdout).toBe(`${s.id}\n${s.id}\n1\n`);
    expect((await sh('hostname', { hostname: 'builder' })).stdout).toBe('builder\n');
  });

  test('/proc, /dev/null, /dev/shm, /dev/pts and the host resolv.conf are there', async () => {
    const r = await sh('test -r /proc/self/stat && test -c /dev/null && test -c /dev/zero && test -c /dev/urandom && test -d /dev/shm && test -d /dev/pts && echo x > /dev/null && echo ok > /dev/shm/f && cat /dev/shm/f && cat /etc/resolv.conf');
    expect(r.stderr).toBe('');
    const hostResolv = existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : '';
    expect(r.stdout).toBe(`ok\n${hostResolv}`);
    expect(r.status.exitCode).toBe(0);
  });

  test('/etc/resolv.conf, /etc/hosts, /proc/sys and /sys are read-only', async () => {
    const r = await sh('echo x >> /etc/resolv.conf && echo resolv; echo x >> /etc/hosts && echo hosts; echo 1 > /proc/sys/kernel/ns_last_pid && echo procsys; touch /sys/x && echo sys; echo done');
    expect(r.stdout).toBe('done\n');
  });

  test("Docker's masked paths are hidden (those this kernel has)", async () => {
    const files = ['/proc/timer_list', '/proc/keys', '/proc/kcore', '/proc/sched_debug', '/proc/interrupts'].filter((f) => existsSync(f));
    const throttle = readdirSync('/sys/devices/system/cpu').filter((n) => /^cpu\d+$/.test(n)).map((n) => `/sys/devices/system/cpu/${n}/thermal_throttle`);
    const dirs = ['/proc/acpi', '/proc/scsi', '/sys/firmware', ...throttle].filter((d) => existsSync(d));
    const r = await sh([...files.map((f) => `cat ${f}`), ...dirs.map((d) => `ls ${d}`)].join('; ') + '; echo done');
    expect(r.stdout).toBe('done\n');
  });

  test('network none has only lo; host network sees the host interfaces', async () => {
    const ifaces = (s: string) => s.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean).sort();
    expect(ifaces((await sh('cat /proc/net/dev', { network: 'none' })).stdout)).toEqual(['lo']);
    const host = ifaces(readFileSync('/proc/net/dev', 'utf8'));
    expect(ifaces((await sh('cat /proc/net/dev')).stdout)).toEqual(host);
  });

  test('in network none, lo is up', async () => {
    const flags = Number((await sh('cat /sys/class/net/lo/flags', { network: 'none' })).stdout.trim());
    expect(flags & 1).toBe(1);
  });

  test('a rootfs that is itself a mount point (like a merged overlay) works', async () => {
    const rootfs = box.rootfs();
    execFileSync('mount', ['--bind', rootfs, rootfs]);
    try {
      const r = await sh('cat /proc/self/stat > /dev/null && echo hi > /root/f && echo ok', {}, rootfs);
      expect(r.stdout).toBe('ok\n');
    } finally {
      execFileSync('umount', [rootfs]);
    }
    expect(readFileSync(join(rootfs, 'root/f'), 'utf8')).toBe('hi\n');
  });

  test('a rootfs and a bind source mounted in the perl server\'s namespace run as given by our view of them (sys/mount.ts)', async () => {
    const rootfs = box.rootfs();
    const data = join(box.dir, 'view-data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'f'), 'through the view\n');
    // Binds onto themselves: what the step sees differs from the plain dirs only by being mounts there.
    await bindMount(rootfs, rootfs);
    await bindMount(data, data);
    try {
      expect(mountView(rootfs), 'the mounts live in the server\'s namespace').toMatch(/^\/proc\/\d+\/root\//);
      const mounts: RunSpec['mounts'] = [{ destination: '/data', type: 'bind', source: mountView(data), options: ['rbind', 'ro'] }];
      const r = await sh('cat /data/f; echo hi > /root/f', { mounts }, mountView(rootfs));
      expect(r).toMatchObject({ stdout: 'through the view\n', status: { exitCode: 0 } });
      expect(readFileSync(join(mountView(rootfs), 'root/f'), 'utf8')).toBe('hi\n');
    } finally {
      await unmount(rootfs);
      await unmount(data);
    }
  });

  test('host files are invisible', async () => {
    const marker = join(tmpdir(), `tsbuild-marker-${process.pid}`);
    writeFileSync(marker, 'host');
    try {
      const r = await sh(`test -e ${marker} && echo visible; ls /`);
      expect(r.stdout).not.toContain('visible');
      expect(r.stdout.split('\n')).not.toContain('work');
    } finally {
      rmSync(marker, { force: true });
    }
  });

  test('extra bind and tmpfs mounts', async () => {
    const data = join(box.dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'f'), 'from host\n');
    const file = join(box.dir, 'script');
    writeFileSync(file, '#!/bin/sh\necho script ran\n', { mode: 0o755 });
    const mounts: RunSpec['mounts'] = [
      { destination: '/data', type: 'bind', source: data, options: ['rbind', 'ro'] },
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      { destination: '/dev/pipes/script', type: 'bind', source: file, options: ['rbind', 'ro'] },
    ];
    const rootfs = box.rootfs();
    const r = await sh('cat /data/f; touch /data/g || echo ro; echo t > /scratch/t && cat /scratch/t; /dev/pipes/script', { mounts }, rootfs);
    expect(r.stdout).toBe('from host\nro\nt\nscript ran\n');
    expect(existsSync(join(data, 'g'))).toBe(false);
    expect(r.status.createdStubs).toEqual(expect.arrayContaining(['data', 'scratch']));
    expect(r.status.createdStubs!.some((s) => s.startsWith('dev/'))).toBe(false);
  });

  test('mount points that were missing are created before the run and reported as stubs', async () => {
    const rootfs = box.rootfs();
    for (const d of ['proc', 'sys', 'dev']) rmSync(join(rootfs, d), { recursive: true });
    writeFileSync(join(rootfs, 'etc/hosts'), '# the image has its own\n');
    const r = await sh('cat /proc/self/stat > /dev/null && echo ok', {}, rootfs);
    expect(r.stdout).toBe('ok\n');
    expect([...r.status.createdStubs!].sort()).toEqual(['dev', 'etc/hostname', 'etc/resolv.conf', 'proc', 'sys']);
    for (const f of ['etc/hostname', 'etc/resolv.conf']) expect(readFileSync(join(rootfs, f), 'utf8')).toBe('');
    expect(readFileSync(join(rootfs, 'etc/hosts'), 'utf8')).toBe('# the image has its own\n');
  });

  test('a missing /etc is a stub too, listed before its children', async () => {
    const rootfs = box.rootfs();
    rmSync(join(rootfs, 'etc'), { recursive: true });
    const r = await sh('true', {}, rootfs);
    const stubs = r.status.createdStubs!;
    expect(stubs).toEqual(expect.arrayContaining(['etc', 'etc/resolv.conf', 'etc/hosts', 'etc/hostname']));
    expect(stubs.indexOf('etc')).toBeLessThan(stubs.indexOf('etc/resolv.conf'));
  });

  test('a symlinked mount point resolves inside the rootfs, never on the host', async () => {
    const rootfs = box.rootfs();
    const hostTarget = join(box.dir, 'host-etc-target');
    rmSync(join(rootfs, 'etc/hosts'), { force: true });
    // Followed on the host, this would create (and mount over) a file outside the rootfs.
    const { symlinkSync } = await import('node:fs');
    symlinkSync(join(hostTarget, 'hosts'), join(rootfs, 'etc/hosts'));
    const r = await sh('cat /etc/hosts', {}, rootfs);
    expect(r.stdout).toContain('localhost');
    expect(existsSync(hostTarget)).toBe(false);
    expect(r.status.createdStubs).toContain(join(hostTarget, 'hosts').slice(1));
  });

  test('abort kills the container quickly and leaves nothing behind', async () => {
    const ac = new AbortController();
    // Sleep lengths unique to this worker: the other executor's suite runs in parallel.
    const marker = `sleep ${process.pid}9`;
    const s = box.spec(shared, ['/bin/sh', '-c', `${marker}1 & ${marker}2`], { signal: ac.signal });
    const t0 = Date.now();
    const p = run(ex, s);
    setTimeout(() => ac.abort(), 300);
    const r = await p;
    expect(r.status).toMatchObject({ signal: 'SIGKILL', exitCode: 137 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(processesWith(marker)).toEqual([]);
    expect(existsSync(s.stateDir)).toBe(false);
  });

  test.each([0, 10, 40, 80])('abort %i ms into start-up still kills and cleans up', async (ms) => {
    const ac = new AbortController();
    const marker = `sleep ${process.pid}7${ms}`;
    const s = box.spec(shared, ['/bin/sh', '-c', marker], { signal: ac.signal });
    const p = run(ex, s);
    setTimeout(() => ac.abort(), ms);
    expect((await p).status).toMatchObject({ signal: 'SIGKILL', exitCode: 137 });
    expect(processesWith(marker)).toEqual([]);
    expect(existsSync(s.stateDir)).toBe(false);
  });

  test('a background process holding stdout dies with the main process, and run() returns', async () => {
    const marker = `sleep ${process.pid}5`;
    const t0 = Date.now();
    const r = await sh(`${marker} & echo started`);
    expect(r).toMatchObject({ stdout: 'started\n', status: { exitCode: 0 } });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(processesWith(marker)).toEqual([]);
  });

  test('an already-aborted signal runs nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    const rootfs = box.rootfs();
    const r = await sh('touch /ran', { signal: ac.signal }, rootfs);
    expect(r.status).toMatchObject({ signal: 'SIGKILL' });
    expect(existsSync(join(rootfs, 'ran'))).toBe(false);
  });

  test('state dir is removed after a normal run', async () => {
    const s = box.spec(shared, ['/bin/true']);
    await run(ex, s);
    expect(existsSync(s.stateDir)).toBe(false);
  });

  describe('writes go to the rootfs', () => {
    test('files written by the process land in the rootfs', async () => {
      const rootfs = box.rootfs();
      await sh('echo hi > /root/f && chown 1000:1000 /root/f', {}, rootfs);
      expect(readFileSync(join(rootfs, 'root/f'), 'utf8')).toBe('hi\n');
    });
  });
}
