import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

test('blobs and snapshots a build wrote unsynced are made durable behind it: every marker goes', async () => {
  const ctx = mkdtempSync(join(t.dir, 'ctx-'));
  writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nCOPY a /a\nRUN cat /a > /b\n');
  writeFileSync(join(ctx, 'a'), `${Date.now()}`);
  const log = join(t.dir, `strace-fsync-${Date.now()}.log`);
  // The build makes one marker (ROOT/unsynced/<boot>-<pid>-<random>) before its first unsynced blob.
  execFileSync('strace', ['-f', '-qq', '-e', 'trace=openat', '-e', 'signal=none', '-o', log, process.execPath, BIN, '--root', t.root, 'build', '--progress=quiet', ctx], { stdio: 'pipe', env: { ...process.env, CI: 'true' } });
  const calls = readFileSync(log, 'utf8');
  expect(calls).toMatch(new RegExp(`openat\\(AT_FDCWD, "${t.root}/unsynced/[0-9a-f-]+"`));
  const markersLeft = () => (existsSync(join(t.root, 'unsynced')) ? readdirSync(join(t.root, 'unsynced')) : []);
  const snapshotsMarked = () => readdirSync(join(t.root, 'snapshots')).filter((d) => existsSync(join(t.root, 'snapshots', d, 'unsynced')));
  for (let i = 0; i < 100 && (markersLeft().length || snapshotsMarked().length); i++) await new Promise((r) => setTimeout(r, 100));
  expect(markersLeft()).toEqual([]);
  expect(snapshotsMarked()).toEqual([]);
});
