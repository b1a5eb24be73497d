import type { Digest } from '../core/digest.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import type { ImageConfig } from '../oci/types.ts';
import { loadImage, type ImageRecord } from '../store/images.ts';
import type { LocalStore } from '../store/types.ts';
import { layerContentSize } from './layerSize.ts';

/** ListedImage is one row of `images`: a name of index.json, or an untagged image, with the image it is. */
export interface ListedImage {
  /** The normalised name (`busybox:latest`, `localhost:5000/x/y:2`, `x@sha256:…`), undefined when untagged. */
  name: string | undefined;
  /** The repository, `<none>` when untagged. */
  repository: string;
  /** The tag, or `<none>` for a digest-only name or an untagged image. */
  tag: string;
  image: ImageRecord;
}

/** TaggedImage is a ListedImage that has a name. */
export interface TaggedImage extends ListedImage {
  name: string;
}

/**
 * splitName splits a normalised name into repository and tag (`<none>` when
 * the name has only a digest), the way `docker images` shows them.
 */
export function splitName(name: string): { repository: string; tag: string } {
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return { repository: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { repository: base, tag: '<none>' };
}

/**
 * listImages loads every entry of index.json: one row per name, then one
 * `<none>`/`<none>` row per untagged image whose id has no name (entries whose
 * blobs are unreadable are skipped).
 */
export async function listImages(store: LocalStore): Promise<ListedImage[]> {
  const named: TaggedImage[] = [];
  const untagged = new Map<Digest, ListedImage>();
  for (const { name, descriptor } of await store.tags.entries()) {
    const image = await loadImage(store.content, descriptor).catch(() => undefined);
    if (!image) continue;
    if (name !== undefined) named.push({ name, ...splitName(name), image });
    else untagged.set(image.id, { name: undefined, repository: '<none>', tag: '<none>', image });
  }
  for (const t of named) untagged.delete(t.image.id);
  return [...named, ...untagged.values()];
}

/** listTaggedImages is listImages without the untagged rows. */
export async function listTaggedImages(store: LocalStore): Promise<TaggedImage[]> {
  return (await listImages(store)).filter((i): i is TaggedImage => i.name !== undefined);
}

/** imageSize is the sum of the content sizes of an image's layers (what `docker images` shows as SIZE). */
export async function imageSize(store: LocalStore, img: ImageRecord): Promise<number> {
  let total = 0;
  const ids = img.config.rootfs.diff_ids;
  for (let i = 0; i < img.manifest.layers.length; i++) {
    total += await layerContentSize(store.content, ids[i]!, img.manifest.layers[i]!);
  }
  return total;
}

/** HistoryRow is one row of `history`: a history entry with its layer size and, where known, the image it completes. */
export interface HistoryRow {
  /** The image id whose history ends with this entry, or undefined (`<missing>`). */
  id: Digest | undefined;
  created: string | undefined;
  createdBy: string;
  size: number;
  comment: string;
}

/**
 * historyRows lists img's history newest first. Entries that added a layer take
 * the layers in order and show their content size; empty_layer entries show 0.
 * The top row carries img's id; a lower row carries the id of another local
 * image whose whole history and layers are exactly the prefix ending there
 * (its parent, e.g. the base a container was committed from), else none, as
 * Docker prints `<missing>` for history of images it does not have.
 */
export async function historyRows(store: LocalStore, img: ImageRecord, others: readonly ImageRecord[]): Promise<HistoryRow[]> {
  const history = img.config.history ?? [];
  const prefixIds = new Map<string, Digest>();
  for (const o of others) {
    if (o.id !== img.id) prefixIds.set(prefixKey(o.config, (o.config.history ?? []).length, o.config.rootfs.diff_ids.length), o.id);
  }
  const rows: HistoryRow[] = [];
  let layer = 0;
  for (let i = 0; i < history.length; i++) {
    const h = history[i]!;
    let size = 0;
    if (!h.empty_layer && layer < img.manifest.layers.length) {
      size = await layerContentSize(store.content, img.config.rootfs.diff_ids[layer]!, img.manifest.layers[layer]!);
      layer++;
    }
    const id = i === history.length - 1 ? img.id : prefixIds.get(prefixKey(img.config, i + 1, layer));
    rows.push({ id, created: h.created, createdBy: h.created_by ?? '', size, comment: h.comment ?? '' });
  }
  return rows.reverse();
}

/** prefixKey identifies the first n history entries of cfg together with the layers they added. */
function prefixKey(cfg: ImageConfig, n: number, layers: number): string {
  return canonicalJson({ history: (cfg.history ?? []).slice(0, n), layers: cfg.rootfs.diff_ids.slice(0, layers) });
}
