import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
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
  if (existsSync(tar) && statSync(tar).isFile()) return tar;
  rmSync(tar, { recursive: true, force: true });
  // mmdebstrap picks its output format from the name: keep the .tar suffix.
  const tmp = join(CACHE, `.tmp-${process.pid}-bookworm-minbase.tar`);
  execFileSync('mmdebstrap', ['--quiet', '--variant=minbase', 'bookworm', tmp], { stdio: 'pipe', timeout: 900_000 });
  renameSync(tmp, tar);
  return tar;
}
