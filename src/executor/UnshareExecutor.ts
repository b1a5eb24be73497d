import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import { launchServerAvailable, warmLaunchServer } from '../sys/launchServer.ts';
import { namespacePath } from '../sys/mount.ts';
import { writeContainerFiles } from './containerFiles.ts';
import { makeDevDir } from './devDir.ts';
import { containerSecurity } from './security.ts';
import { launchRun } from './launchRun.ts';
import { coveringMount, ensureCwd, ensureMountPoint, mountPointKind, prepareMountPoints } from './mountPoints.ts';
import { findExecutable, withHome } from './processEnv.ts';
import { allMounts, type RuntimeMount } from './runtimeSpec.ts';
import type { Executor, ExitStatus, RunSpec } from './types.ts';
import type { FstabEntry } from './unshareSetup.ts';
import { ABORTED } from './waitOrAbort.ts';

/**
 * UnshareExecutor runs build steps without an OCI runtime: the long-lived perl launch
 * server (src/sys/perlServer.ts) forks each container's init, which unshares the
 * namespaces, makes the mounts with mount(2), switches root with pivot_root (the old
 * root detached, as runc does), drops capabilities, installs the seccomp filter, switches
 * identity and execs the command (docs/EXECUTOR.md: the security modes).
 * Its runs are detached: stdin ignored, output to streams (through FIFOs); runs attached
 * to our stdin, output or terminal are runc's (selectExecutor). No cgroups, no device
 * cgroup (the rootfs is mounted nodev instead); see docs/EXECUTOR.md.
 */
export class UnshareExecutor implements Executor {
  readonly name = 'unshare' as const;

  /** run has RuncExecutor.run's contract: exit status, createdStubs, RUNTIME errors, ABORTED after an abort. */
  async run(spec: RunSpec): Promise<ExitStatus> {
    if (spec.process.terminal || (spec.stdin !== undefined && spec.stdin !== 'ignore') || spec.stdout === 'inherit' || spec.stderr === 'inherit') {
      throw new TsbuildError('RUNTIME', 'the unshare executor runs detached steps only (stdin ignored, output to streams)', { hint: 'use --runtime runc' });
    }
    if (spec.signal?.aborted) return { ...ABORTED };
    if (!launchServerAvailable()) {
      throw new TsbuildError('RUNTIME', 'the unshare executor needs /usr/bin/perl, and it is missing or not working', { hint: 'install perl-base, or use --runtime runc' });
    }
    try {
      // Small local writes are synchronous: cheaper than thread-pool round trips on every step.
      mkdirSync(spec.stateDir, { recursive: true });
      const hostname = spec.hostname ?? spec.id;
      const files = writeContainerFiles(spec.stateDir, hostname);
      const mounts = allMounts(spec, files);
      const [{ targets, createdStubs }, env] = await Promise.all([
        prepareMountPoints(spec.rootfs, mounts).then(async (p) => (await ensureCwd(spec.rootfs, spec.process.cwd), p)),
        withHome(spec.rootfs, spec.process.uid, spec.process.env.filter((kv) => kv.indexOf('=') > 0)),
      ]);
      await findExecutable(spec.rootfs, spec.process.args[0] ?? '', env, spec.process.cwd);
      const root = join(spec.stateDir, 'root');
      mkdirSync(root);
      const entries = await fstabEntries(spec, mounts, targets, root);
      const status = await launchRun({
        id: spec.id, stateDir: spec.stateDir, root, hostname, network: spec.network, security: spec.security ?? 'sandbox', env, cwd: spec.process.cwd, args: spec.process.args,
        uid: spec.process.uid, gid: spec.process.gid, additionalGids: spec.process.additionalGids ?? [], entries,
        stdout: spec.stdout, stderr: spec.stderr, signal: spec.signal,
      });
      const setupError = status.exitCode === 125 ? readSetupError(spec.stateDir) : '';
      if (setupError) throw new TsbuildError('RUNTIME', `unshare ${spec.id}: container setup failed: ${setupError}`);
      return { ...status, createdStubs };
    } finally {
      if (!spec.keepStateDir) rmSync(spec.stateDir, { recursive: true, force: true });
    }
  }

  /** warm starts the perl server (shared with the mount calls). */
  warm(): void {
    warmLaunchServer();
  }
}

