import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { RuncExecutor } from '../../../src/executor/RuncExecutor.ts';
import { UnshareExecutor } from '../../../src/executor/UnshareExecutor.ts';
import type { Executor } from '../../../src/executor/types.ts';
import { debianMinbaseTar } from '../../helpers/debian.ts';
import { installProbe, parseProbe } from '../../helpers/probe.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { DOCKER_CAPS, run, Sandbox } from './executor.suite.ts';

const EPERM = '1';
const ENOSYS = '38';

/** statusOf picks the security lines of /proc/self/status. */
function statusOf(text: string): Record<string, string> {
  const keep = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'];
  return Object.fromEntries(text.split('\n').map((l) => l.split(':\t')).filter(([k]) => keep.includes(k!)).map(([k, v]) => [k, v!.trim()]));
}

/** What a BuildKit RUN shows (Docker's default set, the default seccomp profile). */
const SANDBOX_ROOT = { CapInh: '0000000000000000', CapPrm: DOCKER_CAPS, CapEff: DOCKER_CAPS, CapBnd: DOCKER_CAPS, CapAmb: '0000000000000000', NoNewPrivs: '0', Seccomp: '2' };
const SANDBOX_USER = { ...SANDBOX_ROOT, CapPrm: '0000000000000000', CapEff: '0000000000000000' };

/** What the default profile gives each probe, as root with Docker's capabilities, on this (x86_64) host. */
const BLOCKED_AS_ROOT: Record<string, string> = {
  keyctl: EPERM, add_key: EPERM, request_key: EPERM, mount: EPERM, umount2: EPERM, init_module: EPERM, finit_module: EPERM,
  delete_module: EPERM, open_by_handle_at: EPERM, bpf: EPERM, perf_event_open: EPERM, clone3: ENOSYS, clone_newns: EPERM,
  clone_newuser: EPERM, setns: EPERM, syslog: EPERM, reboot: EPERM, clock_settime: EPERM, settimeofday: EPERM, kcmp: EPERM,
  pidfd_getfd: EPERM, get_mempolicy: EPERM, sethostname: EPERM, pivot_root: EPERM, personality_rie: EPERM, socket_alg: EPERM,
  socket_vsock: EPERM, nr_450: EPERM, nr_1000: ENOSYS, unshare_mount: EPERM, unshare_user: EPERM,
  ...(process.arch === 'x64' ? { x32_keyctl: EPERM, x32_mount: EPERM, iopl: EPERM } : {}),
};
/** Calls the profile lets through (the kernel then answers for itself). */
const ALLOWED = ['getpid', 'personality_query', 'personality_linux', 'socket_inet', 'process_vm_readv'];

const EXECUTORS: [string, () => Executor][] = [
  ['runc', () => new RuncExecutor()],
  ['perl launcher', () => new UnshareExecutor()],
];

