import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { Digest } from '../../../src/core/digest.ts';
import { bootId, type FlushFn } from '../../../src/store/deferredSync.ts';
import { ownId } from '../../../src/store/liveness.ts';
import { openStore } from '../../../src/store/openStore.ts';

// Blobs written with deferSync are renamed into place without an fsync each, after a
// durable marker; one flush hands every marker to a (detached) syncfs. After an OS
// crash the markers of the dead boot say which blobs to re-hash.

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
function tempRoot(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsbuild-deferred-'));
  dirs.push(d);
  return join(d, 'root');
}

/** recordingFlush stands for syncFsLater: it records the call and deletes the markers, as the detached sync does. */
function recordingFlush(): { calls: { path: string; done: string[] }[]; fn: FlushFn } {
  const calls: { path: string; done: string[] }[] = [];
  return { calls, fn: async (path, done) => { calls.push({ path, done: [...done] }); for (const f of done) rmSync(f, { force: true }); } };
}

const markers = (root: string) => (existsSync(join(root, 'unsynced')) ? readdirSync(join(root, 'unsynced')) : []);

describe('DeferredSync', () => {
  test('the first unsynced blob makes a durable marker of this boot; flush hands it over, and a later blob makes a new one', async () => {
    const root = tempRoot();
    const flush = recordingFlush();
    const store = await openStore(root, { deferSync: flush.fn });
    expect(markers(root)).toEqual([]);
    const a = await store.content.putBytes('config');
    const [m1] = markers(root);
    const owner = ownId(store.dirs.tmp);
    expect(m1).toMatch(new RegExp(`^${bootId()}-${owner}-`));
    expect(JSON.parse(readFileSync(join(root, 'unsynced', m1!), 'utf8'))).toMatchObject({ boot: bootId(), owner });
    const w = await store.content.writer();
    w.stream.end('layer bytes');
    const b = await w.commit();
    expect(markers(root)).toEqual([m1]);
    expect(await store.content.readBytes(a.digest)).toEqual(Buffer.from('config'));
    expect(await store.content.readBytes(b.digest)).toEqual(Buffer.from('layer bytes'));

    const noted = join(root, 'snapshot-marker');
    writeFileSync(noted, '');
    store.deferred!.note(noted);
    await store.deferred!.flush();
    expect(flush.calls).toEqual([{ path: store.dirs.root, done: [noted, join(store.dirs.root, 'unsynced', m1!)] }]);
    expect(markers(root)).toEqual([]);

    await store.content.putBytes('another');
    expect(markers(root)).toHaveLength(1);
    expect(markers(root)[0]).not.toBe(m1);
  });

  test('a flush with only a few small blobs fsyncs them itself, without starting the detached sync', async () => {
    const root = tempRoot();
    const flush = recordingFlush();
    const store = await openStore(root, { deferSync: flush.fn });
    const a = await store.content.putBytes('small');
    expect(markers(root)).toHaveLength(1);
    await store.deferred!.flush();
    expect(flush.calls).toEqual([]);
    expect(markers(root)).toEqual([]);
    expect(await store.content.readBytes(a.digest)).toEqual(Buffer.from('small'));
    // Past 16 MiB the detached sync takes it.
    const w = await store.content.writer();
    w.stream.end(Buffer.alloc(17 << 20, 1));
    await w.commit();
    await store.deferred!.flush();
    expect(flush.calls).toHaveLength(1);
  });

  test('a store opened without deferSync fsyncs as before and makes no marker; a flush with nothing written syncs nothing', async () => {
    const root = tempRoot();
    const plain = await openStore(root);
    await plain.content.putBytes('x');
    expect(plain.deferred).toBeUndefined();
    expect(markers(root)).toEqual([]);
    const flush = recordingFlush();
    const deferred = await openStore(root, { deferSync: flush.fn });
    await deferred.deferred!.flush();
    expect(flush.calls).toEqual([]);
  });

  test('markers of this boot left by dead processes go with the next flush; a live one stays', async () => {
    const root = tempRoot();
    const flush = recordingFlush();
    const store = await openStore(root, { deferSync: flush.fn });
    // An owner id nothing listens for (a dead process), and this process's own.
    const dead = '0123456789abcdef';
    const alive = ownId(store.dirs.tmp);
    mkdirSync(join(root, 'unsynced'), { recursive: true });
    const orphan = join(root, 'unsynced', `${bootId()}-${dead}-0000`);
    const live = join(root, 'unsynced', `${bootId()}-${alive}-0000`);
    writeFileSync(orphan, JSON.stringify({ boot: bootId(), owner: dead, since: Date.now() }));
    writeFileSync(live, JSON.stringify({ boot: bootId(), owner: alive, since: Date.now() }));
    await store.content.putBytes('y');
    await store.deferred!.flush();
    expect(flush.calls[0]!.done).toContain(orphan);
    expect(flush.calls[0]!.done).not.toContain(live);
    expect(existsSync(live)).toBe(true);
  });

  test('after a crash (a marker of another boot), blobs written since are re-hashed: torn ones go with their tags, the marker goes', async () => {
    const root = tempRoot();
    const first = await openStore(root);
    const good = await first.content.putBytes('{"good":true}');
    const torn = await first.content.putBytes('{"torn":true}');
    const oldTorn = await first.content.putBytes('{"old":true}');
    await first.tags.set('good:1', { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: good.digest, size: good.size });
    await first.tags.set('torn:1', { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: torn.digest, size: torn.size });
    // What a power cut can leave of a blob renamed before its data reached the disk.
    writeFileSync(first.content.path(torn.digest), Buffer.alloc(torn.size));
    // A blob older than the marker is not looked at, even if it were damaged.
    writeFileSync(first.content.path(oldTorn.digest), Buffer.alloc(oldTorn.size));
    utimesSync(first.content.path(oldTorn.digest), 1_000_000, 1_000_000);
    const marker = join(root, 'unsynced', 'other-boot-4242-abcd');
    mkdirSync(join(root, 'unsynced'), { recursive: true });
    writeFileSync(marker, JSON.stringify({ boot: 'other-boot', owner: '0000000000004242', since: Date.now() - 60_000 }));

    const damage: unknown[] = [];
    const reopened = await openStore(root, { onDamage: (d) => damage.push(d) });
    expect(damage).toEqual([
      { what: `blob ${torn.digest}`, problem: 'torn by an OS crash before it was synced', action: 'removed', fixed: true },
      { what: 'tag torn:1', problem: `its manifest ${torn.digest} was torn by an OS crash`, action: 'removed', fixed: true },
    ]);
    expect(await reopened.content.has(torn.digest)).toBe(false);
    expect(await reopened.content.has(good.digest)).toBe(true);
    expect(await reopened.content.has(oldTorn.digest as Digest)).toBe(true);
    expect((await reopened.tags.list()).map((t) => t.name)).toEqual(['good:1']);
    expect(existsSync(marker)).toBe(false);
  });
});