/** readSetupError is the last line the container's setup wrote to stateDir/setup.err ('' when none: the command's own 125). */
function readSetupError(stateDir: string): string {
  const p = join(stateDir, 'setup.err');
  const text = existsSync(p) ? readFileSync(p, 'utf8').trim() : '';
  return text.split('\n').pop() ?? '';
}

/**
 * fstabEntries maps the container's mounts onto the root bind: the rootfs itself
 * (nodev: without a device cgroup, only our own /dev binds may open devices), /dev as
 * a bind of stateDir/dev with the host's null, zero, ... bound in, then the rest in
 * order, then Docker's masked and read-only paths. Sources are given as the perl
 * server's mount namespace sees them (the keeper's is a copy of it): a view of a mount
 * there (sys/mount.ts mountView) is translated back.
 */
async function fstabEntries(spec: RunSpec, mounts: RuntimeMount[], targets: (string | undefined)[], root: string): Promise<FstabEntry[]> {
  const nSystem = mounts.length - (spec.mounts?.length ?? 0);
  const inRoot = (hostPath: string) => join(root, relative(spec.rootfs, hostPath));
  const devDir = join(spec.stateDir, 'dev');
  const inNs = (p: string) => namespacePath(p).path;
  const sec = containerSecurity(spec.security);
  // Insecure mode allows every device, as BuildKit's device cgroup rule does.
  const out: FstabEntry[] = [{ source: inNs(spec.rootfs), target: root, type: 'none', options: sec.privileged ? ['bind'] : ['bind', 'nodev'] }];
  let devTarget = '';
  for (let i = 0; i < mounts.length; i++) {
    const m = mounts[i]!;
    const target = targets[i];
    if (i < nSystem && m.destination === '/dev' && target) {
      devTarget = inRoot(target);
      out.push({ source: devDir, target: devTarget, type: 'none', options: ['bind', 'nosuid', 'noexec', 'nodev'] });
      const extra = sec.devices.map((d) => d.path.slice('/dev/'.length));
      out.push(...makeDevDir(devDir, extra).map((n) => ({ source: `/dev/${n}`, target: `${devTarget}/${n}`, type: 'none', options: ['bind'] })));
      continue;
    }
    const options = i < nSystem ? m.options : withNodev(m.options);
    if (target) {
      out.push({ source: m.type === 'bind' ? inNs(m.source) : m.source, target: inRoot(target), type: m.type === 'bind' ? 'none' : m.type, options });
      continue;
    }
    const cover = coveringMount(mounts, i);
    // cgroup v1 hierarchies cannot be shown read-only without runc's per-controller binds: left out.
    if (m.destination === '/sys/fs/cgroup') continue;
    if (cover?.destination !== '/dev' || !devTarget) {
      throw new TsbuildError('RUNTIME', `unshare executor: cannot mount ${m.destination} inside ${cover?.destination ?? '?'}`, { hint: 'use --runtime runc' });
    }
    const sub = m.destination.slice('/dev'.length);
    const { path } = await ensureMountPoint(devDir, sub, await mountPointKind(m));
    out.push({ source: m.type === 'bind' ? inNs(m.source) : m.source, target: join(devTarget, relative(devDir, path)), type: m.type === 'bind' ? 'none' : m.type, options });
  }
  return [...out, ...hiddenPaths(join(root, 'proc'), join(root, 'sys'), sec.maskedPaths, sec.readonlyPaths)];
}

/** withNodev adds nodev to a run's own mounts unless they ask for dev explicitly. */
function withNodev(options: string[]): string[] {
  return options.includes('dev') || options.includes('nodev') ? options : [...options, 'nodev'];
}

/** hiddenPaths masks (empty ro tmpfs over dirs, /dev/null over files) and write-protects Docker's paths that this kernel has. */
function hiddenPaths(proc: string, sys: string, masked: readonly string[], readonly: readonly string[]): FstabEntry[] {
  const inside = (p: string) => (p.startsWith('/proc/') ? join(proc, p.slice(6)) : join(sys, p.slice(5)));
  const out: FstabEntry[] = [];
  for (const p of masked) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    out.push(st.isDirectory()
      ? { source: 'tmpfs', target: inside(p), type: 'tmpfs', options: ['ro', 'nosuid', 'nodev', 'noexec'] }
      : { source: '/dev/null', target: inside(p), type: 'none', options: ['bind'] });
  }
  for (const p of readonly) {
    if (existsSync(p)) out.push({ source: inside(p), target: inside(p), type: 'none', options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] });
  }
  return out;
}
