import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { BuildContext } from '../context/BuildContext.ts';
import { parseChmod, type ChmodSpec } from '../context/chmod.ts';
import type { Selection } from '../context/types.ts';
import { siblingTmpName } from '../store/atomicFile.ts';
import type { StoreDirs } from '../store/types.ts';
import type { CopyIntoOptions } from '../context/copyInto.ts';
import type { CopyOptions, FileSelection, FileSource, FileSourceFactory } from './types.ts';

type Sel = FileSelection & { readonly sel: Selection };

function wrap(ctx: BuildContext, flush: boolean, legacyCache?: string): FileSource {
  return {
    async select(sources, opts) {
      const sel = await ctx.select(sources, { exclude: opts.exclude, parents: opts.parents });
      return { sel, count: sel.sources.length } satisfies Sel;
    },
    digest(s, opts) {
      return ctx.digest((s as Sel).sel, { chown: { uid: opts.uid, gid: opts.gid }, ...(opts.chmod !== undefined ? { chmod: opts.chmod } : {}) });
    },
    async plan(s, dest, opts) {
      if (opts.add) return null;
      const [{ planCopy, NeedsDirectory }, o] = await Promise.all([import('../context/planCopy.ts'), intoOptions(opts)]);
      try {
        return await planCopy((s as Sel).sel, dest, o);
      } catch (e) {
        if (e instanceof NeedsDirectory) return null;
        throw e;
      }
    },
    async copy(s, layerDir, dest, opts) {
      // Loaded only when a COPY/ADD really runs: ADD's archive code pulls in node-tar.
      const { lowers: _treesAreForPlan, ...dirs } = opts;
      const [{ copyInto }, o] = await Promise.all([import('../context/copyInto.ts'), intoOptions(dirs)]);
      // ADD extracts local archives (detected by content); COPY never does.
      if (opts.add) {
        const { addInto } = await import('../context/add.ts');
        const { chown, ...rest } = o;
        await addInto((s as Sel).sel, layerDir, dest, { ...rest, ...(opts.chownGiven ? { chown } : {}), unpack: true });
      }
      else await copyInto((s as Sel).sel, layerDir, dest, o);
    },
    async close() {
      if (flush) await ctx.saveStatCache();
      if (legacyCache !== undefined) await rm(legacyCache, { force: true });
    },
  };
}

async function intoOptions(opts: CopyOptions): Promise<CopyIntoOptions> {
  const { lowerFromLayers } = await import('../context/lower.ts');
  return {
    workdir: opts.workdir,
    chown: { uid: opts.uid, gid: opts.gid },
    ...(opts.chmod !== undefined ? { chmod: dockerChmod(opts.chmod) } : {}),
    lower: lowerFromLayers(opts.lowers ?? opts.lowerDirs),
  };
}

/**
 * dockerChmod is --chmod as Docker 20.10's BuildKit applies it: an octal mode sets the
 * permission bits (setuid, setgid and sticky are dropped: BuildKit passes the value as a Go
 * os.FileMode) of every copied file and directory, but directories the copy has to create
 * keep 0755. Symbolic modes (later BuildKit) go to parseChmod unchanged.
 */
export function dockerChmod(flag: string): ChmodSpec {
  const spec = parseChmod(flag);
  if (spec.octal === undefined) return spec;
  const mode = spec.octal & 0o777;
  return { text: spec.text, octal: undefined, apply: () => mode };
}

/**
 * contextFiles opens COPY/ADD sources: the build context (with .dockerignore and
 * a stat cache kept per context path under ROOT/cache), or a mounted root
 * filesystem of another stage or image (no ignore rules, no persistent cache).
 */
export function contextFiles(contextDir: string, dirs: StoreDirs, _buildfile: string): FileSourceFactory {
  return {
    async context() {
      const id = createHash('sha256').update(contextDir).digest('hex').slice(0, 16);
      const ctx = await BuildContext.open(contextDir, { statCachePath: join(dirs.cache, `statcache-${id}.bin`), statCacheTmpName: (file) => siblingTmpName(dirs.tmp, file) });
      // The JSON stat cache of earlier versions is not read any more.
      return wrap(ctx, true, join(dirs.cache, `statcache-${id}.json`));
    },
    async rootfs(dir) {
      return wrap(await BuildContext.open(dir, { dockerignore: false }), false);
    },
  };
}
