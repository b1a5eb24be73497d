import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { BackgroundWork } from '../../../src/solver/backgroundWork.ts';

test('drain waits for removals and tracked work started before and during it', async () => {
  const w = new BackgroundWork();
  const d = mkdtempSync(join(tmpdir(), 'bg-'));
  mkdirSync(join(d, 'a/b'), { recursive: true });
  writeFileSync(join(d, 'a/b/f'), 'x');
  let late = false;
  w.remove(join(d, 'a'));
  w.track(new Promise<void>((r) => setTimeout(() => {
    w.track(new Promise<void>((r2) => setTimeout(() => { late = true; r2(); }, 20)));
    r();
  }, 10)));
  await w.drain();
  expect(existsSync(join(d, 'a'))).toBe(false);
  expect(late).toBe(true);
  w.remove(d);
  await w.drain();
});

test('a failed removal is ignored; a failed tracked task fails drain with the first error', async () => {
  const w = new BackgroundWork();
  w.remove('/proc/self/no-such-thing/x');
  await w.drain();
  w.track(Promise.reject(new Error('first')));
  w.track(Promise.reject(new Error('second')));
  await expect(w.drain()).rejects.toThrow('first');
});
