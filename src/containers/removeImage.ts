import type { Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import { loadImage } from '../store/images.ts';
import { normalizeTag } from '../store/refs.ts';
import type { LocalStore } from '../store/types.ts';
import type { ContainerStore } from './ContainerStore.ts';
import { findImage } from './findImage.ts';
import { shortId } from './format/humanize.ts';
import type { ContainerView } from './types.ts';

/**
 * removeImage is one argument of `rmi`, with Docker's rules. A name is untagged;
 * when it was the image's last name and a container uses the image, that needs
 * force. An id removes every name of the image: several names need force, a
 * stopped container using it needs force, a running one cannot be forced.
 * Conflicts throw IMAGE_IN_USE with Docker's wording. Blobs and snapshots stay
 * (other images may share them; `prune` collects what nothing reaches).
 * Returns the lines to print: `Untagged: NAME`…, then `Deleted: ID` when no name is left.
 */
export async function removeImage(store: LocalStore, containers: ContainerStore, ref: string, opts: { force: boolean }): Promise<string[]> {
  const img = await findImage(store, ref);
  const names = await namesOf(store, img.id);
  const users = (await containers.list()).filter((c) => c.image.id === img.id);
  const byName = names.includes(tryNormalize(ref) ?? '');
  if (byName && names.length > 1) return untag(store, [tryNormalize(ref)!]);
  if (byName) {
    const user = users[0];
    if (user && !opts.force) {
      throw new TsbuildError('IMAGE_IN_USE', `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(img.id)}`);
    }
    return [...(await untag(store, names)), ...(user ? [] : [`Deleted: ${img.id}`])];
  }
  const running = users.find((c) => c.state.status === 'running');
  if (running) throw inUse(img.id, 'cannot be forced', `image is being used by running container ${shortId(running.id)}`);
  if (names.length > 1 && !opts.force) throw inUse(img.id, 'must be forced', 'image is referenced in multiple repositories');
  const stopped: ContainerView | undefined = users[0];
  if (stopped && !opts.force) throw inUse(img.id, 'must be forced', `image is being used by stopped container ${shortId(stopped.id)}`);
  return [...(await untag(store, names)), ...(stopped ? [] : [`Deleted: ${img.id}`])];
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

/** namesOf lists the tags whose manifest belongs to image id. */
async function namesOf(store: LocalStore, id: Digest): Promise<string[]> {
  const out: string[] = [];
  for (const { name, descriptor } of await store.tags.list()) {
    const rec = await loadImage(store.content, descriptor).catch(() => undefined);
    if (rec?.id === id) out.push(name);
  }
  return out;
}

async function untag(store: LocalStore, names: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of names) if (await store.tags.remove(n)) out.push(`Untagged: ${n}`);
  return out;
}
