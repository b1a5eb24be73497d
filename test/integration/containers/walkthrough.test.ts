import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mountsUnder } from '../../helpers/cli.ts';
import { blob, imageOf } from '../../helpers/image.ts';
import { hasBusybox, isRoot } from '../../helpers/rootfs.ts';
import { makeHarness, type Harness } from './harness.ts';

// Docker's "understanding image layers" walkthrough, on the busybox base.
describe.runIf(isRoot && hasBusybox())('containers by hand: the busybox walkthrough', () => {
  let h: Harness;
  const cli = (...args: string[]) => h.cli(...args);
  const okCli = (...args: string[]) => h.ok(...args);
  const t = { get root() { return h.t.root; }, get dir() { return h.t.dir; } };

  beforeAll(async () => { h = await makeHarness('tsbuild-walk-'); });
  afterAll(async () => { await h?.cleanup(); });

  test('run, commit, history, run the new image, rm, then build FROM it', async () => {
    const run = await cli('run', '--name', 'base-container', 'busybox', 'sh', '-c', 'echo "v20.11.1" > /node-version && echo done');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('done\n');

    const ps = await okCli('ps', '-a');
    expect(ps.stdout).toMatch(/^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n/);
    expect(ps.stdout).toMatch(/[0-9a-f]{12} +busybox +"sh -c echo \\"v20\.11\.…" +.* ago +Exited \(0\) .* ago +base-container\n/);
    expect((await okCli('ps')).stdout.split('\n')).toHaveLength(2); // header only: nothing runs

    const commit = await okCli('container', 'commit', '-m', 'Add node', 'base-container', 'node-base');
    expect(commit.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);

    // The new layer holds the file and nothing the runtime put there (mount points).
    const img = imageOf(t.root, 'node-base');
    expect(img.config.rootfs.diff_ids).toHaveLength(2);
    expect(img.config.history.at(-1)).toMatchObject({ comment: 'Add node', created_by: 'sh -c echo "v20.11.1" > /node-version && echo done' });
    const layerTar = blob(t.root, img.manifest.layers[1].digest);
    expect(tarNames(layerTar)).toEqual(['node-version']);
    expect(`sha256:${commit.stdout.trim().slice(7)}`).toBe(img.manifest.config.digest);

    const hist = await okCli('image', 'history', 'node-base');
    const lines = hist.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
    expect(lines[1]).toMatch(/^[0-9a-f]{12} +(Less than a second|\d+ seconds?) ago +sh -c echo "v20\.11\.1" > \/node-version && ech… +9B +Add node$/);
    // The base's own entry carries the base image's id: it is in the store (Docker shows it the same way).
    const busyboxId = imageOf(t.root, 'busybox').manifest.config.digest.slice(7, 19);
    expect(lines[2]).toMatch(new RegExp(`^${busyboxId} +.* ago +tsbuild import \\S+ +\\d+(\\.\\d+)?MB *$`));
    expect(lines).toHaveLength(3);

    const cat = await okCli('run', '--rm', 'node-base', 'cat', '/node-version');
    expect(cat.stdout).toBe('v20.11.1\n');

    const rm = await okCli('rm', '-f', 'base-container');
    expect(rm.stdout).toBe('base-container\n');
    expect((await okCli('ps', '-a')).stdout).not.toContain('base-container');
    expect(readdirSync(join(t.root, 'containers'))).toEqual([]);
    expect(mountsUnder(t.root)).toEqual([]);

    const ctxDir = mkdtempSync(join(t.dir, 'ctx-'));
    writeFileSync(join(ctxDir, 'Buildfile'), 'FROM node-base\nRUN cp /node-version /copied\n');
    await okCli('build', '-t', 'on-node-base', ctxDir);
    const built = await okCli('run', '--rm', 'on-node-base', 'cat', '/copied');
    expect(built.stdout).toBe('v20.11.1\n');
  });
});

/** tarNames lists the entry names of an uncompressed tar (ustar names, enough for these small layers). */
function tarNames(tar: Buffer): string[] {
  const names: string[] = [];
  for (let off = 0; off + 512 <= tar.length;) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    names.push(name);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}
