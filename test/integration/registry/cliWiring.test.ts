import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tagImage } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';
import { ok, tsbuild } from '../../helpers/cli.ts';
import { imageOf, makeContext } from '../../helpers/image.ts';
import { makeTestImage, startRegistry, type RunningRegistry } from '../../helpers/registry.ts';

// What the CLI wires in, run as a user would: credentials read from
// ~/.docker/config.json (a temp HOME), and --insecure-registry for a registry
// that is plain HTTP but not localhost/127.0.0.1.

const USER = 'dora';
const PASSWORD = 'd0cker-Config-pw';

let tmp: string;
let src: string;

/** envFor gives the CLI a HOME of its own and none of the test runner's credential settings. */
function envFor(home: string): Record<string, string> {
  return { HOME: home, TSBUILD_AUTH_FILE: '', DOCKER_CONFIG: '', XDG_CONFIG_HOME: '' };
}

/** homeWith makes a HOME whose ~/.docker/config.json holds auths (nothing when undefined). */
function homeWith(name: string, auths?: Record<string, Record<string, string>>): string {
  const home = join(tmp, name);
  mkdirSync(join(home, '.docker'), { recursive: true });
  if (auths) writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ auths }));
  return home;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tsbuild-wiring-'));
  src = join(tmp, 'src');
  const store = await openStore(src);
  const img = await makeTestImage(store.content, [{ 'hello.txt': 'hi\n' }]);
  await tagImage(store.tags, 'app:1', img.manifestDesc);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('credentials from ~/.docker/config.json', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ kind: 'htpasswd', users: { [USER]: PASSWORD } });
  });
  afterAll(async () => reg?.stop());

  test.each([
    ['auth (base64 user:password)', (host: string) => ({ [host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } })],
    ['username and password, key with a scheme', (host: string) => ({ [`http://${host}`]: { username: USER, password: PASSWORD } })],
  ])('%s: push, pull and build FROM … --push use them', async (name, auths) => {
    const id = name.split(' ')[0]!;
    const home = homeWith(`home-${id}`, auths(reg.host));
    const env = envFor(home);
    const ref = `${reg.host}/creds/app:${id}`;
    await ok(['--root', src, 'tag', 'app:1', ref], { env });
    await ok(['--root', src, 'push', ref], { env });
    const root = join(tmp, `pull-${id}`);
    await ok(['--root', root, 'pull', ref], { env });
    const built = `${reg.host}/creds/built:${id}`;
    const ctx = makeContext(tmp, { Buildfile: `FROM ${ref}\nCMD ["cat", "/hello.txt"]\n` });
    await ok(['--root', join(tmp, `build-${id}`), 'build', '--progress=quiet', '-t', built, '--push', ctx], { env });
    await ok(['--root', join(tmp, `pull-built-${id}`), 'pull', built], { env });
  });

  test('without them the registry refuses, and the hint says to log in; the password appears nowhere', async () => {
    const ref = `${reg.host}/creds/app:auth`;
    const none = await tsbuild(['--root', join(tmp, 'anon'), 'pull', ref], { env: envFor(homeWith('home-none')) });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/UNAUTHORIZED/);
    expect(none.stderr).toMatch(/tsbuild login/);
    const wrong = await tsbuild(['--root', join(tmp, 'wrong'), 'pull', ref], { env: envFor(homeWith('home-wrong', { [reg.host]: { username: USER, password: 'not-it' } })) });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr + wrong.stdout).not.toContain('not-it');
  });

  test('DOCKER_CONFIG names the directory instead of ~/.docker', async () => {
    const dir = join(homeWith('home-dc', { [reg.host]: { username: USER, password: PASSWORD } }), '.docker');
    const env = { ...envFor(homeWith('home-empty')), DOCKER_CONFIG: dir };
    await ok(['--root', join(tmp, 'dc'), 'pull', `${reg.host}/creds/app:auth`], { env });
  });
});

describe('--insecure-registry', () => {
  let reg: RunningRegistry;
  // 127.0.0.2 is loopback, so the test needs no network, but it is not localhost/127.0.0.1: HTTPS unless the flag says otherwise.
  beforeAll(async () => {
    reg = await startRegistry({ kind: 'none' }, { address: '127.0.0.2' });
  });
  afterAll(async () => reg?.stop());

  test('pull and push speak plain HTTP to the named host (with or without port) only with the flag', async () => {
    const env = envFor(homeWith('home-insecure'));
    const ref = `${reg.host}/ins/app:1`;
    await ok(['--root', src, 'tag', 'app:1', ref], { env });

    const refused = await tsbuild(['--root', src, 'push', ref], { env });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`https://${reg.host}/v2/`);
    expect(reg.log()).not.toMatch(/"PUT \/v2\/ins\/app\/manifests/);
    await ok(['--root', src, 'push', '--insecure-registry', reg.host, ref], { env });

    const root = join(tmp, 'ins-pull');
    const plain = await tsbuild(['--root', root, 'pull', ref], { env });
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain(`https://${reg.host}/v2/`);
    await ok(['--root', root, 'pull', '--insecure-registry', '127.0.0.2', ref], { env });
    expect(imageOf(root, ref).manifestDigest).toMatch(/^sha256:/);
  });

  test('build passes the flag to its FROM pull and to --push', async () => {
    const env = envFor(homeWith('home-insecure-build'));
    const ref = `${reg.host}/ins/base:1`;
    await ok(['--root', src, 'tag', 'app:1', ref], { env });
    await ok(['--root', src, 'push', '--insecure-registry', reg.host, ref], { env });
    const ctx = makeContext(tmp, { Buildfile: `FROM ${ref}\nCMD ["cat", "/hello.txt"]\n` });
    const built = `${reg.host}/ins/built:1`;
    const without = await tsbuild(['--root', join(tmp, 'ins-build-no'), 'build', '--progress=quiet', '-t', built, ctx], { env });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain(`https://${reg.host}/v2/`);
    const root = join(tmp, 'ins-build');
    await ok(['--root', root, 'build', '--progress=quiet', '--insecure-registry', reg.host, '-t', built, '--push', ctx], { env });
    await ok(['--root', join(tmp, 'ins-build-pull'), 'pull', '--insecure-registry', reg.host, built], { env });
    expect(imageOf(join(tmp, 'ins-build-pull'), built).config.config.Cmd).toEqual(['cat', '/hello.txt']);
  });
});
