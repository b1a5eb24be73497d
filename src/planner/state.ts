import type { Digest } from '../core/digest.ts';
import type { HistoryEntry, ImageConfig } from '../oci/types.ts';
import type { LayerBlob } from '../snapshot/types.ts';

/** StageState is the image a stage has built so far, changed instruction by instruction. */
export interface StageState {
  /** Image config (config.*, rootfs.diff_ids, history kept in step with layers). */
  config: ImageConfig;
  /** The layers, base first; rootfs.diff_ids mirrors them. */
  layers: LayerBlob[];
  /** Cache key of the filesystem so far: changes only with layer-producing steps (as BuildKit's LLB). */
  key: Digest;
  /** ARGs declared in this stage, with their values (undefined = declared, no value). */
  args: Map<string, string | undefined>;
  /** ARG names in declaration order, a redeclared name repeated (BuildKit lists each in RUN history). */
  argOrder?: string[];
  /** Time of the newest step so far, used for metadata-only steps so cached rebuilds keep the image id. */
  lastCreated: string;
  /** Whether a CMD was set in this stage (an ENTRYPOINT then keeps it). */
  cmdSetInStage?: boolean;
}

/** cloneState copies a state so a step can change it without touching its parent. */
export function cloneState(s: StageState): StageState {
  return {
    config: structuredClone(s.config),
    layers: [...s.layers],
    key: s.key,
    args: new Map(s.args),
    ...(s.argOrder ? { argOrder: [...s.argOrder] } : {}),
    lastCreated: s.lastCreated,
    ...(s.cmdSetInStage ? { cmdSetInStage: true } : {}),
  };
}

/** addHistory appends a history entry (and, when layer is given, the layer) to the state. */
export function addHistory(s: StageState, entry: HistoryEntry, layer?: LayerBlob): void {
  s.config.history = [...(s.config.history ?? []), entry];
  if (layer) {
    s.layers.push(layer);
    s.config.rootfs = { type: 'layers', diff_ids: [...s.config.rootfs.diff_ids, layer.diffID] };
  }
}

/** emptyConfig is the config of `FROM scratch`: like BuildKit's empty image, WorkingDir is "/". */
export function emptyConfig(): ImageConfig {
  return {
    architecture: 'amd64',
    os: 'linux',
    config: { WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}
