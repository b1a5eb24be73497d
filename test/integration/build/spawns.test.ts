import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BIN, makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { importBusybox } from '../../helpers/image.ts';

let t: TempRoot;
beforeAll(async () => {
  t = makeTempRoot();
  await importBusybox(t.root, t.dir);
});
afterAll(() => t.cleanup());

/** execs runs a tsbuild build under strace and lists the programs every process of it executed. */
function execs(ctx: string): string[] {
  const log = join(t.dir, `strace-${Date.now()}.log`);
  execFileSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', log, process.execPath, BIN, '--root', t.root, 'build', '--progress=quiet', ctx], { stdio: 'pipe', env: { ...process.env, CI: 'true' } });
  return readFileSync(log, 'utf8').split('\n').map((l) => /execve\("([^"]+)"/.exec(l)?.[1]).filter((p): p is string => p !== undefined);
}

test('a fully cached build executes nothing but itself; a miss before a RUN starts the perl server once', async () => {
  const ctx = mkdtempSync(join(t.dir, 'ctx-'));
  writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nCOPY a /a\nRUN cat /a > /b\n');
  writeFileSync(join(ctx, 'a'), '1');
  await ok(['--root', t.root, 'build', '--progress=quiet', ctx]);
  expect(execs(ctx)).toEqual([process.execPath]);
  writeFileSync(join(ctx, 'a'), '2');
  const ran = execs(ctx);
  expect(ran.filter((p) => p === '/usr/bin/perl')).toHaveLength(1);
  expect(ran).toContain('/bin/sh');
});
