import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadArchive } from '../../../src/archive/loadArchive.ts';
import { readImage } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'docker20-save.tar');

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'tsbuild-dockersave-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('real Docker 20.10 `docker save` output loads with the image ids Docker reported', async () => {
  const store = await openStore(join(tmp, 'root'));
  const res = await loadArchive(store, createReadStream(FIXTURE));
  expect(res.tags.sort()).toEqual(['tiny:1', 'tiny:2']);
  const one = await readImage(store, 'tiny:1');
  const two = await readImage(store, 'tiny:2');
  expect(one.id).toBe('sha256:d330cb2a48c8b01988e762e6a9934ffb7d19926808aa017bbb10a04c2beb3341');
  expect(two.id).toBe('sha256:3315ec79f30efd3d6705290c95f77178c3b00c2697bbd6dcec3fd4604e187a50');
  expect(two.manifest.layers).toHaveLength(3);
  // The base layer arrives as a symlink in the archive and is the same blob in both images.
  expect(two.manifest.layers[0]!.digest).toBe(one.manifest.layers[0]!.digest);
  expect(two.config.config.Env).toContain('X=1');
});
