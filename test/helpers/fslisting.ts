import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * fslisting: the comparable form of an image, computed the same way from Docker's
 * `docker save` output and from tsbuild's OCI layout, so a fixture recorded from
 * Docker can be checked without Docker. Everything here is independent of
 * tsbuild's own code (a small tar reader of its own parses the layers).
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

/** readLayer reads a layer tar file (gzip detected by magic) into memory. */
export function readLayer(path: string): Buffer {
  const raw = readFileSync(path);
  return raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
}

function clean(name: string): string {
  const p = posix.normalize('/' + name.replace(/^\.?\/+/, '').replace(/^\.$/, ''));
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** RawEntry is one tar entry as read by tarEntries (PAX and GNU long names applied). */
interface RawEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkpath: string;
  devmajor: number;
  devminor: number;
  /** Modification time, whole seconds (PAX mtime wins over the header's). */
  mtime: number;
  data: Buffer;
}

function str(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return s.subarray(0, z < 0 ? s.length : z).toString('utf8');
}

function num(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const t = str(b, off, len).trim();
  return t === '' ? 0 : parseInt(t, 8);
}

function pax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString(), 10);
    if (!(len > 0)) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/**
 * tarEntries parses a tar (ustar, PAX, GNU long names) without interpreting it: a plain
 * reader of our own, since node-tar's Parser drops entries it considers unsafe (whiteouts
 * of a layer among them), which a comparison must not.
 */
export function tarEntries(buf: Buffer): RawEntry[] {
  const out: RawEntry[] = [];
  let off = 0;
  let ext = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = num(h, 124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') { ext = new Map([...ext, ...pax(data)]); continue; }
    if (type === 'g') continue;
    if (type === 'L') { longName = str(data, 0, data.length); continue; }
    if (type === 'K') { longLink = str(data, 0, data.length); continue; }
    const prefix = h.subarray(257, 263).toString('latin1').startsWith('ustar') ? str(h, 345, 155) : '';
    const name = ext.get('path') ?? longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    out.push({
      path: name, type, mode: num(h, 100, 8),
      uid: Number(ext.get('uid') ?? num(h, 108, 8)), gid: Number(ext.get('gid') ?? num(h, 116, 8)),
      linkpath: ext.get('linkpath') ?? longLink ?? str(h, 157, 100),
      devmajor: num(h, 329, 8), devminor: num(h, 337, 8), data,
      mtime: Math.floor(Number(ext.get('mtime') ?? num(h, 136, 12))),
    });
    ext = new Map();
    longName = longLink = undefined;
  }
  return out;
}

/**
 * applyLayer applies one layer (tar bytes) onto tree with OCI whiteout semantics:
 * `.wh.NAME` removes NAME (and below), `.wh..wh..opq` empties its directory of what
 * lower layers had. Hard links copy the linked entry (and remember which it was).
 */
export function applyLayer(tree: FsTree, layer: Buffer): void {
  const opaque: string[] = [];
  const added = new Set<string>();
  for (const e of tarEntries(layer)) {
    const path = clean(e.path);
    const base = posix.basename(path);
    const dir = posix.dirname(path);
    if (base === '.wh..wh..opq') { opaque.push(dir); continue; }
    if (base.startsWith('.wh.')) { removeTree(tree, posix.join(dir, base.slice(4))); continue; }
    if (path === '/') continue;
    added.add(path);
    const common = { mode: e.mode & 0o7777, uid: e.uid, gid: e.gid };
    switch (e.type) {
      case '5':
        if (tree.get(path)?.type !== 'dir') removeTree(tree, path);
        tree.set(path, { type: 'dir', ...common, size: 0 });
        break;
      case '2':
        removeTree(tree, path);
        tree.set(path, { type: 'symlink', ...common, mode: 0o777, size: 0, target: e.linkpath });
        break;
      case '1': {
        removeTree(tree, path);
        const of = clean(e.linkpath);
        const src = tree.get(of);
        tree.set(path, { ...(src ?? { type: 'file', ...common, size: 0 }), linkOf: src?.linkOf ?? of });
        break;
      }
      case '3': case '4': case '6':
        removeTree(tree, path);
        tree.set(path, { type: e.type === '3' ? 'chardev' : e.type === '4' ? 'blockdev' : 'fifo', ...common, size: 0, dev: `${e.devmajor},${e.devminor}` });
        break;
      default:
        removeTree(tree, path);
        tree.set(path, { type: 'file', ...common, size: e.data.length, sha: createHash('sha256').update(e.data).digest('hex') });
    }
  }
  for (const d of opaque) {
    const prefix = d === '/' ? '/' : d + '/';
    for (const p of [...tree.keys()]) if (p.startsWith(prefix) && !added.has(p)) tree.delete(p);
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
  for (const l of layers) applyLayer(tree, readLayer(l));
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

/**
 * fromImportedBase tells whether an image starts from the imported base (its first history
 * entry is `docker import`'s), so its listing is best given as differences from that base.
 */
export function fromImportedBase(history: Array<Record<string, unknown>> | undefined): boolean {
  return history?.[0]?.comment === 'Imported from -';
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
