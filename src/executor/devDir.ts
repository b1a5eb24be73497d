import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** DEV_NODES are the host device nodes bound into the container's /dev (runc's default set). */
export const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

const DEV_LINKS: readonly (readonly [string, string])[] = [
  ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'],
  ['ptmx', 'pts/ptmx'], ['core', '/proc/kcore'],
];

/**
 * makeDevDir builds, in dir (created, mode 0755), what runc puts in a container's
 * /dev tmpfs: an empty file per device node for the host's node to be bound over,
 * and the standard symlinks. Returns the node names to bind.
 */
export async function makeDevDir(dir: string): Promise<readonly string[]> {
  await mkdir(dir, { mode: 0o755 });
  await Promise.all([
    ...DEV_NODES.map((n) => writeFile(join(dir, n), '', { mode: 0o666 })),
    ...DEV_LINKS.map(([name, target]) => symlink(target, join(dir, name))),
  ]);
  return DEV_NODES;
}
