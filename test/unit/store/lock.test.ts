import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { withFileLock } from '../../../src/store/lock.ts';
import { openStore } from '../../../src/store/openStore.ts';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tsbuild-lock-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

/** deadPid returns the pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('withFileLock', () => {
  test('serialises holders in one process and removes the file', async () => {
    const lock = join(dir, 'x.lock');
    let inside = 0;
    let max = 0;
    await Promise.all(Array.from({ length: 10 }, () => withFileLock(lock, async () => {
      inside++; max = Math.max(max, inside);
      await new Promise((r) => setTimeout(r, 2));
      inside--;
    })));
    expect(max).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  test('releases the lock when fn throws', async () => {
    const lock = join(dir, 'x.lock');
    await expect(withFileLock(lock, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await withFileLock(lock, async () => 42)).toBe(42);
  });

  test('breaks a stale lock left by a dead process', async () => {
    const lock = join(dir, 'x.lock');
    await writeFile(lock, `${await deadPid()} 1 deadbeef\n`);
    expect(await withFileLock(lock, async () => 'ok', { timeoutMs: 2000 })).toBe('ok');
  });

  test('breaks a lock whose pid was reused by another process', async () => {
    const lock = join(dir, 'x.lock');
    await writeFile(lock, `${process.ppid} 1 deadbeef\n`); // live pid, wrong start time
    expect(await withFileLock(lock, async () => 'ok', { timeoutMs: 2000 })).toBe('ok');
  });

  test('times out with LOCKED while a live process holds it', async () => {
    const lock = join(dir, 'x.lock');
    const holder = spawn('sleep', ['5']);
    try {
      const stat = await import('node:fs/promises').then((f) => f.readFile(`/proc/${holder.pid}/stat`, 'utf8'));
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      await writeFile(lock, `${holder.pid} ${start} cafe\n`);
      await expect(withFileLock(lock, async () => 'no', { timeoutMs: 200 })).rejects.toMatchObject({ code: 'LOCKED' });
    } finally {
      holder.kill();
    }
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
  expect((await readdir(join(root, 'tmp'))).sort()).toEqual(['locks']);
  expect(await readdir(join(root, 'tmp/locks'))).toEqual([]);
});
