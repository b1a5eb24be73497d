import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { CacheStore } from '../../../src/cache/CacheStore.ts';
import type { CacheRecord } from '../../../src/cache/types.ts';
import type { StoreDamage } from '../../../src/core/damage.ts';
import { sha256Of, type Digest, type DiffID } from '../../../src/core/digest.ts';

// A cache record an OS crash tore (empty, cut, garbage) or that is not a record of its key
// is a miss with one report, and is removed: the step runs again and writes it afresh.

let root: string;
let damage: StoreDamage[];
let cache: CacheStore;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tsbuild-cachestore-'));
  damage = [];
  cache = new CacheStore(root, { onDamage: (d) => damage.push(d) });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const key = sha256Of('step');
const layerDigest = sha256Of('layer');
const rec: CacheRecord = { key, layer: { diffID: layerDigest as string as DiffID, digest: layerDigest, size: 2048, mediaType: 'application/vnd.oci.image.layer.v1.tar' }, created: '2024-01-02T03:04:05.000Z', createdBy: 'RUN x' };
const file = () => join(root, 'cache', 'keys', key.slice('sha256:'.length));

const HARM: Array<[string, () => void, RegExp]> = [
  ['truncated to 0 bytes', () => truncateSync(file(), 0), /^empty$/],
  ['cut in half', () => truncateSync(file(), Math.floor(readFileSync(file()).length / 2)), /not JSON/],
  ['garbage', () => writeFileSync(file(), randomBytes(200)), /not JSON/],
  ['JSON null', () => writeFileSync(file(), 'null'), /want a cache record/],
  ['the record of another key', () => writeFileSync(file(), JSON.stringify({ ...rec, key: sha256Of('other') })), /another key/],
  ['a layer without digest', () => writeFileSync(file(), JSON.stringify({ ...rec, layer: { size: 1 } })), /layer\.diffID/],
  ['a layer with a bad size', () => writeFileSync(file(), JSON.stringify({ ...rec, layer: { ...rec.layer, size: -1 } })), /layer\.size: want a byte count/],
  ['no created time', () => writeFileSync(file(), JSON.stringify({ ...rec, created: 'yesterday' })), /created time/],
  ['a directory', () => { rmSync(file()); mkdirSync(file()); }, /directory/],
];

describe('a damaged cache record', () => {
  test.each(HARM)('%s: a miss, reported once, removed, and written again by put', async (_n, harm, problem) => {
    await cache.put(rec);
    expect(await cache.get(key)).toEqual(rec);
    harm();
    expect(await cache.get(key)).toBeUndefined();
    expect(damage).toEqual([{ what: `cache record ${key}`, problem: expect.stringMatching(problem), action: 'removed; the step runs again', fixed: true }]);
    expect(existsSync(file())).toBe(false);
    expect(await cache.get(key)).toBeUndefined();
    expect(damage).toHaveLength(1);
    await cache.put(rec);
    expect(await cache.get(key)).toEqual(rec);
  });

  test('a record with no layer (a step that changed nothing) is sound', async () => {
    await cache.put({ ...rec, layer: null });
    expect(await cache.get(key)).toEqual({ ...rec, layer: null });
    expect(damage).toEqual([]);
  });
});

describe('check (fsck)', () => {
  test('reports torn records, records whose layer is rejected and stray files; removes them only with repair', async () => {
    const good: CacheRecord = { ...rec, key: sha256Of('good') };
    const orphan: CacheRecord = { ...rec, key: sha256Of('orphan'), layer: { ...rec.layer!, digest: sha256Of('gone') as Digest } };
    await cache.put(good);
    await cache.put(orphan);
    await cache.put(rec);
    truncateSync(file(), 0);
    writeFileSync(join(root, 'cache', 'keys', 'stray.tmp'), 'x');
    const layerOk = async (r: CacheRecord) => (r.layer?.digest === layerDigest ? undefined : `layer blob ${r.layer?.digest} is missing`);
    const dry: StoreDamage[] = [];
    expect((await cache.check({ repair: false, onDamage: (d) => dry.push(d), layerOk })).map((r) => r.key)).toEqual([good.key]);
    expect(dry.map((d) => [d.what, d.fixed]).sort()).toEqual([
      [`cache record ${key}`, false], [`cache record ${orphan.key}`, false], ['cache/keys/stray.tmp', false],
    ].sort());
    const fixed: StoreDamage[] = [];
    await cache.check({ repair: true, onDamage: (d) => fixed.push(d), layerOk });
    expect(fixed.every((d) => d.fixed)).toBe(true);
    expect((await cache.list()).map((r) => r.key)).toEqual([good.key]);
    const again: StoreDamage[] = [];
    await cache.check({ repair: true, onDamage: (d) => again.push(d), layerOk });
    expect(again).toEqual([]);
  });
});
