import { execFileSync } from 'node:child_process';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTempRoot, ok, tsbuild, type TempRoot } from '../../helpers/cli.ts';
import { imageOf, importBusybox, jsonEvents, makeContext } from '../../helpers/image.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';
import { isRoot } from '../../helpers/rootfs.ts';

// A base image named by a registry whose manifest, config or a layer blob a crash damaged
// is removed and pulled again: the build goes on with a warning and gives the same image.

let reg: RunningRegistry;
let t: TempRoot;
let base = '';
let pristine = '';
let ctx = '';
let id0 = '';
let n = 0;
const SDE = { SOURCE_DATE_EPOCH: '1700000000' };

beforeAll(async () => {
  reg = await startRegistry();
  t = makeTempRoot('tsbuild-healpull-');
  base = `${reg.host}/heal/base:1`;
  const origin = join(t.dir, 'origin');
  await importBusybox(origin, t.dir, base);
  await ok(['--root', origin, 'push', base]);
  pristine = join(t.dir, 'pristine');
  ctx = makeContext(t.dir, { Buildfile: `FROM ${base}\nRUN echo hi > /x\n` });
  id0 = (await ok(['--root', pristine, 'build', '-t', 'app', ctx], { env: SDE })).stdout.trim();
});
afterAll(async () => {
  await reg?.stop();
  t?.cleanup();
});

async function build(root: string): Promise<{ id: string; warnings: string[]; pulled: boolean }> {
  const r = await tsbuild(['--root', root, 'build', '--progress=json', '-t', 'app', ctx], { env: SDE });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}`);
  const ev = jsonEvents(r.stderr);
  return { id: r.stdout.trim(), warnings: ev.filter((e) => e.type === 'warning').map((e) => e.message), pulled: ev.some((e) => e.type === 'info' && e.message === `pulling ${base}`) };
}

describe.runIf(isRoot)('a damaged base image from a registry is pulled again', () => {
  test.each([
    ['manifest', 'truncated to 0', (img: ReturnType<typeof imageOf>) => img.manifestDigest, (p: string) => truncateSync(p, 0)],
    ['config', 'garbage', (img: ReturnType<typeof imageOf>) => img.manifest.config.digest, (p: string) => writeFileSync(p, Buffer.alloc(readFileSync(p).length, 0x5a))],
    ['layer', 'cut in half', (img: ReturnType<typeof imageOf>) => img.manifest.layers[0].digest, (p: string) => truncateSync(p, Math.floor(readFileSync(p).length / 2))],
  ])('its %s blob %s', async (_what, _how, pick, harm) => {
    const root = join(t.dir, `case-${n++}`);
    execFileSync('cp', ['-a', pristine, root]);
    const d = pick(imageOf(root, base)) as string;
    harm(join(root, 'oci/blobs/sha256', d.slice(7)));
    const b = await build(root);
    expect(b).toMatchObject({ id: id0, pulled: true });
    expect(b.warnings).toEqual([expect.stringMatching(new RegExp(`^damaged blob ${d}: .*: removed$`))]);
    expect((await tsbuild(['--root', root, 'fsck'])).stdout).toMatch(/no problems found\n$/);
  });
});
