import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = new URL('../fixtures/seccomp/probe.c', import.meta.url).pathname;
let built: string | undefined;

/**
 * probeBinary compiles test/fixtures/seccomp/probe.c (raw system calls, no libc) into a
 * static binary once per test process, with the clang and lld that scripts/setup-host.sh
 * installs.
 */
export function probeBinary(): string {
  if (built && existsSync(built)) return built;
  const out = join(mkdtempSync(join(tmpdir(), 'tsbuild-probe-')), 'probe');
  execFileSync('clang', ['-O1', '-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-fno-builtin', '-fuse-ld=lld', '-o', out, SOURCE], { stdio: 'pipe' });
  built = out;
  return out;
}

/** installProbe copies the probe into rootfs as /probe. */
export function installProbe(rootfs: string): void {
  copyFileSync(probeBinary(), join(rootfs, 'probe'));
}

/** parseProbe turns the probe's output into name → "ok" | errno number as a string. */
export function parseProbe(out: string): Record<string, string> {
  return Object.fromEntries(out.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}
