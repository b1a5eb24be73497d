import { afterAll, beforeAll, expect, test } from 'vitest';
import { appendFileSync, cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { jsonEvents, unpack } from '../../helpers/image.ts';
import { debianMinbaseTar } from '../../helpers/debian.ts';

// The acceptance test of the build engine: the classic five-layer Python image on
// a real Debian base, rebuilt after a source edit: only the last COPY runs again.

let t: TempRoot;
beforeAll(async () => {
  t = makeTempRoot('tsbuild-py-');
  await ok(['--root', t.root, 'import', debianMinbaseTar(), 'debian:bookworm-minbase']);
}, 900_000);
afterAll(() => t.cleanup());

test('examples/python-app builds, and a source edit re-runs only the last COPY', async () => {
  const ctx = join(t.dir, 'python-app');
  cpSync(join(REPO, 'examples/python-app'), ctx, { recursive: true });
  await ok(['--root', t.root, 'build', '--progress=plain', '-t', 'python-app:1', ctx]);

  appendFileSync(join(ctx, 'src/main.py'), 'print("edited")\n');
  const r = await ok(['--root', t.root, 'build', '--progress=json', '-t', 'python-app:2', ctx]);
  const ev = jsonEvents(r.stderr);
  const ran = ev.filter((e) => e.type === 'step.start' && !e.step.text.startsWith('FROM')).map((e) => e.step.text);
  const cached = ev.filter((e) => e.type === 'step.cached').map((e) => e.step.text);
  expect(ran).toEqual(['COPY src /app/src']);
  // Step texts are shortened for one line: compare their starts.
  expect(cached.map((c: string) => c.slice(0, 40))).toEqual([
    'RUN apt-get update && apt-get install -y',
    'WORKDIR /app',
    'COPY requirements.txt /app/',
    'RUN apt-get update && apt-get install -y',
  ]);

  const rootfs = unpack(t.root, 'python-app:2', join(t.dir, 'unpack'));
  expect(existsSync(join(rootfs, 'usr/bin/python3'))).toBe(true);
  expect(existsSync(join(rootfs, 'usr/lib/python3/dist-packages/six.py'))).toBe(true);
  expect(readFileSync(join(rootfs, 'app/src/main.py'), 'utf8')).toContain('print("edited")');

  const out = await ok(['--root', t.root, 'run', '--rm', 'python-app:2']);
  expect(out.stdout).toMatch(/^hello from python-app, six \d+\.\d+\.\d+\nedited\n$/);
}, 1_800_000);
