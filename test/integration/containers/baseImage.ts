import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { DiffID } from '../../../src/core/digest.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import type { ImageConfig } from '../../../src/oci/types.ts';
import { tagImage, writeImage } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';

/** BaseImageOptions shape the config of an imported base image. */
export interface BaseImageOptions {
  cmd?: string[];
  created?: string;
}

/**
 * importRootfsTar makes a one-layer base image `name` from an uncompressed
 * rootfs tar, shaped like Docker Hub's base images (an ADD history entry with
 * the layer, a CMD entry without one). It goes through the store's own API,
 * so these tests do not depend on `tsbuild import`.
 */
export async function importRootfsTar(root: string, tarPath: string, name: string, o: BaseImageOptions = {}): Promise<void> {
  const store = await openStore(root);
  const w = await store.content.writer();
  await pipeline(createReadStream(tarPath), w.stream);
  const { digest, size } = await w.commit();
  const created = o.created ?? '2024-01-01T00:00:00Z';
  const cmd = o.cmd ?? ['sh'];
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: cmd },
    rootfs: { type: 'layers', diff_ids: [digest as string as DiffID] },
    history: [
      { created, created_by: `/bin/sh -c #(nop) ADD file:${digest.slice(7, 23)} in / ` },
      { created, created_by: `/bin/sh -c #(nop)  CMD ${JSON.stringify(cmd)}`, empty_layer: true },
    ],
  };
  const desc = await writeImage(store.content, { config, layers: [{ mediaType: MediaType.OciLayer, digest, size }] });
  await tagImage(store.tags, name, desc);
}
