import { join } from 'node:path';
import type { ImageRecord } from '../store/images.ts';
import type { ContainerDeps } from './deps.ts';
import { containerConfig, type RunOverrides } from './runConfig.ts';
import type { ContainerView, HostConfig } from './types.ts';

/** CreateOptions are `run`'s options that shape a new container. */
export interface CreateOptions extends RunOverrides {
  name?: string;
  /** The image reference as the user gave it. */
  ref: string;
  host: HostConfig;
}

/** rootfsDir is where a container's snapshot (upper/, work/, merged/) lives inside its directory. */
export function rootfsDir(c: { dir: string }): string {
  return join(c.dir, 'fs');
}

/**
 * createContainer makes a container from img: the image's layers are extracted
 * (once, shared with builds), the record is written (status created, name
 * checked for uniqueness) and a fresh upper layer is prepared over the layers.
 * If preparing fails, the record goes again.
 */
export async function createContainer(deps: ContainerDeps, img: ImageRecord, o: CreateOptions): Promise<ContainerView> {
  const { config, argv } = containerConfig(img.config.config, o);
  const layers = img.config.rootfs.diff_ids;
  for (let i = 0; i < layers.length; i++) {
    const desc = img.manifest.layers[i]!;
    await deps.snapshotter.ensure(layers[i]!, () => deps.store.content.open(desc.digest));
  }
  const c = await deps.containers.create({
    ...(o.name !== undefined ? { name: o.name } : {}),
    image: { id: img.id, manifest: img.manifestDesc.digest, ref: o.ref, layers: [...layers] },
    path: argv[0]!,
    args: argv.slice(1),
    config,
    hostConfig: o.host,
  }, deps.now());
  try {
    await deps.snapshotter.prepare(rootfsDir(c), layers);
  } catch (e) {
    await deps.containers.delete(c.id);
    throw e;
  }
  return c;
}
