import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hexOf, type Digest } from '../core/digest.ts';
import { isErrno } from '../core/errors.ts';
import { siblingTmpName } from '../store/atomicFile.ts';
import { DIR_MODE, FILE_MODE } from '../store/permissions.ts';

/** Repositories remembered per registry and blob; the newest first. */
const MAX_REPOS = 8;

/**
 * BlobSources remembers which repositories of which registry a blob was pulled from
 * or pushed to (dir/<hex>.json: {registry: [repo, ...]}), so a push to another
 * repository of that registry can mount it instead of uploading. Only a hint:
 * a lost update costs one upload, never correctness.
 */
export class BlobSources {
  constructor(readonly dir: string) {}

  /** repos lists the repositories of registry known to hold d, newest first. */
  async repos(registry: string, d: Digest): Promise<string[]> {
    return (await this.read(d))[registry] ?? [];
  }

  /** add records that registry/repository holds d. */
  async add(registry: string, repository: string, d: Digest): Promise<void> {
    const all = await this.read(d);
    const list = [repository, ...(all[registry] ?? []).filter((r) => r !== repository)].slice(0, MAX_REPOS);
    if (all[registry]?.[0] === repository) return;
    all[registry] = list;
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    const file = join(this.dir, `${hexOf(d)}.json`);
    const tmp = siblingTmpName(join(dirname(this.dir), '..', 'tmp'), file);
    await writeFile(tmp, JSON.stringify(all), { mode: FILE_MODE });
    await rename(tmp, file);
  }

  private async read(d: Digest): Promise<Record<string, string[]>> {
    try {
      return JSON.parse(await readFile(join(this.dir, `${hexOf(d)}.json`), 'utf8')) as Record<string, string[]>;
    } catch (e) {
      if (isErrno(e, 'ENOENT') || e instanceof SyntaxError) return {};
      throw e;
    }
  }
}
