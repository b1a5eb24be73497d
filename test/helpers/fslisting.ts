import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';

/**
 * fslisting: the comparable form of an image, computed the same way from Docker's
 * `docker save` output and from tsbuild's OCI layout, so a fixture recorded from
 * Docker can be checked without Docker. Everything here is independent of
 * tsbuild's own code (node-tar parses the layers).
 */

/** FsEntry is one path of a flattened image filesystem. */
export interface FsEntry {
  type: 'dir' | 'file' | 'symlink' | 'chardev' | 'blockdev' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** sha256 hex of a file's content. */
  sha?: string;
  /** Symlink target. */
  target?: string;
  /** Device numbers (major,minor). */
  dev?: string;
  /** For hard-linked files: the path of the entry they were linked to, as written in the layer. */
  linkOf?: string;
}

/** FsTree is a flattened filesystem: path (absolute, no trailing slash; "/" excluded) → entry. */
export type FsTree = Map<string, FsEntry>;

/** openLayer opens a layer tar (gzip detected by magic). */
export function openLayer(path: string): Readable {
  const src = createReadStream(path);
  const out = new PassThrough();
  let first = true;
  src.once('readable', () => {
    if (!first) return;
    first = false;
    const head = src.read(2) as Buffer | null;
    if (head) src.unshift(head);
    const gz = head !== null && head[0] === 0x1f && head[1] === 0x8b;
    (gz ? src.pipe(createGunzip()) : src).pipe(out);
    if (gz) src.on('error', (e) => out.destroy(e));
  });
  src.on('error', (e) => out.destroy(e));
  src.on('end', () => { if (first) out.end(); });
  return out;
}

