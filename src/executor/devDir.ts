import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** DEV_NODES are the host device nodes bound into the container's /dev (runc's default set). */
export const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

const DEV_LINKS: readonly (readonly [string, string])[] = [
  ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'],
  ['ptmx', 'pts/ptmx'], ['core', '/proc/kcore'],
];

/**
 * makeDevDir builds, in dir (created, mode 0755), what runc puts in a container's
 * /dev tmpfs: an empty file per device node for the host's node to be bound over,
 * and the standard symlinks; `extra` names more nodes (relative to /dev, such as
 * `net/tun`). Returns the node names to bind.
 */
export function makeDevDir(dir: string, extra: readonly string[] = []): readonly string[] {
  // Synchronous: a dozen tiny local creations, cheaper than their thread-pool round trips.
  mkdirSync(dir, { mode: 0o755 });
  const nodes = [...DEV_NODES, ...extra];
  for (const n of nodes) {
    if (n.includes('/')) mkdirSync(join(dir, dirname(n)), { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, n), '', { mode: 0o666 });
  }
  for (const [name, target] of DEV_LINKS) symlinkSync(target, join(dir, name));
  return nodes;
}
