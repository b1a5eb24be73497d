import { expect, test } from 'vitest';
import type { Executor } from '../../../src/executor/types.ts';
import { lazyExecutor } from '../../../src/solver/lazyExecutor.ts';

test('lazyExecutor chooses the runtime once, on warm or on the first run, and passes warm on', async () => {
  const calls: string[] = [];
  const real: Executor = { name: 'unshare', run: async () => (calls.push('run'), { exitCode: 0 }), warm: () => void calls.push('warm') };
  let made = 0;
  const ex = lazyExecutor(async () => (made++, real));
  expect(made).toBe(0);
  ex.warm!();
  ex.warm!();
  await new Promise((r) => setImmediate(r));
  expect(await ex.run({} as never)).toEqual({ exitCode: 0 });
  expect(made).toBe(1);
  expect(calls).toEqual(['warm', 'warm', 'run']);
});

test('a runtime that cannot be chosen fails at run(), not at warm()', async () => {
  const ex = lazyExecutor(async () => { throw new Error('no runtime'); });
  ex.warm!();
  await expect(ex.run({} as never)).rejects.toThrow('no runtime');
});
