import type { Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import { loadImage } from '../store/images.ts';
import { normalizeTag } from '../store/refs.ts';
import type { IndexEntry, LocalStore, RemoveTagOptions } from '../store/types.ts';
import type { ContainerStore } from './ContainerStore.ts';
import { findImage } from './findImage.ts';
import { shortId } from './format/humanize.ts';
import type { ContainerView } from './types.ts';

/**
 * removeImage is one argument of `rmi`, with Docker's rules (as its containerd
 * image store has them). A name is untagged; when it was the image's last name
 * and a container uses the image, that needs force, and the image stays,
 * untagged (`<none>:<none>`), usable by id. An id removes every name of the
 * image and the image: several names need force, a stopped container using it
 * needs force, a running one cannot be forced. Conflicts throw IMAGE_IN_USE
 * with Docker's wording. Blobs and snapshots stay (other images and containers
 * may share them). Returns the lines to print: `Untagged: NAME`…, then
 * `Deleted: ID` when the image left index.json.
 */
export async function removeImage(store: LocalStore, containers: ContainerStore, ref: string, opts: { force: boolean }): Promise<string[]> {
  const img = await findImage(store, ref);
  const entries = await entriesOf(store, img.id);
  const names = entries.flatMap((e) => (e.name === undefined ? [] : [e.name]));
  const users = (await containers.list()).filter((c) => c.image.id === img.id);
  const asName = tryNormalize(ref);
  const byName = asName !== undefined && names.includes(asName);
  if (byName && names.length > 1) return untag(store, [asName]);
  if (byName) {
    const user = users[0];
    if (user && !opts.force) {
      throw new TsbuildError('IMAGE_IN_USE', `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(img.id)}`);
    }
    if (user) return untag(store, names, { keepImage: true });
    return deleteImage(store, img.id, entries);
  }
  const running = users.find((c) => c.state.status === 'running');
  if (running) throw inUse(img.id, 'cannot be forced', `image is being used by running container ${shortId(running.id)}`);
  if (names.length > 1 && !opts.force) throw inUse(img.id, 'must be forced', 'image is referenced in multiple repositories');
  const stopped: ContainerView | undefined = users[0];
  if (stopped && !opts.force) throw inUse(img.id, 'must be forced', `image is being used by stopped container ${shortId(stopped.id)}`);
  return deleteImage(store, img.id, entries);
}

/** deleteImage removes every entry of image id from index.json: its names, then its untagged entries. */
async function deleteImage(store: LocalStore, id: Digest, entries: readonly IndexEntry[]): Promise<string[]> {
  const lines = await untag(store, entries.flatMap((e) => (e.name === undefined ? [] : [e.name])));
  for (const e of entries) if (e.name === undefined) await store.tags.forget(e.descriptor.digest);
  return [...lines, `Deleted: ${id}`];
}

function inUse(id: Digest, how: string, why: string): TsbuildError {
  return new TsbuildError('IMAGE_IN_USE', `conflict: unable to delete ${shortId(id)} (${how}) - ${why}`);
}

function tryNormalize(ref: string): string | undefined {
  try {
    return normalizeTag(ref);
  } catch {
    return undefined;
  }
}

/** entriesOf lists the index.json entries (names and untagged ones) whose manifest belongs to image id. */
async function entriesOf(store: LocalStore, id: Digest): Promise<IndexEntry[]> {
  const out: IndexEntry[] = [];
  for (const e of await store.tags.entries()) {
    const rec = await loadImage(store.content, e.descriptor).catch(() => undefined);
    if (rec?.id === id) out.push(e);
  }
  return out;
}

async function untag(store: LocalStore, names: readonly string[], opts: RemoveTagOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for (const n of names) if (await store.tags.remove(n, opts)) out.push(`Untagged: ${n}`);
  return out;
}
