import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import { findHostTools, killPidNamespace, unshareRun, type HostTools } from '../sys/unshare.ts';
import { writeContainerFiles } from './containerFiles.ts';
import { makeDevDir } from './devDir.ts';
import { findExecutable, withHome } from './processEnv.ts';
import { coveringMount, ensureCwd, ensureMountPoint, mountPointKind, prepareMountPoints } from './mountPoints.ts';
import { allMounts, type RuntimeMount } from './runtimeSpec.ts';
import { containerSecurity } from './security.ts';
import { fstab, unshareArgv, type FstabEntry } from './unshareSetup.ts';
import { launchRun } from './launchRun.ts';
import { launchServerAvailable, warmLaunchServer } from '../sys/launchServer.ts';
import type { Writable } from 'node:stream';
import type { Executor, ExitStatus, RunSpec } from './types.ts';
import { ABORTED, waitOrAbort } from './waitOrAbort.ts';

/** UnshareExecutorOptions configures UnshareExecutor. */
export interface UnshareExecutorOptions {
  /** Host binaries to use instead of the ones found in /usr/bin, /usr/sbin, /bin, /sbin. */
  tools?: HostTools;
  /**
   * How the container is started: `perl` through the long-lived launch server (one
   * fork of a small perl, no exec before the command), `chain` through the util-linux
   * exec chain, `auto` (the default) perl where it is there. Runs with inherited or
   * streamed stdin, or inherited stdout/stderr, always take the chain: the launch
   * server reaches a container only through its FIFOs.
   */
  launcher?: 'auto' | 'perl' | 'chain';
}

/**
 * UnshareExecutor is the fallback for hosts without an OCI runtime: util-linux
 * `unshare` makes the namespaces, the host's `mount` sets up /proc, /dev, /sys and the
 * binds inside them, `setpriv` and a second `unshare` switch root and identity.
 * No cgroups, no device cgroup (the rootfs is mounted nodev instead); the seccomp
 * filter only through the perl launch server. See docs/EXECUTOR.md for what differs
 * from runc.
 */
export class UnshareExecutor implements Executor {
  readonly name = 'unshare' as const;
  #tools: Promise<HostTools> | undefined;
  readonly #launcher: 'auto' | 'perl' | 'chain';

  constructor(opts: UnshareExecutorOptions = {}) {
    if (opts.tools) this.#tools = Promise.resolve(opts.tools);
    this.#launcher = opts.launcher ?? 'auto';
  }

