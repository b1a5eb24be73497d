import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

/** REPO is the repository root. */
export const REPO = resolve(import.meta.dirname, '../..');

/** BIN is the bundled CLI (built by `npm run build`, which `npm test` runs first). */
export const BIN = join(REPO, 'dist/tsbuild.mjs');

/** CliResult is a finished tsbuild process. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** ENTRY is the command users run (bin/tsbuild.mjs): executed itself, its `#!/usr/bin/env -S …` line applies. */
export const ENTRY = join(REPO, 'bin/tsbuild.mjs');

/**
 * tsbuild runs the CLI with args (no TTY, CI-like), optionally feeding stdin. An env value of
 * undefined unsets that variable; entry runs bin/tsbuild.mjs itself instead of node dist/tsbuild.mjs.
 */
export function tsbuild(args: string[], opts: { cwd?: string; input?: string | Buffer; env?: Record<string, string | undefined>; entry?: boolean } = {}): Promise<CliResult> {
  return new Promise((res, rej) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, CI: 'true', ...opts.env })) if (v !== undefined) env[k] = v;
    const child = spawn(opts.entry ? ENTRY : process.execPath, opts.entry ? args : [BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** ok runs tsbuild and throws (with its stderr) unless it exits 0. */
export async function ok(args: string[], opts: Parameters<typeof tsbuild>[1] = {}): Promise<CliResult> {
  const r = await tsbuild(args, opts);
  if (r.code !== 0) throw new Error(`tsbuild ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  return r;
}

/** TempRoot is a private store root + scratch dir for one test file, removed with all its mounts. */
export interface TempRoot {
  dir: string;
  root: string;
  cleanup(): void;
}

/** makeTempRoot creates a scratch dir with a store root inside it. */
export function makeTempRoot(prefix = 'tsbuild-test-'): TempRoot {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const root = join(dir, 'root');
  return {
    dir,
    root,
    cleanup() {
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** mountsUnder lists mount points at or below dir (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m === dir || m.startsWith(dir + '/'));
}

/**
 * mountsUnderAnywhere lists mount points at or below dir that any process sees, in whatever
 * mount namespace (tsbuild's mounts live in its perl server's), each once.
 */
export function mountsUnderAnywhere(dir: string): string[] {
  const found = new Set<string>();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let info = '';
    try {
      info = readFileSync(`/proc/${p}/mountinfo`, 'utf8');
    } catch { continue; /* exited meanwhile */ }
    for (const m of info.split('\n').map((l) => l.split(' ')[4] ?? '')) if (m === dir || m.startsWith(dir + '/')) found.add(m);
  }
  return [...found].sort();
}

/** unmountUnder detaches every mount below dir, deepest first (test cleanup after failures). */
export function unmountUnder(dir: string): void {
  for (const m of mountsUnder(dir).sort((a, b) => b.length - a.length)) {
    try { execFileSync('umount', ['-l', m]); } catch { /* already gone */ }
  }
}
