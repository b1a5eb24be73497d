import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import type { Manifest } from '../../../src/oci/types.ts';
import { makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { imageOf, importBusybox, jsonEvents, makeContext } from '../../helpers/image.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';
import { isRoot } from '../../helpers/rootfs.ts';

// `build -t REG/NAME:TAG --push`: what the registry holds afterwards, read back
// with skopeo (an independent client), must be the image the store holds.

let reg: RunningRegistry;
let t: TempRoot;

beforeAll(async () => {
  reg = await startRegistry();
  t = makeTempRoot('tsbuild-buildpush-');
  await importBusybox(t.root, t.dir, 'busybox:latest');
});
afterAll(async () => {
  await reg?.stop();
  t?.cleanup();
});

/** inspect runs `skopeo inspect` on a plain-HTTP registry ref. */
function inspect(...args: string[]): Buffer {
  return execFileSync('skopeo', ['inspect', '--tls-verify=false', ...args]);
}

describe.runIf(isRoot)('build --push', () => {
  test('every tag is in the registry: the manifest tsbuild reported, the local config, layers that inflate to the diff_ids', async () => {
    const ctx = makeContext(t.dir, {
      Buildfile: 'FROM busybox:latest\nRUN echo pushed > /p\nCOPY f.txt /f.txt\nCMD ["cat", "/p"]\n',
      'f.txt': 'file\n',
    });
    const tags = [`${reg.host}/team/app:1`, `${reg.host}/team/app:latest`];
    const res = await ok(['--root', t.root, 'build', '--progress=json', '-t', tags[0]!, '-t', tags[1]!, '--push', ctx]);
    const imageId = res.stdout.trim();
    const local = imageOf(t.root, tags[0]!);
    expect(local.manifest.config.digest).toBe(imageId);
    const pushedEvents = jsonEvents(res.stderr).filter((e) => e.type === 'info' && String(e.message).startsWith('pushed '));
    expect(pushedEvents.map((e) => String(e.message).replace(/@.*/, ''))).toEqual(tags.map((x) => `pushed ${x}`));

    for (const [i, tag] of tags.entries()) {
      const info = JSON.parse(inspect(`docker://${tag}`).toString()) as { Digest: string };
      expect(`pushed ${tag}@${info.Digest}`).toBe(pushedEvents[i]!.message);
      const config = inspect('--config', '--raw', `docker://${tag}`);
      expect(sha256Of(config)).toBe(imageId);
      const manifest = JSON.parse(inspect('--raw', `docker://${tag}`).toString()) as Manifest;
      expect(sha256Of(inspect('--raw', `docker://${tag}`))).toBe(info.Digest);
      expect(manifest.config.digest).toBe(imageId);
      expect(manifest.layers.map((l) => l.mediaType)).toEqual(local.manifest.layers.map(() => MediaType.OciLayerGzip));
    }

    // skopeo verifies every blob's digest on copy; each layer must then inflate to its diff_id.
    const dir = join(t.dir, 'copied');
    execFileSync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${tags[0]}`, `dir:${dir}`]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const inflated = manifest.layers.map((l) => sha256Of(gunzipSync(readFileSync(join(dir, l.digest.slice(7))))));
    expect(inflated).toEqual(local.config.rootfs.diff_ids);
    expect(readdirSync(dir)).toContain(imageId.slice(7));
  });
});