  /** run has RuncExecutor.run's contract: exit status, createdStubs, RUNTIME errors, ABORTED after an abort. */
  async run(spec: RunSpec): Promise<ExitStatus> {
    if (spec.process.terminal && (spec.stdin !== 'inherit' || spec.stdout !== 'inherit' || spec.stderr !== 'inherit')) {
      throw new TsbuildError('RUNTIME', 'a terminal needs inherited stdin, stdout and stderr', { hint: 'run -t only from a terminal' });
    }
    if (spec.signal?.aborted) return { ...ABORTED };
    const perl = this.#usePerl(spec);
    const tools = perl ? undefined : await this.#hostTools();
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
      let status: ExitStatus;
      if (!tools) {
        status = await launchRun({
          id: spec.id, stateDir: spec.stateDir, root, hostname, network: spec.network, security: spec.security ?? 'sandbox', env, cwd: spec.process.cwd, args: spec.process.args,
          uid: spec.process.uid, gid: spec.process.gid, additionalGids: spec.process.additionalGids ?? [], entries,
          stdout: spec.stdout as Writable, stderr: spec.stderr as Writable, signal: spec.signal,
        });
      } else {
        status = await this.#chainRun(spec, tools, { root, hostname, env, entries });
      }
      if (status.exitCode === 125 && existsSync(join(spec.stateDir, 'setup.failed'))) {
        const err = existsSync(join(spec.stateDir, 'setup.err')) ? readFileSync(join(spec.stateDir, 'setup.err'), 'utf8') : '';
        throw new TsbuildError('RUNTIME', `unshare ${spec.id}: container setup failed: ${err.trim().split('\n').pop() ?? 'unknown error'}`);
      }
      return { ...status, createdStubs };
    } finally {
      if (!spec.keepStateDir) rmSync(spec.stateDir, { recursive: true, force: true });
    }
  }

  /** warm starts the perl server (shared with the mount calls) unless the chain is asked for. */
  warm(): void {
    if (this.#launcher !== 'chain') warmLaunchServer();
  }

  /** usePerl decides the launcher for this run (see UnshareExecutorOptions.launcher). */
  #usePerl(spec: RunSpec): boolean {
    if (this.#launcher === 'chain') return false;
    const streams = spec.stdout !== 'inherit' && spec.stderr !== 'inherit' && (spec.stdin === undefined || spec.stdin === 'ignore') && !spec.process.terminal;
    if (!streams) return false;
    if (launchServerAvailable()) return true;
    if (this.#launcher === 'perl') throw new TsbuildError('RUNTIME', 'unshare executor: the perl launch server is not available', { hint: 'install perl-base' });
    return false;
  }

  /** chainRun starts the container through the util-linux exec chain (unshareArgv). */
  async #chainRun(spec: RunSpec, tools: HostTools, p: { root: string; hostname: string; env: string[]; entries: FstabEntry[] }): Promise<ExitStatus> {
    // The chain has no seccomp and keeps Docker's bounding set: it cannot honour insecure mode.
    if (spec.security === 'insecure') throw new TsbuildError('RUNTIME', `unshare ${spec.id}: insecure mode needs the perl launcher`, { hint: 'use --runtime runc' });
    const { root, hostname, env, entries } = p;
    writeFileSync(join(spec.stateDir, 'fstab'), fstab(entries));
    const argv = unshareArgv(tools, {
      stateDir: spec.stateDir, root, hostname, network: spec.network, env, cwd: spec.process.cwd, args: spec.process.args,
      uid: spec.process.uid, gid: spec.process.gid, additionalGids: spec.process.additionalGids ?? [],
    });
    const child = unshareRun(argv, { stdin: spec.stdin, stdout: spec.stdout, stderr: spec.stderr });
    // Killing the pid namespace's init kills all of it; before unshare has forked, kill unshare itself
    // (its --kill-child takes along a child forked meanwhile).
    return waitOrAbort(child, spec.signal, async () => {
      if ((await killPidNamespace(child.pid)) === 0) child.kill('SIGKILL');
    });
  }

  #hostTools(): Promise<HostTools> {
    this.#tools ??= findHostTools().then(({ tools, missing }) => {
      if (tools) return tools;
      throw new TsbuildError('RUNTIME', `unshare executor: host tools not found: ${missing.join(', ')}`, { hint: 'install util-linux and coreutils' });
    });
    return this.#tools;
  }
}

/**
 * fstabEntries maps the container's mounts onto the root bind: the rootfs itself
 * (nodev: without a device cgroup, only our own /dev binds may open devices), /dev as
 * a bind of stateDir/dev with the host's null, zero, ... bound in, then the rest in
 * order, then Docker's masked and read-only paths.
 */
async function fstabEntries(spec: RunSpec, mounts: RuntimeMount[], targets: (string | undefined)[], root: string): Promise<FstabEntry[]> {
  const nSystem = mounts.length - (spec.mounts?.length ?? 0);
  const inRoot = (hostPath: string) => join(root, relative(spec.rootfs, hostPath));
  const devDir = join(spec.stateDir, 'dev');
  const sec = containerSecurity(spec.security);
  // Insecure mode allows every device, as BuildKit's device cgroup rule does.
  const out: FstabEntry[] = [{ source: spec.rootfs, target: root, type: 'none', options: sec.privileged ? ['bind'] : ['bind', 'nodev'] }];
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
      out.push({ source: m.source, target: inRoot(target), type: m.type === 'bind' ? 'none' : m.type, options });
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
    out.push({ source: m.source, target: join(devTarget, relative(devDir, path)), type: m.type === 'bind' ? 'none' : m.type, options });
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
