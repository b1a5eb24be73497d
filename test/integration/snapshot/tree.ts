import { getAttributeSync, listAttributesSync } from '@napi-rs/xattr';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * snapshotTree describes every entry under dir (not dir itself) by what a layer
 * must preserve: type, mode, owner, mtime (seconds), size, content digest,
 * link target, device numbers, xattrs (minus overlay's own), and which paths
 * share an inode (hardlink groups, named by their first path).
 */
export function snapshotTree(dir: string, opts: { mtimes?: boolean; skip?: (rel: string) => boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const inodes = new Map<string, string>();
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (opts.skip?.(r)) continue;
      const p = join(abs, name);
      const st = lstatSync(p);
      const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : st.isCharacterDevice() ? 'chr' : st.isBlockDevice() ? 'blk' : st.isFIFO() ? 'fifo' : 'other';
      const parts = [type, (st.mode & 0o7777).toString(8), `${st.uid}:${st.gid}`];
      if (opts.mtimes !== false && type !== 'link') parts.push(`t=${Math.floor(st.mtimeMs / 1000)}`);
      if (type === 'file') parts.push(`${st.size}`, createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 12));
      if (type === 'link') parts.push(`-> ${readlinkSync(p)}`);
      if (type === 'chr' || type === 'blk') parts.push(`rdev=${st.rdev}`);
      if (type !== 'dir' && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (!inodes.has(key)) inodes.set(key, r);
        parts.push(`inode=${inodes.get(key)}`);
      }
      const xs = listAttributesSync(p).filter((x) => !x.startsWith('trusted.overlay.')).sort();
      for (const x of xs) parts.push(`${x}=${getAttributeSync(p, x)?.toString('hex')}`);
      out[r] = parts.join(' ');
      if (type === 'dir') walk(p, r);
    }
  };
  walk(dir, '');
  return out;
}
