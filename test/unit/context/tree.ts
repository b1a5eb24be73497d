import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync, linkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Node is one fixture entry: a file's content (string), or an explicit kind. */
export type Node =
  | string
  | { file: string; mode?: number; mtime?: number }
  | { dir: true; mode?: number }
  | { symlink: string }
  | { hardlink: string };

/** makeTree writes the spec (paths relative to root, parents created) and returns root. */
export function makeTree(root: string, spec: Record<string, Node>): string {
  for (const [rel, node] of Object.entries(spec)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    if (typeof node === 'string') writeFileSync(p, node);
    else if ('file' in node) {
      writeFileSync(p, node.file);
      if (node.mode !== undefined) chmodSync(p, node.mode);
      if (node.mtime !== undefined) utimesSync(p, node.mtime, node.mtime);
    } else if ('dir' in node) {
      mkdirSync(p, { recursive: true });
      if (node.mode !== undefined) chmodSync(p, node.mode);
    } else if ('symlink' in node) symlinkSync(node.symlink, p);
    else linkSync(join(root, node.hardlink), p);
  }
  return root;
}

/** TempDirs hands out temp directories and removes them all in cleanup(). */
export class TempDirs {
  private dirs: string[] = [];
  make(prefix = 'tsbuild-ctx-'): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }
  cleanup(): void {
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    this.dirs = [];
  }
}