describe.runIf(isRoot)('build-step security: seccomp and capabilities', () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());
  const rootfs = () => {
    const r = box.rootfs();
    installProbe(r);
    return r;
  };
  const probe = async (ex: Executor, r: string, over: Parameters<Sandbox['spec']>[2] = {}) => {
    const res = await run(ex, box.spec(r, ['/probe'], over));
    expect(res.status.exitCode, res.stderr).toBe(0);
    return parseProbe(res.stdout);
  };

  describe.each(EXECUTORS)('%s', (_name, make) => {
    const ex = make();

    test("root: Docker's capability sets exactly, seccomp filter mode", async () => {
      const r = await run(ex, box.spec(box.rootfs(), ['/bin/cat', '/proc/self/status']));
      expect(statusOf(r.stdout)).toEqual(SANDBOX_ROOT);
    });

    test('non-root: no capabilities but the bounding set, seccomp filter mode', async () => {
      const r = await run(ex, box.spec(box.rootfs(), ['/bin/cat', '/proc/self/status'], { process: { uid: 1000, gid: 1000 } }));
      expect(statusOf(r.stdout)).toEqual(SANDBOX_USER);
    });

    test('the default profile refuses what it should and lets ordinary calls through', async () => {
      const got = await probe(ex, rootfs());
      expect(Object.fromEntries(Object.keys(BLOCKED_AS_ROOT).map((k) => [k, got[k]]))).toEqual(BLOCKED_AS_ROOT);
      for (const k of ALLOWED) expect(got[k], k).toBe('ok');
      // Let through to the kernel, which says no for reasons of its own.
      expect(got.chroot, 'chroot (CAP_SYS_CHROOT is kept)').toBe('2');
      expect(got.nr_452, 'fchmodat2, newer than the runc 1.1 of Debian 12').toBe('2');
      expect(got.socket_39, 'socket of a family between AF_ALG and AF_VSOCK').not.toBe(EPERM);
    });

    test('a busybox shell script of ordinary work runs', async () => {
      const script = [
        'set -e', 'mkdir -p /work/a && cd /work', 'echo hello > a/f && cat a/f | tr a-z A-Z', 'chmod 600 a/f && chown 1000:1000 a/f',
        'ln -s a/f l && readlink l', 'mknod /tmp/fifo p && echo fifo', '(sleep 0.1; echo sub) & wait',
        'seq 1 1000 | sort -n | tail -1', 'tar -cf /tmp/t.tar a && tar -tf /tmp/t.tar | sort',
        'su -s /bin/sh app -c "id -u"', 'echo done',
      ].join('\n');
      const r = await run(ex, box.spec(box.rootfs(), ['/bin/sh', '-c', script]));
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('HELLO\na/f\nfifo\nsub\n1000\na/\na/f\n1000\ndone\n');
    });
  });

  test('the compiled BPF filter and runc (libseccomp) agree on every probe, as root and not', async () => {
    const [runc, perl] = EXECUTORS.map(([, make]) => make());
    for (const user of [{}, { process: { uid: 1000, gid: 1000 } }]) {
      const a = await probe(runc!, rootfs(), user);
      const b = await probe(perl!, rootfs(), user);
      expect(Object.keys(a).length).toBeGreaterThan(40);
      expect(b).toEqual(a);
    }
  });

  test('apt-get install works under the profile (Debian minbase), on both executors', async () => {
    const tar = debianMinbaseTar();
    for (const [name, make] of EXECUTORS) {
      const r = join(box.dir, `debian-${name.replace(/\W/g, '')}`);
      mkdirSync(r);
      execFileSync('tar', ['-xf', tar, '-C', r]);
      const res = await run(make(), box.spec(r, ['/bin/sh', '-c', 'apt-get update -qq && apt-get install -y -qq --no-install-recommends hello >/dev/null && hello'], {
        process: { env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'DEBIAN_FRONTEND=noninteractive'] },
      }));
      expect(res.status.exitCode, `${name}: ${res.stderr}`).toBe(0);
      expect(res.stdout).toBe('Hello, world!\n');
    }
  }, 600_000);
});

describe.runIf(isRoot)('build-step security: insecure mode', () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());
  const own = statusOf(readFileSync('/proc/self/status', 'utf8'));

  describe.each(EXECUTORS)('%s', (_name, make) => {
    const ex = make();

    test('all of our capabilities in every set, no seccomp, as root and not', async () => {
      const all = { CapInh: own.CapEff, CapPrm: own.CapEff, CapEff: own.CapEff, CapBnd: own.CapEff, CapAmb: own.CapEff, NoNewPrivs: '0', Seccomp: '0' };
      for (const uid of [0, 1000]) {
        const r = await run(ex, box.spec(box.rootfs(), ['/bin/cat', '/proc/self/status'], { security: 'insecure', process: { uid, gid: uid } }));
        expect(statusOf(r.stdout), `uid ${uid}`).toEqual(all);
      }
    });

    test('what the profile refused now reaches the kernel; masked and read-only paths are gone', async () => {
      const r = box.rootfs();
      installProbe(r);
      const res = await run(ex, box.spec(r, ['/probe'], { security: 'insecure' }));
      const got = parseProbe(res.stdout);
      for (const k of ['keyctl', 'add_key', 'mount', 'bpf', 'clone3', 'personality_rie', 'sethostname', 'clock_settime']) expect(got[k], k).not.toMatch(/^(1|38)$/);
      const paths = await run(ex, box.spec(box.rootfs(), ['/bin/sh', '-c', 'head -c 10 /proc/timer_list | wc -c; grep -c -E " /proc/(sys|kcore|timer_list) " /proc/self/mountinfo; grep " /sys " /proc/self/mountinfo | grep -c " rw,"'], { security: 'insecure' }));
      expect(paths.stdout).toBe('10\n0\n1\n');
    });

    test("the host's devices of BuildKit's insecure list are there, and only in insecure mode", async () => {
      const host = ['kmsg', 'cuse', 'fuse', 'kvm', 'net/tun', 'loop-control', 'loop0'].filter((d) => existsSync(`/dev/${d}`));
      expect(host.length, 'this host has some of them').toBeGreaterThan(0);
      const list = `for d in ${host.join(' ')}; do test -c /dev/$d -o -b /dev/$d && echo $d; done; head -c 0 /dev/${host[0]} && echo opened`;
      const insecure = await run(ex, box.spec(box.rootfs(), ['/bin/sh', '-c', list], { security: 'insecure' }));
      expect(insecure.stdout).toBe(`${host.join('\n')}\nopened\n`);
      const sandbox = await run(ex, box.spec(box.rootfs(), ['/bin/sh', '-c', list]));
      expect(sandbox.stdout).toBe('');
    });
  });
});
