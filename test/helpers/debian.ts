import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const CACHE = '/var/cache/tsbuild-test';

/**
 * debianMinbaseTar makes (once a day, cached under /var/cache/tsbuild-test) a
 * Debian bookworm minbase root filesystem tarball with mmdebstrap. Needs root
 * and Debian's mirror; about a minute when not cached.
 */
export function debianMinbaseTar(): string {
  mkdirSync(CACHE, { recursive: true });
  const day = new Date().toISOString().slice(0, 10);
  const tar = join(CACHE, `bookworm-minbase-${day}.tar`);
  if (existsSync(tar)) return tar;
  const tmp = `${tar}.${process.pid}.tmp`;
  execFileSync('mmdebstrap', ['--quiet', '--variant=minbase', 'bookworm', tmp], { stdio: 'pipe', timeout: 900_000 });
  renameSync(tmp, tar);
  return tar;
}
