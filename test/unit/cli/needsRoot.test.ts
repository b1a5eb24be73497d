import { expect, test } from 'vitest';
import { asNeedsRoot, requireRoot } from '../../../src/cli/needsRoot.ts';
import { TsbuildError } from '../../../src/core/errors.ts';
import type { CliContext } from '../../../src/cli/context.ts';

const ctx = (uid: number, command = 'load') => ({ uid, command }) as CliContext;
const eperm = Object.assign(new Error("EPERM: operation not permitted, lchown '/x'"), { code: 'EPERM', syscall: 'lchown', path: '/x' });

test('a permission error without root, also as the cause of another, becomes the one line; as root it stays', () => {
  const wrapped = new TsbuildError('IO', 'apply layer entry "bin": EPERM …', { cause: eperm });
  for (const e of [eperm, wrapped]) {
    const got = asNeedsRoot(e, ctx(1000));
    expect(got).toBeInstanceOf(TsbuildError);
    expect((got as TsbuildError).code).toBe('NEEDS_ROOT');
    expect((got as TsbuildError).message).toMatch(/^load needs root: .*sudo tsbuild load …\)$/);
    expect(asNeedsRoot(e, ctx(0))).toBe(e);
  }
  const other = Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  expect(asNeedsRoot(other, ctx(1000))).toBe(other);
});

test('requireRoot names the command as typed', () => {
  expect(() => requireRoot(ctx(1000, 'container start'), 'start')).toThrow(/^container start needs root/);
  expect(() => requireRoot(ctx(0), 'build')).not.toThrow();
});
