import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { StoreDamage } from '../../../src/core/damage.ts';
import { sha256Of, type Digest } from '../../../src/core/digest.ts';
import type { Descriptor } from '../../../src/oci/types.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';

// What an OS crash (or a failing disk) does to a file, and how the store heals each kind of
// file: blobs are checked against their digest when read whole (small ones) and when written
// again; index.json falls back to the copy from before its last change.

let root: string;
let store: LocalStore;
let damage: StoreDamage[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tsbuild-heal-'));
  damage = [];
  store = await openStore(root, { onDamage: (d) => damage.push(d) });
});
afterEach(async () => { await rm(root, { recursive: true, force: true }); });

/** HARM are the ways a crash leaves a file: emptied, cut in half, overwritten with garbage. */
const HARM: Array<[string, (path: string) => void]> = [
  ['truncated to 0 bytes', (p) => truncateSync(p, 0)],
  ['cut in half', (p) => truncateSync(p, Math.floor(readFileSync(p).length / 2))],
  ['garbage of the same size', (p) => writeFileSync(p, randomBytes(readFileSync(p).length))],
];

const staged = () => readdirSync(join(root, 'tmp')).filter((n) => n !== 'locks' && n !== 'live');

describe('blobs', () => {
  test.each(HARM)('a small blob %s: reading it removes it (BLOB_UNKNOWN) and reports it', async (_n, harm) => {
    const { digest } = await store.content.putBytes('{"config":"x"}');
    harm(store.content.path(digest));
    await expect(store.content.readJson(digest)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN', message: expect.stringMatching(/damaged/) });
    expect(await store.content.has(digest)).toBe(false);
    expect(damage).toMatchObject([{ what: `blob ${digest}`, problem: expect.stringMatching(/does not match its digest/), action: 'removed', fixed: true }]);
  });

  test.each(HARM)('a small blob %s: putBytes of its content replaces it', async (_n, harm) => {
    const { digest } = await store.content.putBytes('{"a":1}');
    harm(store.content.path(digest));
    await store.content.putBytes('{"a":1}');
    expect(readFileSync(store.content.path(digest), 'utf8')).toBe('{"a":1}');
    expect(damage).toMatchObject([{ what: `blob ${digest}`, action: 'replaced with a good copy', fixed: true }]);
    await store.content.putBytes('{"a":1}');
    expect(damage).toHaveLength(1);
    expect(staged()).toEqual([]);
  });

  test.each(HARM.slice(0, 2))('a layer blob %s: writing the layer again replaces it', async (_n, harm) => {
    const data = randomBytes(300_000);
    const write = async () => {
      const w = await store.content.writer();
      await pipeline(Readable.from([data]), w.stream, { end: false });
      return w.commit();
    };
    const { digest } = await write();
    harm(store.content.path(digest));
    await write();
    expect(readFileSync(store.content.path(digest)).equals(data)).toBe(true);
    expect(damage).toMatchObject([{ what: `blob ${digest}`, action: 'replaced with a good copy', fixed: true }]);
    expect(staged()).toEqual([]);
  });

  test('check hashes a blob whole: sound, absent, damaged', async () => {
    const { digest } = await store.content.putBytes(randomBytes(5000));
    expect(await store.content.check(digest)).toBe('sound');
    expect(await store.content.check(sha256Of('nothing'))).toBe('absent');
    writeFileSync(store.content.path(digest), randomBytes(5000));
    expect(await store.content.check(digest)).toBe('damaged');
  });
});

describe('index.json', () => {
  const desc = (s: string): Descriptor => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Of(s) as Digest, size: s.length });
  const indexPath = () => join(root, 'oci', 'index.json');

  test('every change keeps the index from before it (a hard link, outside the layout)', async () => {
    await store.tags.set('a', desc('a'));
    await store.tags.set('b', desc('b'));
    const prev = JSON.parse(readFileSync(join(root, 'index.json.prev'), 'utf8'));
    expect(prev.manifests.map((m: Descriptor) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['a:latest']);
    expect(readdirSync(join(root, 'oci')).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  test.each([...HARM, ['not an index', (p: string) => writeFileSync(p, '{"schemaVersion":2}')] as [string, (p: string) => void]])(
    'an index.json %s is replaced by the copy from before its last change, with one report', async (_n, harm) => {
      await store.tags.set('a', desc('a'));
      await store.tags.set('b', desc('b'));
      harm(indexPath());
      expect((await store.tags.list()).map((t) => t.name)).toEqual(['a:latest']);
      expect(damage).toMatchObject([{ what: 'oci/index.json', action: expect.stringMatching(/copy from before its last change/), fixed: true }]);
      expect((await store.tags.list()).map((t) => t.name)).toEqual(['a:latest']);
      expect(damage).toHaveLength(1);
      await store.tags.set('b', desc('b'));
      expect((await store.tags.list()).map((t) => t.name)).toEqual(['a:latest', 'b:latest']);
    });

  test('with no good earlier copy it starts empty, keeping the damaged file beside the layout', async () => {
    await store.tags.set('a', desc('a'));
    writeFileSync(indexPath(), '{"schemaVersion":2,"manifests":[{"dig');
    writeFileSync(join(root, 'index.json.prev'), '');
    expect(await store.tags.list()).toEqual([]);
    expect(damage).toMatchObject([{ what: 'oci/index.json', action: expect.stringMatching(/tags are lost/), fixed: true }]);
    const kept = readdirSync(root).filter((n) => n.startsWith('index.json.damaged-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(root, kept[0]!), 'utf8')).toMatch(/"dig$/);
    await store.tags.set('c', desc('c'));
    expect((await store.tags.list()).map((t) => t.name)).toEqual(['c:latest']);
  });

  test('a damaged index.json heals under the lock, also when a change is what reads it', async () => {
    await store.tags.set('a', desc('a'));
    await store.tags.set('b', desc('b'));
    truncateSync(indexPath(), 0);
    await store.tags.set('c', desc('c'));
    expect((await store.tags.list()).map((t) => t.name)).toEqual(['a:latest', 'c:latest']);
    expect(damage).toHaveLength(1);
  });

  test('check reports without repairing in a dry run, and repairs when asked', async () => {
    await store.tags.set('a', desc('a'));
    await store.tags.set('b', desc('b'));
    truncateSync(indexPath(), 0);
    const dry: StoreDamage[] = [];
    expect(await store.tags.check(false, (d) => dry.push(d))).toBe('empty');
    expect(dry).toMatchObject([{ action: expect.stringMatching(/^would be replaced/), fixed: false }]);
    expect(readFileSync(indexPath(), 'utf8')).toBe('');
    const fixed: StoreDamage[] = [];
    expect(await store.tags.check(true, (d) => fixed.push(d))).toBe('empty');
    expect(fixed).toMatchObject([{ fixed: true }]);
    expect(await store.tags.check(true, () => {})).toBeUndefined();
    expect(existsSync(indexPath())).toBe(true);
  });
});
