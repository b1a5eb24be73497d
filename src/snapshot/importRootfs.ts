import { mkdir, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import type { Descriptor, ImageConfig } from '../oci/types.ts';
import { tmpName } from '../store/atomicFile.ts';
import { tagImage, writeImage } from '../store/images.ts';
import type { LocalStore } from '../store/types.ts';
import { applyLayer } from './applyLayer.ts';
import type { OverlaySnapshotter } from './OverlaySnapshotter.ts';
import type { LayerBlob } from './types.ts';

/** ImportOptions describe one `tsbuild import`. */
export interface ImportOptions {
  /** The tarball (plain or gzip). */
  input: Readable;
  /** How the user named the source (a path or `-`), recorded in history. */
  source: string;
  /** Tag for the image; none leaves it untagged. */
  tag?: string;
  /** Image creation time (ISO 8601). */
  created: string;
  architecture: string;
  /** Clamp file mtimes to this (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
}

/** ImportResult is the new image: id (config digest), manifest, its one layer, and the stored tag. */
export interface ImportResult {
  id: Digest;
  manifest: Descriptor;
  layer: LayerBlob;
  tag?: string;
}

/**
 * importRootfs makes a one-layer image from a root filesystem tarball, as
 * `docker import` does, with a minimal config (no Env, no Cmd). The tarball is
 * extracted safely into tmp/ and re-archived deterministically, so equal trees
 * give equal layers whatever tool made the tarball; the extracted tree is kept
 * as the layer's snapshot. An empty tarball gives an image with an empty layer.
 */
export async function importRootfs(store: LocalStore, snaps: OverlaySnapshotter, opts: ImportOptions): Promise<ImportResult> {
  const dir = tmpName(store.dirs.tmp, 'import');
  await mkdir(dir, { mode: 0o755 });
  try {
    await applyLayer(opts.input, dir, { whiteouts: 'delete' });
    const layer = (await snaps.commitDir(dir, opts.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: opts.sourceDateEpoch }))
      ?? (await emptyLayer(store));
    const config: ImageConfig = {
      architecture: opts.architecture,
      os: 'linux',
      created: opts.created,
      config: {},
      rootfs: { type: 'layers', diff_ids: [layer.diffID] },
      history: [{ created: opts.created, created_by: `tsbuild import ${opts.source}` }],
    };
    const manifest = await writeImage(store.content, { config, layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }] });
    const id = (await store.content.readJson<{ config: { digest: Digest } }>(manifest.digest)).config.digest;
    const result: ImportResult = { id, manifest, layer };
    if (opts.tag !== undefined) result.tag = await tagImage(store.tags, opts.tag, manifest);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** emptyLayer stores the 1024-zero-byte tar of an empty tree (what Docker gives an empty import). */
async function emptyLayer(store: LocalStore): Promise<LayerBlob> {
  const { digest, size } = await store.content.putBytes(Buffer.alloc(1024));
  return { diffID: digest as string as LayerBlob['diffID'], digest, size, mediaType: 'application/vnd.oci.image.layer.v1.tar' };
}

/** importError names the source in a failure of the import. */
export function importError(source: string, e: unknown): unknown {
  if (e instanceof TsbuildError) return new TsbuildError(e.code, `import ${source}: ${e.message}`, { cause: e, ...(e.hint ? { hint: e.hint } : {}) });
  const err = e as { code?: string; message?: string };
  return new TsbuildError('IO', `import ${source}: ${err.message ?? String(e)}`, { cause: e });
}