function clean(name: string): string {
  const p = posix.normalize('/' + name.replace(/^\.?\/+/, '').replace(/^\.$/, ''));
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/**
 * applyLayer applies one layer (a tar stream) onto tree with OCI whiteout semantics:
 * `.wh.NAME` removes NAME (and below), `.wh..wh..opq` empties its directory of what
 * lower layers had. Hard links copy the linked entry's content (and remember it).
 */
export async function applyLayer(tree: FsTree, layer: Readable): Promise<void> {
  const opaque: string[] = [];
  const added = new Set<string>();
  const parser = new Parser();
  const pending: Promise<void>[] = [];
  parser.on('entry', (e: ReadEntry) => {
    const path = clean(e.path);
    const base = posix.basename(path);
    const dir = posix.dirname(path);
    if (base === '.wh..wh..opq') {
      opaque.push(dir);
      e.resume();
      return;
    }
    if (base.startsWith('.wh.')) {
      removeTree(tree, posix.join(dir, base.slice(4)));
      e.resume();
      return;
    }
    if (path === '/') { e.resume(); return; }
    added.add(path);
    const common = { mode: (e.mode ?? 0) & 0o7777, uid: e.uid ?? 0, gid: e.gid ?? 0 };
    const existing = tree.get(path);
    switch (e.type) {
      case 'Directory':
        if (existing && existing.type !== 'dir') removeTree(tree, path);
        tree.set(path, { type: 'dir', ...common, size: 0 });
        e.resume();
        return;
      case 'SymbolicLink':
        removeTree(tree, path);
        tree.set(path, { type: 'symlink', ...common, mode: 0o777, size: 0, target: e.linkpath ?? '' });
        e.resume();
        return;
      case 'Link': {
        removeTree(tree, path);
        const of = clean(e.linkpath ?? '');
        const src = tree.get(of);
        tree.set(path, { ...(src ?? { type: 'file', ...common, size: 0 }), linkOf: src?.linkOf ?? of });
        e.resume();
        return;
      }
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO':
        removeTree(tree, path);
        tree.set(path, {
          type: e.type === 'CharacterDevice' ? 'chardev' : e.type === 'BlockDevice' ? 'blockdev' : 'fifo',
          ...common, size: 0, dev: `${(e as unknown as { devmaj?: number }).devmaj ?? 0},${(e as unknown as { devmin?: number }).devmin ?? 0}`,
        });
        e.resume();
        return;
      default: {
        removeTree(tree, path);
        const h = createHash('sha256');
        let size = 0;
        pending.push(new Promise((res, rej) => {
          e.on('data', (c: Buffer) => { h.update(c); size += c.length; });
          e.on('end', () => { tree.set(path, { type: 'file', ...common, size, sha: h.digest('hex') }); res(); });
          e.on('error', rej);
        }));
      }
    }
  });
  await pipeline(layer, parser);
  await Promise.all(pending);
  for (const d of opaque) {
    for (const p of [...tree.keys()]) if (p.startsWith(d === '/' ? '/' : d + '/') && !added.has(p)) tree.delete(p);
  }
}

function removeTree(tree: FsTree, path: string): void {
  tree.delete(path);
  const prefix = path + '/';
  for (const p of [...tree.keys()]) if (p.startsWith(prefix)) tree.delete(p);
}

/** flatten applies layer files (paths to tars, base first) into one tree. */
export async function flatten(layers: readonly string[]): Promise<FsTree> {
  const tree: FsTree = new Map();
  for (const l of layers) await applyLayer(tree, openLayer(l));
  return tree;
}

function quote(p: string): string {
  return /[\s"\\]/.test(p) ? JSON.stringify(p) : p;
}

/** entryLine renders one entry: `path type mode uid:gid [size sha16 | -> target | major,minor] [link=path]`. */
export function entryLine(path: string, e: FsEntry): string {
  const head = `${quote(path)} ${e.type} ${e.mode.toString(8).padStart(4, '0')} ${e.uid}:${e.gid}`;
  let tail = '';
  if (e.type === 'file') tail = ` ${e.size} ${e.sha!.slice(0, 16)}`;
  else if (e.type === 'symlink') tail = ` -> ${quote(e.target!)}`;
  else if (e.dev !== undefined) tail = ` ${e.dev}`;
  return head + tail;
}

function same(a: FsEntry, b: FsEntry): boolean {
  return entryLine('', a) === entryLine('', b);
}

/**
 * listing renders tree sorted by path, one line per entry. With base (the base image's tree),
 * only what differs from it is listed: entries new or changed, and `path removed` for base
 * entries that are gone. Hard links are listed as `link=<path>` against the lowest path of
 * their group, so the choice of which name a layer stored first does not matter.
 */
export function listing(tree: FsTree, base?: FsTree): string {
  const groups = new Map<string, string[]>();
  for (const [p, e] of tree) if (e.linkOf !== undefined) {
    const g = groups.get(e.linkOf) ?? [e.linkOf];
    g.push(p);
    groups.set(e.linkOf, g);
  }
  const linkName = new Map<string, string>();
  for (const g of groups.values()) {
    const alive = g.filter((p) => tree.has(p)).sort();
    if (alive.length > 1) for (const p of alive.slice(1)) linkName.set(p, alive[0]!);
  }
  const lines: string[] = [];
  const paths = new Set([...tree.keys(), ...(base ? base.keys() : [])]);
  for (const p of [...paths].sort()) {
    const e = tree.get(p);
    const b = base?.get(p);
    if (!e) { lines.push(`${quote(p)} removed`); continue; }
    if (b && same(b, e) && !linkName.has(p)) continue;
    lines.push(entryLine(p, e) + (linkName.has(p) ? ` link=${quote(linkName.get(p)!)}` : ''));
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** CONFIG_KEYS are the image config fields compared against Docker. */
export const CONFIG_KEYS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell', 'ArgsEscaped'] as const;

/** configSubset keeps the compared fields of an image config's `config` object; null and "" count as absent. */
export function configSubset(config: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) {
    const v = config?.[k];
    if (v === null || v === undefined || v === '' || v === false) continue;
    out[k] = v;
  }
  return out;
}

/** HistoryLine is one history entry as compared. */
export interface HistoryLine {
  created_by: string;
  empty_layer: boolean;
}

/**
 * historySubset keeps the entries the Buildfile made (comment buildkit.dockerfile.v0),
 * dropping the imported base image's entry, whose text differs by importer.
 */
export function historySubset(history: Array<Record<string, unknown>> | undefined): HistoryLine[] {
  return (history ?? [])
    .filter((h) => h.comment === 'buildkit.dockerfile.v0')
    .map((h) => ({ created_by: String(h.created_by ?? ''), empty_layer: h.empty_layer === true }));
}

/** stableJson renders a value with sorted keys and two-space indents (for fixture files). */
export function stableJson(v: unknown): string {
  return JSON.stringify(sortKeys(v), null, 2) + '\n';
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}
