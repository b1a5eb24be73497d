import { sha256Of, type Digest } from '../core/digest.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import type { HistoryEntry, ImageConfig, Manifest } from '../oci/types.ts';
import { commitDir } from '../snapshot/dirLayer.ts';
import { tagImage, writeImage } from '../store/images.ts';
import { applyChanges } from './changes.ts';
import { rootfsDir } from './createContainer.ts';
import type { ContainerDeps } from './deps.ts';
import type { ContainerView } from './types.ts';

/** CommitOptions are `commit`'s flags. */
export interface CommitOptions {
  /** -m: the history entry's comment. */
  message?: string;
  /** -a: the image's and the history entry's author. */
  author?: string;
  /** -c: Buildfile instructions applied to the config (CMD, ENV, …). */
  changes?: readonly string[];
  /** The name to tag the new image with; without one the image is kept untagged (`<none>:<none>`), usable by id. */
  tag?: string;
}

/**
 * commitContainer makes a new image from a container, as `docker commit`: the
 * base image's layers plus the container's upper dir as one more ordinary
 * layer (deterministic tar, OCI whiteouts, the runtime's empty mount-point
 * stubs left out), the container's config with the changes applied, and a
 * history entry {created, created_by: the container's CMD, comment, author}.
 * The upper dir is only read, never moved, so the container, running or not,
 * stays usable; an unchanged container gives an empty_layer entry. Returns the
 * image id (`sha256:` + config digest) once the image is tagged, or recorded
 * untagged in index.json when no tag is given.
 */
export async function commitContainer(deps: ContainerDeps, c: ContainerView, o: CommitOptions): Promise<Digest> {
  const content = deps.store.content;
  const base = await content.readJson<ImageConfig>(c.image.id);
  const manifest = await content.readJson<Manifest>(c.image.manifest);
  // Changes first: a bad --change must fail before a layer is written.
  const changed = o.changes?.length ? applyChanges({ ...base, config: structuredClone(c.config) }, o.changes).config : structuredClone(c.config);
  const active = await deps.snapshotter.reopen(rootfsDir(c), c.image.layers);
  const layer = await commitDir(content, active.upper, { stubs: c.stubs });
  const now = deps.now().toISOString();
  const entry: HistoryEntry = {
    created: now,
    created_by: (c.config.Cmd ?? []).join(' '),
    ...(o.author ? { author: o.author } : {}),
    ...(o.message ? { comment: o.message } : {}),
    ...(layer ? {} : { empty_layer: true }),
  };
  const config: ImageConfig = {
    ...base,
    created: now,
    config: changed,
    rootfs: { type: 'layers', diff_ids: layer ? [...base.rootfs.diff_ids, layer.diffID] : [...base.rootfs.diff_ids] },
    history: [...(base.history ?? []), entry],
  };
  if (o.author) config.author = o.author;
  else delete config.author;
  const layers = [...manifest.layers];
  if (layer) layers.push({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size });
  const desc = await writeImage(content, { config, layers });
  if (o.tag) await tagImage(deps.store.tags, o.tag, desc);
  else await deps.store.tags.keep(desc);
  return sha256Of(canonicalJson(config));
}
