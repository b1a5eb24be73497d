import type { CopyInstruction } from '../parser/types.ts';
import type { StageState } from '../planner/state.ts';
import { copyFetched, fetchAll, isUrl } from './addUrl.ts';
import { cachedCopy, copySel, digestOptions, type CopyPlan } from './copyStep.ts';
import { isHeredocSource, writeHeredocFiles } from './heredocFiles.ts';
import { stepKey } from './keys.ts';
import { copyDef, type CopySource } from './stepDef.ts';
import type { StepContext } from './solve.ts';

/** Part is one kind of source of a mixed COPY/ADD: what it adds to the key and how it writes. */
interface Part {
  sources: CopySource[];
  write: (layerDir: string, lowerDirs: string[]) => Promise<void>;
}

/**
 * mixedCopy runs a COPY/ADD whose sources are of several kinds (context files, heredocs and,
 * for ADD, URLs). Several sources make the destination a directory, so each kind is copied
 * into it in turn, in one layer; the key covers every kind's content.
 */
export async function mixedCopy(s: StageState, ins: CopyInstruction, sc: StepContext, plan: CopyPlan, createdBy: string, env: Map<string, string>): Promise<StageState> {
  const docs = plan.sources.filter(isHeredocSource);
  const urls = ins.kind === 'ADD' ? plan.sources.filter(isUrl) : [];
  const files = plan.sources.filter((x) => !docs.includes(x) && !urls.includes(x));
  const cleanups: Array<() => Promise<void>> = [];
  const parts: Part[] = [];
  const digestOpts = digestOptions(plan);
  try {
    if (files.length > 0) {
      const src = await sc.context();
      const sel = await src.select(files, { exclude: plan.exclude, parents: ins.parents });
      parts.push({ sources: [{ from: 'context', digest: await src.digest(sel, digestOpts) }], write: (d, l) => copySel(src, sel, d, l, plan, ins) });
    }
    if (urls.length > 0) {
      const fetched = await fetchAll(urls, sc, plan.checksum);
      cleanups.push(async () => { for (const f of fetched) await f.cleanup(); });
      parts.push({ sources: fetched.map((f) => ({ from: 'url', url: f.url, digest: f.digest })), write: (d, l) => copyFetched(fetched, d, ins.link ? [] : l, plan, ins) });
    }
    if (docs.length > 0) {
      const dir = await writeHeredocFiles(ins, sc.deps.tmpDir, sc.deps.expand, env);
      cleanups.push(dir.cleanup);
      const src = await sc.deps.files.rootfs(dir.dir);
      cleanups.push(() => src.close());
      const sel = await src.select(dir.names, { exclude: [], parents: false });
      parts.push({ sources: [{ from: 'heredoc', digest: await src.digest(sel, digestOpts) }], write: (d, l) => copySel(src, sel, d, l, plan, ins) });
    }
    const key = stepKey(s.key, copyDef(plan, parts.flatMap((p) => p.sources)));
    return await cachedCopy(s, createdBy, sc, key, async (layerDir, lowers) => {
      for (const p of parts) await p.write(layerDir, lowers);
    });
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}
