import { copyInto } from '../context/copyInto.ts';
import { fetchUrl, type FetchedUrl } from '../context/fetchUrl.ts';
import { lowerFromDirs } from '../context/lower.ts';
import type { Selection } from '../context/types.ts';
import type { CopyInstruction } from '../parser/types.ts';
import type { StageState } from '../planner/state.ts';
import { writeLayer, type CopyPlan } from './copyStep.ts';
import { dockerChmod } from './fileSources.ts';
import { stepKey } from './keys.ts';
import { copyDef, type CopySource } from './stepDef.ts';
import { parseChecksum } from '../context/fetchUrl.ts';
import { cachedLayerStep } from './layerStep.ts';
import type { StepContext } from './solve.ts';

/** isUrl tells an ADD source that is downloaded rather than read from the context. */
export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * addUrlStep runs `ADD <url>... dest`: each URL is downloaded (hashed as it streams, checked
 * against --checksum) and written like a COPY of a file named after the URL path, mode 0600
 * unless --chmod. A remote archive is not extracted (as Docker) unless `--unpack=true`. The
 * cache key covers each URL with its downloaded content, or with the --checksum it must have
 * (one URL only), in which case a cache hit needs no download.
 */
export async function addUrlStep(s: StageState, ins: CopyInstruction, sc: StepContext, plan: CopyPlan, createdBy: string): Promise<StageState> {
  let fetched: FetchedUrl[] | undefined;
  const download = async () => (fetched ??= await fetchAll(plan.sources, sc, plan.checksum));
  try {
    const sources: CopySource[] = plan.checksum !== undefined
      ? [{ from: 'url', url: plan.sources[0]!, digest: parseChecksum(plan.checksum) }]
      : (await download()).map((f) => ({ from: 'url', url: f.url, digest: f.digest }));
    const key = stepKey(s.key, copyDef(plan, sources));
    return await cachedLayerStep(s, sc, key, createdBy, async () => {
      const files = await download();
      return writeLayer(s, sc, (layerDir, lowerDirs) => copyFetched(files, layerDir, ins.link ? [] : lowerDirs, plan, ins));
    });
  } finally {
    for (const f of fetched ?? []) await f.cleanup();
  }
}

/**
 * copyFetched writes downloaded files into a layer dir with COPY's destination rules; with
 * `ADD --unpack=true` a downloaded tar archive (told by content) is extracted as a local one is,
 * keeping its own owners unless --chown.
 */
export async function copyFetched(files: readonly FetchedUrl[], layerDir: string, lowerDirs: string[], plan: CopyPlan, ins: CopyInstruction): Promise<void> {
  const sel: Selection = { sources: files.flatMap((f) => f.selection.sources), multiple: files.length > 1, parents: false };
  const opts = {
    workdir: plan.workdir,
    ...(plan.chmod !== undefined ? { chmod: dockerChmod(plan.chmod) } : {}),
    lower: lowerFromDirs(lowerDirs),
  };
  if (ins.unpack !== true) {
    await copyInto(sel, layerDir, plan.dest, { ...opts, chown: plan.owner });
    return;
  }
  const { addInto } = await import('../context/add.ts');
  await addInto(sel, layerDir, plan.dest, { ...opts, ...(ins.chown !== undefined ? { chown: plan.owner } : {}), unpack: true });
}

/** fetchAll downloads every URL (removing what it got if one fails). */
export async function fetchAll(urls: string[], sc: StepContext, checksum: string | undefined): Promise<FetchedUrl[]> {
  const out: FetchedUrl[] = [];
  try {
    for (const url of urls) {
      out.push(await fetchUrl(url, { tmpDir: sc.deps.tmpDir, ...(checksum !== undefined ? { checksum } : {}), ...(sc.opts.signal ? { signal: sc.opts.signal } : {}) }));
    }
  } catch (e) {
    for (const f of out) await f.cleanup();
    throw e;
  }
  return out;
}
