import { runTool } from './run.ts';

/** NodeKind is a special file mknod can make: character device, block device or FIFO. */
export type NodeKind = 'c' | 'b' | 'p';

/**
 * mknod creates a device node or FIFO with the given permission bits, through
 * the `mknod` command (Node has no mknod binding). About 1 ms per call: callers
 * making many whiteouts should make one and hard-link it (see applyLayer).
 */
export async function mknod(path: string, kind: NodeKind, mode: number, major = 0, minor = 0): Promise<void> {
  const args = ['-m', (mode & 0o7777).toString(8), path, kind];
  if (kind !== 'p') args.push(String(major), String(minor));
  await runTool('mknod', args, { code: 'IO' });
}
