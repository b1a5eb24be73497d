import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { acquireLock, tryLock, withFileLock } from '../../../src/store/lock.ts';
import { openStore } from '../../../src/store/openStore.ts';

let dir: string;
let tmp: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-lock-'));
  tmp = join(dir, 'tmp');
});
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

/** holder runs the liveness fixture holding store lock `held` at root; resolves once it holds it. */
async function holder(root: string) {
  const worker = join(dir, 'holder.mjs');
  await build({ entryPoints: [join(import.meta.dirname, '../../integration/store/fixtures/holder.ts')], bundle: true, platform: 'node', format: 'esm', outfile: worker, logLevel: 'error' });
  const child = spawn(process.execPath, [worker, root, 'lock'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    child.on('close', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return child;
}

describe('withFileLock', () => {
  test('serialises holders in one process and leaves no entry', async () => {
    let inside = 0;
    let max = 0;
    await Promise.all(Array.from({ length: 10 }, () => withFileLock(tmp, 'x', async () => {
      inside++; max = Math.max(max, inside);
      await new Promise((r) => setTimeout(r, 2));
      inside--;
    })));
    expect(max).toBe(1);
    expect(await readdir(join(tmp, 'locks'))).toEqual([]);
  });

  test('releases the lock when fn throws', async () => {
    await expect(withFileLock(tmp, 'x', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await withFileLock(tmp, 'x', async () => 42)).toBe(42);
  });

  test("a dead process's entry is removed, a live one's is waited for", async () => {
    await mkdir(join(tmp, 'locks'), { recursive: true });
    // The owner id of a process that never listened (or died): nothing answers for it.
    await writeFile(join(tmp, 'locks', 'x@0123456789abcdef-00'), '');
    expect(await withFileLock(tmp, 'x', async () => 'ok', { timeoutMs: 2000 })).toBe('ok');
    expect(await readdir(join(tmp, 'locks'))).toEqual([]);
  });

  test('times out with LOCKED while a live process holds it; takes it once that process is SIGKILLed', async () => {
    const child = await holder(dir);
    try {
      await expect(withFileLock(tmp, 'held', async () => 'no', { timeoutMs: 300 })).rejects.toMatchObject({ code: 'LOCKED' });
      expect(await tryLock(tmp, 'held')).toBeUndefined();
      const taken = withFileLock(tmp, 'held', async () => 'yes');
      expect(await within(taken, 500)).toBe('timeout');
      child.kill('SIGKILL');
      expect(await within(taken, 5000)).toBe('yes');
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('tryLock gives undefined while the lock is held in this process, a release once free', async () => {
    const release = await acquireLock(tmp, 'x');
    expect(await tryLock(tmp, 'x')).toBeUndefined();
    await release();
    const again = await tryLock(tmp, 'x');
    expect(again).toBeDefined();
    await again!();
  });

  test('refuses a name that is not a lock name', async () => {
    await expect(acquireLock(tmp, 'a@b')).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

test('concurrent processes tagging one store lose no update', async () => {
  const worker = join(dir, 'tagWorker.mjs');
  await build({ entryPoints: [join(import.meta.dirname, 'fixtures/tagWorker.ts')], bundle: true, platform: 'node', format: 'esm', outfile: worker, logLevel: 'error' });
  const root = join(dir, 'root');
  const run = promisify(execFile);
  await Promise.all(['a', 'b', 'c', 'd'].map((p) => run(process.execPath, [worker, root, p, '25'])));
  const store = await openStore(root);
  const names = (await store.tags.list()).map((t) => t.name);
  expect(names).toHaveLength(100);
  expect(new Set(names).size).toBe(100);
  expect((await readdir(join(root, 'tmp'))).sort()).toEqual(['live', 'locks']);
  expect(await readdir(join(root, 'tmp/locks'))).toEqual([]);
});
