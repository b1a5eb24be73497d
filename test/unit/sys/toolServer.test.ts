import { expect, test } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolServer } from '../../../src/sys/toolServer.ts';

test('runs commands in order with their exit status, output and cwd; quoting survives hostile words', async () => {
  const s = new ToolServer();
  const dir = mkdtempSync(join(tmpdir(), 'ts-'));
  const name = `it's $(not) "run"; ;\`x\``;
  const results = await Promise.all([
    s.run('sh', ['-c', 'echo out; echo err >&2; exit 3'], { allowFail: true }),
    s.run('touch', [name], { cwd: dir }),
    s.run('cat', [join(dir, name)]),
    s.run('false', [], { allowFail: true }),
  ]);
  expect(results.map((r) => r.code)).toEqual([3, 0, 0, 1]);
  expect(results[0]!.stderr).toBe('out\nerr\n');
  expect(readFileSync(join(dir, name), 'utf8')).toBe('');
});

test('a failure is one TsbuildError line naming the command and the tool\'s last line', async () => {
  const s = new ToolServer();
  await expect(s.run('ls', ['/nonexistent-dir-xyz'], { code: 'MOUNT' })).rejects.toThrow(/^ls \/nonexistent-dir-xyz: .*No such file/);
  await expect(s.run('echo', ['a\nb'])).rejects.toThrow(/newline/);
});
