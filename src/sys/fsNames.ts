import { readdirSync, readlinkSync, type Dirent } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { decodeName, osPath, sortNames } from '../core/names.ts';

/**
 * The file system's side of core/names.ts: directory listings and link targets read as
 * bytes and decoded into name strings (Node's default decodes them as UTF-8, so `\xff`
 * would come back as U+FFFD and name another file, or none).
 */

/** readdirNamesSync lists dir's names, sorted by their bytes. */
export function readdirNamesSync(dir: string): string[] {
  return sortNames(readdirSync(osPath(dir), { encoding: 'buffer' }).map((b) => decodeName(b)));
}

/** readdirNames is the asynchronous readdirNamesSync. */
export async function readdirNames(dir: string): Promise<string[]> {
  return sortNames((await readdir(osPath(dir), { encoding: 'buffer' })).map((b) => decodeName(b)));
}

/** NamedDirent is a directory entry with its name decoded (the Dirent's own name is bytes). */
export interface NamedDirent {
  name: string;
  dirent: Dirent<Buffer>;
}

/** readdirTypedSync lists dir's entries with their d_type, sorted by name bytes. */
export function readdirTypedSync(dir: string): NamedDirent[] {
  const list = readdirSync(osPath(dir), { encoding: 'buffer', withFileTypes: true }) as unknown as Dirent<Buffer>[];
  const byName = new Map<string, Dirent<Buffer>>();
  for (const d of list) byName.set(decodeName(d.name), d);
  return sortNames([...byName.keys()]).map((name) => ({ name, dirent: byName.get(name)! }));
}

/** readlinkNameSync reads a symlink's target as a name string (bytes kept). */
export function readlinkNameSync(p: string): string {
  return decodeName(readlinkSync(osPath(p), { encoding: 'buffer' }));
}

/** readlinkName is the asynchronous readlinkNameSync. */
export async function readlinkName(p: string): Promise<string> {
  return decodeName(await readlink(osPath(p), { encoding: 'buffer' }));
}
