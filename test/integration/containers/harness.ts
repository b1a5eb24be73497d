import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, makeTempRoot, mountsUnder, ok, tsbuild, type CliResult, type TempRoot } from '../../helpers/cli.ts';
import { makeBusyboxTar } from '../../helpers/rootfs.ts';
import { importRootfsTar } from './baseImage.ts';

/** Harness is a private store root with busybox:latest, and the CLI bound to it. */
export interface Harness {
  t: TempRoot;
  cli(...args: string[]): Promise<CliResult>;
  ok(...args: string[]): Promise<CliResult>;
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

/** makeHarness creates the root and imports busybox into it. */
export async function makeHarness(prefix: string): Promise<Harness> {
  const t = makeTempRoot(prefix);
  const tar = join(t.dir, 'busybox.tar');
  makeBusyboxTar(mkdtempSync(join(t.dir, 'bb-')), tar);
  await importRootfsTar(t.root, tar, 'busybox');
  const children: ChildProcess[] = [];
  const h: Harness = {
    t,
    cli: (...args) => tsbuild(['--root', t.root, ...args]),
    ok: (...args) => ok(['--root', t.root, ...args]),
    background(...args) {
      const child = spawn(process.execPath, [BIN, '--root', t.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
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
