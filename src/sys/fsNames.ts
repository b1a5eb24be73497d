import { readdirSync, readlinkSync, type Dirent } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { decodeName, osPath, sortByName, sortNames } from '../core/names.ts';

/**
 * The file system's side of core/names.ts: directory listings and link targets read as
 * bytes and decoded into name strings (Node's default decodes them as UTF-8, so `\xff`
 * would come back as U+FFFD and name another file, or none).
 */

// Listings are read as strings first (Node's fastest form); only a listing in which the UTF-8
// decoder wrote a U+FFFD (for bytes that are not UTF-8, or a real U+FFFD) is read again as
// bytes. A 20,000-file context pays one `includes` a name.

const lossy = (names: readonly string[]): boolean => names.some((n) => n.includes('\uFFFD'));

/** readdirNamesSync lists dir's names, sorted by their bytes. */
export function readdirNamesSync(dir: string): string[] {
  const names = readdirSync(osPath(dir));
  if (!lossy(names)) return sortNames(names);
  return sortNames(readdirSync(osPath(dir), { encoding: 'buffer' }).map((b) => decodeName(b)));
}

/** readdirNames is the asynchronous readdirNamesSync. */
export async function readdirNames(dir: string): Promise<string[]> {
  const names = await readdir(osPath(dir));
  if (!lossy(names)) return sortNames(names);
  return sortNames((await readdir(osPath(dir), { encoding: 'buffer' })).map((b) => decodeName(b)));
}

/** NamedDirent is a directory entry (its d_type) with its name as a name string. */
export interface NamedDirent {
  name: string;
  dirent: Pick<Dirent, 'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>;
}

/** readdirTypedSync lists dir's entries with their d_type, sorted by name bytes. */
export function readdirTypedSync(dir: string): NamedDirent[] {
  const list = readdirSync(osPath(dir), { withFileTypes: true });
  let named: NamedDirent[];
  if (!list.some((d) => d.name.includes('\uFFFD'))) named = list.map((d) => ({ name: d.name, dirent: d }));
  else {
    const raw = readdirSync(osPath(dir), { encoding: 'buffer', withFileTypes: true }) as unknown as Dirent<Buffer>[];
    named = raw.map((d) => ({ name: decodeName(d.name), dirent: d }));
  }
  return sortByName(named);
}

/** readlinkNameSync reads a symlink's target as a name string (bytes kept). */
export function readlinkNameSync(p: string): string {
  return decodeName(readlinkSync(osPath(p), { encoding: 'buffer' }));
}

/** readlinkName is the asynchronous readlinkNameSync. */
export async function readlinkName(p: string): Promise<string> {
  return decodeName(await readlink(osPath(p), { encoding: 'buffer' }));
}
