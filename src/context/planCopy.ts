import { posix } from 'node:path';
import { parseChmod, type ChmodSpec } from './chmod.ts';
import type { CopyIntoOptions } from './copyInto.ts';
import { resolveTarget } from './copyInto.ts';
import { conflict } from './LayerWriter.ts';
import { hardlinkSources } from './sourcesDigest.ts';
import type { Owner, Selection, SelectedSource, SourceEntry } from './types.ts';

/** TreeMeta is what a layer entry carries besides its content. mtimeMs is in milliseconds. */
export interface TreeMeta {
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
}

/** TreeFile is one regular file's content and metadata; tree nodes sharing one TreeFile are hard links. */
export interface TreeFile extends TreeMeta {
  /** Host path the content is read from when the layer is written. */
  source: string;
  size: number;
}

/** TreeNode is one path of a planned layer. */
export type TreeNode =
  | { kind: 'dir'; meta: TreeMeta; children: Map<string, TreeNode> }
  | { kind: 'file'; file: TreeFile }
  | { kind: 'symlink'; meta: TreeMeta; target: string };

/** LayerTree is a planned layer: its root stands for `/` (not itself an entry of the layer). */
export type LayerTree = Extract<TreeNode, { kind: 'dir' }>;

/**
 * NeedsDirectory is thrown by planCopy for the rare copy whose result depends on a real
 * directory (a directory written through a symlink this same COPY made); the caller then
 * writes the layer with copyInto instead.
 */
export class NeedsDirectory extends Error {}

interface DirState {
  node: LayerTree;
  /** True when the dir also exists in the image, so entries below may conflict with it. */
  inLower: boolean;
}

/**
 * planCopy is copyInto without the disk: it computes, in memory, the tree that copyInto would
 * write into a fresh layer directory (same destination rules, metadata, conflicts and errors),
 * so that the layer tar can be streamed straight from the sources. Directories copyInto would
 * leave with the kernel's time (new parents of the destination) get `nowMs`.
 * Throws NeedsDirectory for what only a real directory can answer.
 */
export async function planCopy(sel: Selection, dest: string, opts: CopyIntoOptions & { nowMs?: number } = {}): Promise<LayerTree> {
  const p = new TreePlanner(opts);
  const { target, destIsDir } = await resolveTarget(p, sel, dest, opts);
  for (const src of sel.sources) await p.copySource(src, target, destIsDir);
  return p.root;
}

class TreePlanner {
  readonly root: LayerTree;
  private readonly dirs = new Map<string, DirState>();
  private readonly owner: Owner;
  private readonly chmod: ChmodSpec | undefined;
  private readonly newDirMode: number;
  private readonly nowMs: number;

  constructor(private readonly opts: CopyIntoOptions & { nowMs?: number }) {
    this.owner = opts.chown ?? { uid: 0, gid: 0 };
    this.chmod = opts.chmod === undefined ? undefined : typeof opts.chmod === 'object' ? opts.chmod : parseChmod(opts.chmod);
    this.newDirMode = this.chmod?.octal ?? 0o755;
    this.nowMs = opts.nowMs ?? Date.now();
    this.root = { kind: 'dir', meta: { mode: 0o755, uid: 0, gid: 0, mtimeMs: this.nowMs }, children: new Map() };
    this.dirs.set('/', { node: this.root, inLower: true });
  }

  async lowerType(p: string): Promise<string | null> {
    return (await this.opts.lower?.lstat(p))?.type ?? null;
  }

  /** copySource mirrors LayerWriter.copySource. */
  async copySource(src: SelectedSource, target: string, destIsDir: boolean): Promise<void> {
    if (src.kind === 'dir') {
      const low = await this.lowerType(target);
      if (low !== null && low !== 'dir') throw conflict(`cannot copy to non-directory: ${target}`);
      await this.ensureDir(target, src.entries[0]);
      return this.writeTree(target, src.entries, hardlinkSources(src));
    }
    const to = destIsDir ? posix.join(target, src.name) : target;
    if (destIsDir) await this.ensureDir(target);
    return this.writeTree(to, src.entries, new Map());
  }

