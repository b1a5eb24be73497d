import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO, makeTempRoot, mountsUnder, type CliResult, type TempRoot } from '../../helpers/cli.ts';
import { makeBusyboxTar } from '../../helpers/rootfs.ts';

/** Harness is a private store root with busybox:latest, and the CLI bound to it. */
export interface Harness {
  t: TempRoot;
  /** The harness's own copy of the CLI bundle (see privateBin). */
  bin: string;
  cli(...args: string[]): Promise<CliResult>;
  ok(...args: string[]): Promise<CliResult>;
  /** cliWith is cli with stdin fed from io.input and io.env added to the environment. */
  cliWith(io: RunIO, ...args: string[]): Promise<CliResult>;
  /** background starts `tsbuild --root ROOT args…` without waiting (its stdio piped and collected). */
  background(...args: string[]): Background;
  /** waitFor polls until the container's status (from inspect) is want. */
  waitStatus(name: string, want: string): Promise<void>;
  /** cleanup force-removes every container, then the root; throws if a process or mount was left behind. */
  cleanup(): Promise<void>;
}

/** Background is a tsbuild process running in the background. */
export interface Background {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/**
 * privateBin copies the built CLI bundle into dir (with node_modules linked
 * beside it), so a rebuild of dist/ by someone else mid-test (`npm run build`
 * deletes it first) cannot make these long tests fail. Returns its path.
 */
export async function privateBin(dir: string): Promise<string> {
  const dist = join(REPO, 'dist');
  const copy = join(mkdtempSync(join(dir, 'cli-')), 'dist');
  for (let attempt = 0; ; attempt++) {
    try {
      cpSync(dist, copy, { recursive: true });
      const bin = join(copy, 'tsbuild.mjs');
      if (!existsSync(join(copy, '..', 'node_modules'))) symlinkSync(join(REPO, 'node_modules'), join(copy, '..', 'node_modules'));
      const r = await run(bin, ['--version'], {});
      if (r.code === 0) return bin;
      throw new Error(r.stderr);
    } catch (e) {
      if (attempt >= 50) throw new Error(`no working CLI bundle in ${dist} (run npm run build): ${(e as Error).message}`);
      await sleep(200);
    }
  }
}

/** RunIO is what a CLI run gets besides its arguments: stdin's content and extra environment. */
export interface RunIO {
  input?: string;
  env?: Record<string, string>;
}

/** run runs the CLI bundle bin with args (no TTY, CI-like). */
export function run(bin: string, args: string[], opts: RunIO): Promise<CliResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: REPO, env: { ...process.env, CI: 'true', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** makeHarness creates the root, a private CLI and busybox:latest (through `tsbuild import`). */
export async function makeHarness(prefix: string): Promise<Harness> {
  const t = makeTempRoot(prefix);
  const bin = await privateBin(t.dir);
  const tsbuild = (args: string[]) => run(bin, args, {});
  const ok = async (args: string[]) => {
    const r = await tsbuild(args);
    if (r.code !== 0) throw new Error(`tsbuild ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
    return r;
  };
  const tar = join(t.dir, 'busybox.tar');
  makeBusyboxTar(mkdtempSync(join(t.dir, 'bb-')), tar);
  await ok(['--root', t.root, 'import', tar, 'busybox']);
  const children: ChildProcess[] = [];
  const h: Harness = {
    t,
    bin,
    cli: (...args) => tsbuild(['--root', t.root, ...args]),
    ok: (...args) => ok(['--root', t.root, ...args]),
    cliWith: (io, ...args) => run(bin, ['--root', t.root, ...args], io),
    background(...args) {
      const child = spawn(process.execPath, [bin, '--root', t.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const done = new Promise<CliResult>((res) => child.on('close', (code, sig) => res({ code: code ?? (sig ? 128 : 1), stdout, stderr })));
      return { child, done };
    },
    async waitStatus(name, want) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const r = await tsbuild(['--root', t.root, 'inspect', '--type', 'container', '-f', '{{.State.Status}}', name]);
        if (r.stdout.trim() === want) return;
        if (Date.now() > deadline) throw new Error(`container ${name}: status "${r.stdout.trim()}" ${r.stderr}, want ${want}`);
        await sleep(50);
      }
    },
    async cleanup() {
      try {
        const ids = (await tsbuild(['--root', t.root, 'ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
        if (ids.length) await tsbuild(['--root', t.root, 'rm', '-f', ...ids]);
        for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        const left = processesMentioning(t.root);
        const mounts = mountsUnder(t.dir);
        if (left.length || mounts.length) throw new Error(`left behind: processes ${left.join(', ')}; mounts ${mounts.join(', ')}`);
      } finally {
        t.cleanup();
      }
    },
  };
  return h;
}

/** processesMentioning lists the pids whose command line contains s (supervisors, runc). */
export function processesMentioning(s: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(s)) out.push(Number(name));
    } catch { /* gone */ }
  }
  return out;
}

/** pidAlive tells whether a process exists (zombies count as gone). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}
