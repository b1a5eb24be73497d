import { afterAll, beforeAll, expect, test } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeTempRoot, mountsUnder, mountsUnderAnywhere, ok, type TempRoot } from '../../helpers/cli.ts';
import { importBusybox } from '../../helpers/image.ts';
import { CgroupTracker } from '../../helpers/cgroupTracker.ts';

let t: TempRoot;
beforeAll(async () => {
  t = makeTempRoot();
  await importBusybox(t.root, t.dir);
});
afterAll(() => t.cleanup());

function sleepers(marker: string): number {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

test.each(['SIGINT', 'SIGTERM'] as const)('%s during a RUN leaves no mount, container, process or temp dir; the next build works', async (sig) => {
  const marker = `sleep 4${sig === 'SIGINT' ? 1 : 2}7`;
  const ctx = mkdtempSync(join(t.dir, 'ctx-'));
  writeFileSync(join(ctx, 'Buildfile'), `FROM busybox\nRUN echo before > /b\nRUN ${marker}\n`);
  const child = spawn(process.execPath, [BIN, '--root', t.root, 'build', '--progress=json', ctx], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(`"text":"RUN ${marker}"`) && err.includes('"step.start"')) resolve();
    });
    child.on('close', () => reject(new Error(`build ended before the RUN started:\n${err}`)));
  });
  // Let the container start for real before interrupting.
  for (let i = 0; i < 50 && sleepers(marker) === 0; i++) await new Promise((r) => setTimeout(r, 100));
  child.kill(sig);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  expect(code).toBe(sig === 'SIGINT' ? 130 : 143);
  expect(mountsUnder(t.root)).toEqual([]);
  expect(readdirSync(join(t.root, 'tmp')).filter((n) => n !== 'locks' && n !== 'live')).toEqual([]);
  expect(sleepers(marker)).toBe(0);
  writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nRUN echo before > /b\nRUN echo after > /a\n');
  await ok(['--root', t.root, 'build', '--progress=quiet', ctx]);
});

// The kernel clears a death signal when credentials change: a step as another user must die all the same.
test.each([['root', ''], ['another user', 'USER 1000:1000\n']])('a SIGKILL during a RUN as %s takes the container, the perl server and the overlay along; the next build removes the run dir the dead build left', async (_who, user) => {
  const marker = `sleep 43${user ? 8 : 7}`;
  const ctx = mkdtempSync(join(t.dir, 'ctx-'));
  writeFileSync(join(ctx, 'Buildfile'), `FROM busybox\n${user}RUN ${marker}\n`);
  const procs = new CgroupTracker();
  try {
    const [cmd, ...argv] = procs.wrap([process.execPath, BIN, '--root', t.root, 'build', '--progress=json', ctx]);
    const child = spawn(cmd!, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    for (let i = 0; i < 100 && sleepers(marker) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(sleepers(marker), 'the RUN started').toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    // Everything dies with tsbuild (death signals down to the container's init), and the
    // step's overlay lived in the perl server's mount namespace: none of it is in ours.
    expect(await procs.settle(5000), 'processes that outlived tsbuild').toEqual([]);
    expect(mountsUnder(t.root), 'the dead build\'s overlay').toEqual([]);
    expect(mountsUnderAnywhere(t.root), 'the dead build\'s overlay, in any namespace').toEqual([]);
  } finally {
    procs.remove();
  }
  expect(readdirSync(join(t.root, 'tmp')).filter((n) => n.startsWith('run-'))).toHaveLength(1);
  writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nRUN echo after-kill > /a\n');
  await ok(['--root', t.root, 'build', '--progress=quiet', ctx]);
  expect(mountsUnder(t.root)).toEqual([]);
  expect(readdirSync(join(t.root, 'tmp')).filter((n) => n !== 'locks' && n !== 'live')).toEqual([]);
});