  /** ensureDir mirrors LayerWriter.ensureDir: image dirs keep their metadata, new ones get the owner and newDirMode. */
  async ensureDir(containerPath: string, root?: SourceEntry): Promise<DirState> {
    const known = this.dirs.get(containerPath);
    if (known) return known;
    const parent = await this.ensureDir(posix.dirname(containerPath));
    const low = parent.inLower ? await this.opts.lower?.lstat(containerPath) : undefined;
    if (low && low.type !== 'dir') throw conflict(`cannot copy to non-directory: ${containerPath}`);
    const name = posix.basename(containerPath);
    const there = parent.node.children.get(name);
    if (there?.kind === 'symlink') throw new NeedsDirectory(`${containerPath} is a symlink this COPY wrote`);
    if (there?.kind === 'file') throw conflict(`cannot copy to non-directory: ${containerPath}`);
    let node = there;
    if (node === undefined) {
      const meta = low
        ? { mode: low.mode, uid: low.uid, gid: low.gid, mtimeMs: low.mtimeMs }
        : { mode: this.newDirMode, ...this.owner, mtimeMs: root?.mtimeMs ?? this.nowMs };
      node = { kind: 'dir', meta, children: new Map() };
      parent.node.children.set(name, node);
    }
    const st: DirState = { node, inLower: !!low };
    this.dirs.set(containerPath, st);
    return st;
  }

  /** writeTree mirrors LayerWriter.writeTree: directories first, then files and symlinks, then hard links. */
  private async writeTree(base: string, entries: SourceEntry[], links: Map<SourceEntry, string>): Promise<void> {
    const [rootEntry, ...rest] = entries;
    const leaves: Array<[string, SourceEntry]> = [];
    const hardlinks: Array<[string, string]> = [];
    if (rootEntry && rootEntry.type !== 'dir') leaves.push([base, rootEntry]);
    for (const e of rest) {
      const to = posix.join(base, e.rel);
      if (e.type === 'dir') {
        const { node } = await this.ensureDir(to);
        node.meta = { mode: this.modeOf(e), ...this.owner, mtimeMs: e.mtimeMs };
      } else if (links.has(e)) hardlinks.push([to, posix.join(base, links.get(e)!)]);
      else leaves.push([to, e]);
    }
    for (const [to, e] of leaves) await this.writeLeaf(to, e);
    for (const [to, first] of hardlinks) await this.writeHardlink(to, first);
  }

  private modeOf(e: SourceEntry): number {
    return this.chmod ? this.chmod.apply(e.mode, e.type === 'dir') : e.mode;
  }

  /** leafParent mirrors LayerWriter.leafPath: the parent dir, once nothing of the wrong kind is in the way. */
  private async leafParent(containerPath: string): Promise<LayerTree> {
    const parent = await this.ensureDir(posix.dirname(containerPath));
    if (parent.inLower && (await this.lowerType(containerPath)) === 'dir') {
      throw conflict(`cannot replace directory ${containerPath} with a non-directory`);
    }
    if (parent.node.children.get(posix.basename(containerPath))?.kind === 'dir') {
      throw conflict(`cannot replace directory ${containerPath} with a non-directory`);
    }
    return parent.node;
  }

  private async writeLeaf(containerPath: string, e: SourceEntry): Promise<void> {
    const parent = await this.leafParent(containerPath);
    const name = posix.basename(containerPath);
    if (e.type === 'symlink') {
      parent.children.set(name, { kind: 'symlink', meta: { mode: 0o777, ...this.owner, mtimeMs: e.mtimeMs }, target: e.linkTarget ?? '' });
      return;
    }
    parent.children.set(name, { kind: 'file', file: { source: e.abs, size: e.size, mode: this.modeOf(e), ...this.owner, mtimeMs: e.mtimeMs } });
  }

  private async writeHardlink(containerPath: string, firstPath: string): Promise<void> {
    const parent = await this.leafParent(containerPath);
    const first = (await this.ensureDir(posix.dirname(firstPath))).node.children.get(posix.basename(firstPath));
    if (first?.kind !== 'file') throw new NeedsDirectory(`hard link target ${firstPath} is not a file of this COPY`);
    parent.children.set(posix.basename(containerPath), { kind: 'file', file: first.file });
  }
}
