import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, tsbuild, type TempRoot } from '../../helpers/cli.ts';
import { busyboxSuite, jsonEvents, unpack } from '../../helpers/image.ts';

const suite = busyboxSuite({ beforeAll, afterAll });
const ctxDir = suite.ctx;
let t: TempRoot;
beforeAll(() => { t = suite.t; });


test('--root works before and after the command, and TSBUILD_ROOT is the default', async () => {
  const ctx = ctxDir({ Buildfile: 'FROM busybox\nRUN echo r > /r\n' });
  const a = await ok(['--root', t.root, 'build', '--progress=quiet', ctx]);
  const b = await ok(['build', '--root', t.root, '--progress=quiet', ctx]);
  const c = await ok(['build', '--progress=quiet', ctx], { env: { TSBUILD_ROOT: t.root } });
  expect(b.stdout).toBe(a.stdout);
  expect(c.stdout).toBe(a.stdout);
});

test('without the word build, -f Buildfile -t NAME CONTEXT builds, as tsbuild build does', async () => {
  const ctx = ctxDir({ 'app.buildfile': 'FROM busybox\nRUN echo implicit > /implicit\n', Buildfile: 'FROM busybox\nRUN echo wrong > /wrong\n' });
  const file = join(ctx, 'app.buildfile');
  const implicit = await ok(['--root', t.root, '-f', file, '-t', 'implicit:1', '--progress=quiet', ctx]);
  const explicit = await ok(['--root', t.root, 'build', '-f', file, '-t', 'implicit:2', '--progress=quiet', ctx]);
  expect(implicit.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  expect(implicit.stdout).toBe(explicit.stdout);
  const rootfs = unpack(t.root, 'implicit:1', join(t.dir, 'unpack-implicit'));
  expect(readFileSync(join(rootfs, 'implicit'), 'utf8')).toBe('implicit\n');
});

test('two Buildfiles sharing a prefix share its layers', async () => {
  const prefix = 'FROM busybox\nRUN echo shared > /shared\nENV X=1\n';
  const one = ctxDir({ Buildfile: `${prefix}RUN echo one > /one\n` });
  const two = ctxDir({ Dockerfile: `${prefix}RUN echo two > /two\n` });
  await ok(['--root', t.root, 'build', '--progress=quiet', one]);
  const r = await ok(['--root', t.root, 'build', '--progress=json', two]);
  const ev = jsonEvents(r.stderr);
  expect(ev.filter((e) => e.type === 'step.cached').map((e) => e.step.text)).toEqual(['RUN echo shared > /shared']);
});

test('USER, WORKDIR and ENV apply to RUN; --iidfile gets the id', async () => {
  const ctx = ctxDir({ Buildfile: 'FROM busybox\nUSER app\nWORKDIR /tmp/w\nENV GREETING=hi\nRUN id -u > uid && id -g > gid && echo "$GREETING" > env && pwd > pwd\n' });
  const iid = join(t.dir, 'iid.txt');
  const r = await ok(['--root', t.root, 'build', '--progress=quiet', '-t', 'user:1', '--iidfile', iid, ctx]);
  expect(readFileSync(iid, 'utf8')).toBe(r.stdout.trim());
  const rootfs = unpack(t.root, 'user:1', join(t.dir, 'unpack-user'));
  const read = (f: string) => readFileSync(join(rootfs, 'tmp/w', f), 'utf8').trim();
  expect([read('uid'), read('gid'), read('env'), read('pwd')]).toEqual(['1000', '1000', 'hi', '/tmp/w']);
});

test('USER resolves against the layers below each RUN: a user a RUN adds is found by later RUNs, with its HOME', async () => {
  const ctx = ctxDir({
    Buildfile: [
      'FROM busybox',
      'USER 1234',
      'RUN echo "$(id -u):$(id -g):$HOME" > /tmp/who-before',
      'USER root',
      "RUN printf 'dev:x:1234:1235:dev:/home/dev:/bin/sh\\n' >> /etc/passwd && printf 'devs:x:1235:\\n' >> /etc/group && mkdir -p /home/dev && chown 1234:1235 /home/dev",
      'USER 1234',
      'RUN true',
      'RUN echo "$(id -u):$(id -g):$HOME" > /home/dev/who',
      '',
    ].join('\n'),
  });
  await ok(['--root', t.root, 'build', '--progress=quiet', '-t', 'users:1', ctx]);
  const rootfs = unpack(t.root, 'users:1', join(t.dir, 'unpack-users'));
  expect(readFileSync(join(rootfs, 'tmp/who-before'), 'utf8')).toBe('1234:0:/\n');
  expect(readFileSync(join(rootfs, 'home/dev/who'), 'utf8')).toBe('1234:1235:/home/dev\n');
});

test('--network none leaves only the loopback interface; host network is the default', async () => {
  const ctx = ctxDir({ Buildfile: 'FROM busybox\nRUN cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " " | sort > /ifaces\n' });
  await ok(['--root', t.root, 'build', '--progress=quiet', '--network', 'none', '-t', 'net:none', ctx]);
  await ok(['--root', t.root, 'build', '--progress=quiet', '-t', 'net:host', ctx]);
  const none = readFileSync(join(unpack(t.root, 'net:none', join(t.dir, 'u-none')), 'ifaces'), 'utf8').trim().split('\n');
  const host = readFileSync(join(unpack(t.root, 'net:host', join(t.dir, 'u-host')), 'ifaces'), 'utf8').trim().split('\n');
  expect(none).toEqual(['lo']);
  expect(host.length).toBeGreaterThanOrEqual(1);
});

test('bad input is one clear line: unknown base image, missing COPY source, bad Buildfile', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ Buildfile: 'FROM nosuch:image\n' }, /^error: Buildfile:1:1: base image "nosuch:image" not found/],
    [{ Buildfile: 'FROM busybox\nCOPY missing.txt /\n' }, /^error: Buildfile:2:1: .*missing\.txt/],
    [{ Buildfile: 'FROM busybox\nFROBNICATE x\n' }, /^error: Buildfile:2:1: /],
  ];
  for (const [files, re] of cases) {
    const ctx = ctxDir(files);
    const r = await tsbuild(['--root', t.root, 'build', '--progress=quiet', ctx], { cwd: ctx });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(re);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }
});

test.each(['runc', 'unshare'])('--runtime %s builds the same image', async (runtime) => {
  const ctx = ctxDir({ Buildfile: 'FROM busybox\nUSER app\nWORKDIR /tmp/rt\nRUN id -u > uid && hostname > host && echo $HOME > home\n' });
  await ok(['--root', t.root, 'build', '--progress=quiet', '--no-cache', '--runtime', runtime, '-t', `rt:${runtime}`, ctx]);
  const rootfs = unpack(t.root, `rt:${runtime}`, join(t.dir, `unpack-rt-${runtime}`));
  const read = (f: string) => readFileSync(join(rootfs, 'tmp/rt', f), 'utf8').trim();
  expect([read('uid'), read('host'), read('home')]).toEqual(['1000', 'tsbuild', '/home/app']);
});
