import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { debianMinbaseTar } from '../../helpers/debian.ts';
import { hasBusybox, isRoot } from '../../helpers/rootfs.ts';
import { makeHarness, type Harness } from './harness.ts';

// Docker's "understanding image layers" walkthrough as written: a Debian base,
// nodejs installed with apt inside a container, the container committed as a layer.
describe.runIf(isRoot && hasBusybox())('containers by hand: the Debian walkthrough (apt-get install nodejs)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness('tsbuild-deb-');
    await h.ok('import', debianMinbaseTar(), 'debian:bookworm');
  }, 900_000);
  afterAll(async () => { await h?.cleanup(); });

  test('install node in a container, commit it, run node from the new image, build on it', async () => {
    const install = await h.cli('run', '--name', 'base-container', '-e', 'DEBIAN_FRONTEND=noninteractive', 'debian:bookworm',
      'sh', '-c', 'apt-get update -q && apt-get install -y -q --no-install-recommends nodejs && node --version');
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toMatch(/^v\d+\.\d+\.\d+$/m);
    const version = install.stdout.trim().split('\n').at(-1)!;

    const id = (await h.ok('container', 'commit', '-m', 'Add node', 'base-container', 'node-base')).stdout.trim();
    const hist = (await h.ok('image', 'history', 'node-base')).stdout.split('\n');
    expect(hist[1]).toMatch(new RegExp(`^${id.slice(7, 19)} +.* ago +sh -c apt-get update -q && apt-get install -… +\\d+(\\.\\d+)?MB +Add node$`));
    expect(hist[2]).toMatch(/^[0-9a-f]{12} +.* ago +tsbuild import \S+ +1\d\dMB +$/);

    const node = await h.ok('run', '--rm', 'node-base', 'node', '-e', 'console.log("node says " + (6 * 7))');
    expect(node.stdout).toBe('node says 42\n');

    expect((await h.ok('rm', '-f', 'base-container')).stdout).toBe('base-container\n');
    expect((await h.ok('ps', '-a')).stdout).not.toContain('base-container');

    const ctx = mkdtempSync(join(h.t.dir, 'ctx-'));
    writeFileSync(join(ctx, 'Buildfile'), 'FROM node-base\nRUN node -e \'require("fs").writeFileSync("/built-by", process.version)\'\nCMD ["cat", "/built-by"]\n');
    await h.ok('build', '-t', 'app', ctx);
    expect((await h.ok('run', '--rm', 'app')).stdout).toBe(version);
  }, 900_000);
});
