import { afterAll, beforeAll, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, type TempRoot } from '../../helpers/cli.ts';
import { busyboxSuite } from '../../helpers/image.ts';

const suite = busyboxSuite({ beforeAll, afterAll });
let t: TempRoot;
beforeAll(() => { t = suite.t; });

test('--output writes an OCI archive, a docker archive and a root filesystem of the built image', async () => {
  const ctx = suite.ctx({ Buildfile: 'FROM busybox\nRUN echo out > /out.txt\nCMD ["cat", "/out.txt"]\n' });
  const oci = join(t.dir, 'img.oci.tar');
  const docker = join(t.dir, 'img.docker.tar');
  const dir = join(t.dir, 'rootfs');
  const r = await ok(['--root', t.root, 'build', '--progress=quiet', '-t', 'out:1',
    '--output', `type=oci,dest=${oci}`, '--output', `type=docker,dest=${docker}`, '--output', `type=local,dest=${dir}`, ctx]);
  const id = r.stdout.trim();
  const ociCfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci-archive:${oci}`], { encoding: 'utf8' }));
  const dockerCfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `docker-archive:${docker}`], { encoding: 'utf8' }));
  expect(ociCfg.config.Cmd).toEqual(['cat', '/out.txt']);
  expect(dockerCfg.config.Cmd).toEqual(['cat', '/out.txt']);
  const rawDocker = execFileSync('skopeo', ['inspect', '--raw', `docker-archive:${docker}`], { encoding: 'utf8' });
  expect(JSON.parse(rawDocker).config.digest).toBe(id);
  expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('out\n');
});
