import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ContainerStore, type NewContainer } from '../../../src/containers/ContainerStore.ts';
import { ownId } from '../../../src/store/liveness.ts';
import type { Digest } from '../../../src/core/digest.ts';
import { openStore } from '../../../src/store/openStore.ts';

let root: string;
let cs: ContainerStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tsbuild-cs-'));
  cs = new ContainerStore(await openStore(root));
});
afterEach(async () => { await rm(root, { recursive: true, force: true }); });

const digest = `sha256:${'1'.repeat(64)}` as Digest;
function spec(name?: string): NewContainer {
  return {
    ...(name ? { name } : {}),
    image: { id: digest, manifest: digest, ref: 'busybox', layers: [] },
    path: 'sh',
    args: ['-c', 'true'],
    config: { Cmd: ['sh', '-c', 'true'] },
    hostConfig: { network: 'host', tty: false, interactive: false, autoRemove: false },
  };
}
let clock = Date.parse('2024-01-01T00:00:00Z');
const tick = () => new Date((clock += 1000));

describe('ContainerStore', () => {
  test('create writes a record with a 64-hex id, a random name when none is given, status created', async () => {
    const c = await cs.create(spec(), tick());
    expect(c.id).toMatch(/^[0-9a-f]{64}$/);
    expect(c.name).toMatch(/^[a-z]+_[a-z_]+$/);
    expect(c.state).toEqual({ status: 'created' });
    expect(c.dir).toBe(join(root, 'containers', c.id));
    expect(await readdir(c.dir)).toEqual(['container.json']);
  });

  test('a name in use is refused with Docker\'s message', async () => {
    const a = await cs.create(spec('web'), tick());
    await expect(cs.create(spec('web'), tick())).rejects.toThrow(
      `Conflict. The container name "/web" is already in use by container "${a.id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
    await expect(cs.create(spec('bad name'), tick())).rejects.toThrow(/Invalid container name/);
  });

  test('resolve: full id, name (with or without /), unique id prefix; misses and ambiguity are clear', async () => {
    const a = await cs.create(spec('alpha'), tick());
    const b = await cs.create(spec('beta'), tick());
    expect((await cs.resolve(a.id)).name).toBe('alpha');
    expect((await cs.resolve('/beta')).id).toBe(b.id);
    expect((await cs.resolve(b.id.slice(0, 12))).name).toBe('beta');
    await expect(cs.resolve('gamma')).rejects.toThrow('No such container: gamma');
    if (a.id[0] === b.id[0]) await expect(cs.resolve(a.id[0]!)).rejects.toThrow(/multiple IDs/);
  });

  test('list is newest first; update is read-modify-write; delete removes the directory', async () => {
    const a = await cs.create(spec('one'), tick());
    const b = await cs.create(spec('two'), tick());
    expect((await cs.list()).map((c) => c.name)).toEqual(['two', 'one']);
    const upd = await cs.update(a.id, (r) => { r.state = { status: 'exited', exitCode: 3 }; });
    expect(upd?.state.exitCode).toBe(3);
    expect((await cs.resolve('one')).state).toEqual({ status: 'exited', exitCode: 3 });
    await cs.delete(b.id);
    await cs.delete(b.id); // twice is fine
    expect(await cs.update(b.id, () => undefined)).toBeUndefined();
    expect((await cs.list()).map((c) => c.name)).toEqual(['one']);
    expect(await readdir(join(root, 'containers'))).toEqual([a.id]);
  });

  test('a running record whose supervisor is gone reads as exited (255); a live one stays running', async () => {
    const dead = await cs.create(spec('dead'), tick());
    // An owner id nothing listens for: its process is gone (in whatever PID namespace it ran).
    await cs.update(dead.id, (r) => { r.state = { status: 'running', owner: '0123456789abcdef', pid: process.pid }; });
    expect((await cs.resolve('dead')).state).toMatchObject({ status: 'exited', exitCode: 255 });

    const live = await cs.create(spec('live'), tick());
    await cs.update(live.id, (r) => { r.state = { status: 'running', owner: ownId(join(root, 'tmp')), pid: 1 }; });
    expect((await cs.resolve('live')).state.status).toBe('running');
    // A record that names no owner (an older tsbuild's) supervises nothing we can know of.
    await cs.update(live.id, (r) => { delete r.state.owner; });
    expect((await cs.resolve('live')).state.status).toBe('exited');
  });

  test('concurrent creates with one name: exactly one wins', async () => {
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => cs.create(spec('same'), tick())));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });
});

describe('a damaged container record', () => {
  test.each([
    ['truncated to 0', ''],
    ['cut in half', '{"id":"'],
    ['another container\'s', 'SELF'],
  ])('%s: left alone and reported; the other containers stay usable', async (_n, text) => {
    const damage: unknown[] = [];
    const store = await openStore(root);
    const watched = new ContainerStore(store, { onDamage: (d) => damage.push(d) });
    const ok = await watched.create(spec('keep'), tick());
    const bad = await watched.create(spec('torn'), tick());
    const { writeFileSync, readFileSync } = await import('node:fs');
    const file = join(bad.dir, 'container.json');
    writeFileSync(file, text === 'SELF' ? readFileSync(join(ok.dir, 'container.json')) : text);
    expect((await watched.list()).map((c) => c.name)).toEqual(['keep']);
    expect(damage).toMatchObject([{ what: `container ${bad.id.slice(0, 12)}`, fixed: false }]);
    expect((await watched.create(spec('torn'), tick())).name).toBe('torn');
    const found: unknown[] = [];
    expect(await watched.check((d) => found.push(d))).toBe(1);
    expect(found).toMatchObject([{ action: expect.stringMatching(/remove that directory to drop it/), fixed: false }]);
    expect(readFileSync(file).length).toBe(text === 'SELF' ? readFileSync(join(ok.dir, 'container.json')).length : text.length);
  });
});
