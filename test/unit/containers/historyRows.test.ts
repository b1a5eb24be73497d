import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { historyRows, splitName } from '../../../src/containers/imageViews.ts';
import type { DiffID } from '../../../src/core/digest.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import type { HistoryEntry, ImageConfig } from '../../../src/oci/types.ts';
import { encodeHeader, END_OF_ARCHIVE, paddingFor } from '../../../src/snapshot/tarFormat.ts';
import { loadImage, writeImage, type ImageRecord } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';

let root: string;
let store: LocalStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tsbuild-hist-'));
  store = await openStore(root);
});
afterEach(async () => { await rm(root, { recursive: true, force: true }); });

/** layer stores a one-file layer tar whose file has size bytes. */
async function layer(name: string, size: number) {
  const body = Buffer.alloc(size, 1);
  const tar = Buffer.concat([encodeHeader({ path: name, kind: 'file', mode: 0o644, uid: 0, gid: 0, size, mtime: 0 }), body, Buffer.alloc(paddingFor(size)), END_OF_ARCHIVE]);
  const { digest, size: blobSize } = await store.content.putBytes(tar);
  return { diffID: digest as string as DiffID, desc: { mediaType: MediaType.OciLayer, digest, size: blobSize } };
}

async function image(layers: Awaited<ReturnType<typeof layer>>[], history: HistoryEntry[]): Promise<ImageRecord> {
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) }, history };
  return loadImage(store.content, await writeImage(store.content, { config, layers: layers.map((l) => l.desc) }));
}

describe('historyRows', () => {
  test('newest first; layer entries show their files\' size, empty ones 0; ids for the top and known parents only', async () => {
    const base = await layer('bin/tool', 1500);
    const added = await layer('app', 9);
    const baseHistory: HistoryEntry[] = [
      { created: '2024-01-01T00:00:00Z', created_by: 'ADD rootfs' },
      { created: '2024-01-01T00:00:00Z', created_by: 'CMD ["sh"]', empty_layer: true },
    ];
    const parent = await image([base], baseHistory);
    const child = await image([base, added], [...baseHistory, { created: '2024-02-01T00:00:00Z', created_by: 'sh', comment: 'Add app' }]);
    const rows = await historyRows(store, child, [parent, child]);
    expect(rows).toEqual([
      { id: child.id, created: '2024-02-01T00:00:00Z', createdBy: 'sh', size: 9, comment: 'Add app' },
      { id: parent.id, created: '2024-01-01T00:00:00Z', createdBy: 'CMD ["sh"]', size: 0, comment: '' },
      { id: undefined, created: '2024-01-01T00:00:00Z', createdBy: 'ADD rootfs', size: 1500, comment: '' },
    ]);
    // Without the parent in the store, only the top row has an id.
    expect((await historyRows(store, child, [child])).map((r) => r.id)).toEqual([child.id, undefined, undefined]);
  });
});

describe('splitName', () => {
  test.each([
    ['busybox:latest', 'busybox', 'latest'],
    ['localhost:5000/team/app:v2', 'localhost:5000/team/app', 'v2'],
    [`app@sha256:${'a'.repeat(64)}`, 'app', '<none>'],
    [`app:1@sha256:${'a'.repeat(64)}`, 'app', '1'],
  ])('%s', (name, repository, tag) => {
    expect(splitName(name)).toEqual({ repository, tag });
  });
});
