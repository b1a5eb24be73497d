import { sha256Of } from '../core/digest.ts';
import type { Instruction } from '../parser/types.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import type { Stage } from '../planner/stages.ts';
import { cloneState, emptyConfig, type StageState } from '../planner/state.ts';
import { setEnv } from '../planner/expand.ts';
import type { StepContext } from './solve.ts';
import { rootKey } from './keys.ts';

/** DEFAULT_PATH is the PATH BuildKit gives images whose config has none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * baseState resolves a stage's FROM into its starting state: scratch, an
 * earlier stage's result, or an image (its layers extracted once into
 * snapshots). Also returns the base image's ONBUILD triggers, to run first.
 */
export async function baseState(stage: Stage, sc: StepContext): Promise<{ state: StageState; triggers: Instruction[] }> {
  let state: StageState;
  let triggerTexts: string[] = [];
  switch (stage.base.kind) {
    case 'scratch':
      state = { config: emptyConfig(), layers: [], key: rootKey(sha256Of('scratch'), sc.opts.sourceDateEpoch), args: new Map(), lastCreated: sc.created() };
      break;
    case 'stage': {
      const parent = cloneState(await sc.stageResult(stage.base.index));
      state = { ...parent, args: new Map() };
      delete state.cmdSetInStage;
      delete state.argOrder;
      // BuildKit runs an earlier stage's ONBUILD triggers too when a stage is built FROM it.
      triggerTexts = state.config.config.OnBuild ?? [];
      if (triggerTexts.length > 0) state.config.config.OnBuild = null;
      break;
    }
    case 'image': {
      const img = await sc.deps.images.resolve(stage.base.ref);
      const config = structuredClone(img.config);
      triggerTexts = config.config.OnBuild ?? [];
      config.config.OnBuild = null;
      state = {
        config,
        layers: [...img.layers],
        // Keyed by the image id, not the manifest: a pulled (gzip) copy of an image
        // and the local (uncompressed) original hold the same files.
        key: rootKey(sha256Of(canonicalJson({ base: img.configDigest })), sc.opts.sourceDateEpoch),
        args: new Map(),
        // Config-only steps before the first layer step take this time: clamped like the rest.
        lastCreated: clampTime(config.created ?? new Date(0).toISOString(), sc.opts.sourceDateEpoch),
      };
      break;
    }
  }
  const env = state.config.config.Env ?? [];
  if (!env.some((kv) => kv.startsWith('PATH='))) state.config.config.Env = setEnv(env, 'PATH', DEFAULT_PATH);
  const triggers = triggerTexts.flatMap((t) => sc.deps.parseTrigger(t).instructions);
  return { state, triggers };
}

/** clampTime is t, or the SOURCE_DATE_EPOCH time when that is earlier (BuildKit clamps history times after it). */
function clampTime(t: string, sourceDateEpoch: number | undefined): string {
  if (sourceDateEpoch === undefined) return t;
  const epoch = new Date(sourceDateEpoch * 1000);
  return Date.parse(t) > epoch.getTime() ? epoch.toISOString() : t;
}
