import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CliContext, Command } from '../../../src/cli/context.ts';
import { loadCommand } from '../../../src/cli/commands/load.ts';
import { loginCommand, logoutCommand } from '../../../src/cli/commands/login.ts';
import { pullCommand } from '../../../src/cli/commands/pull.ts';
import { pushCommand } from '../../../src/cli/commands/push.ts';
import { saveCommand } from '../../../src/cli/commands/save.ts';
import { readImage, tagImage } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';
import { makeTestImage, startRegistry, type RunningRegistry, type TestImage } from '../../helpers/registry.ts';

const PASSWORD = 'cli-Pa55word';

let tmp: string;
let reg: RunningRegistry;
let img: TestImage;

/** run calls a command as main.ts would, capturing stdout; stdin is fed from input. */
async function run(cmd: Command, argv: string[], root: string, input?: string): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const stdin = new PassThrough();
  stdin.end(input ?? '');
  const ctx: CliContext = {
    root,
    env: { HOME: tmp, TSBUILD_AUTH_FILE: join(tmp, 'auth.json') },
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new PassThrough() as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    isTTY: false,
    signal: new AbortController().signal,
  };
  const code = await cmd(argv, ctx);
  return { code, out };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tsbuild-cli-reg-'));
  reg = await startRegistry({ kind: 'htpasswd', users: { carol: PASSWORD } });
  const store = await openStore(join(tmp, 'root'));
  img = await makeTestImage(store.content, [{ 'hello.txt': 'hi\n' }]);
  await tagImage(store.tags, `${reg.host}/cli/app:1`, img.manifestDesc);
});
afterAll(async () => {
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('registry commands', () => {
  test('login refuses a wrong password and stores nothing', async () => {
    const err = await run(loginCommand, ['-u', 'carol', '--password-stdin', reg.host], join(tmp, 'root'), 'nope\n').catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    expect(String(err)).not.toContain('nope');
    expect(() => readFileSync(join(tmp, 'auth.json'))).toThrow();
  });

  test('login, push, pull, logout', async () => {
    expect(await run(loginCommand, ['-u', 'carol', '--password-stdin', reg.host], join(tmp, 'root'), `${PASSWORD}\n`)).toEqual({ code: 0, out: 'Login Succeeded\n' });
    const auth = JSON.parse(readFileSync(join(tmp, 'auth.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(auth.auths[reg.host]!.auth, 'base64').toString()).toBe(`carol:${PASSWORD}`);

    const pushed = await run(pushCommand, [`${reg.host}/cli/app:1`], join(tmp, 'root'));
    expect(pushed.out).toMatch(/: Pushed\n[\s\S]*1: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
    const again = await run(pushCommand, [`${reg.host}/cli/app:1`], join(tmp, 'root'));
    expect(again.out).not.toMatch(/Pushed/);

    const pulled = await run(pullCommand, [`${reg.host}/cli/app:1`], join(tmp, 'root2'));
    expect(pulled.out).toMatch(new RegExp(`Status: Downloaded newer image for ${reg.host}/cli/app:1\\n$`));
    const store2 = await openStore(join(tmp, 'root2'));
    expect((await readImage(store2, `${reg.host}/cli/app:1`)).config.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);

    expect((await run(logoutCommand, [reg.host], join(tmp, 'root'))).out).toBe(`Removing login credentials for ${reg.host}\n`);
    await expect(run(pullCommand, [`${reg.host}/cli/app:1`], join(tmp, 'root3'))).rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
  });

  test('push of an unknown name says how to fix it', async () => {
    await expect(run(pushCommand, [`${reg.host}/cli/none:1`], join(tmp, 'root'))).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND', hint: expect.stringMatching(/tsbuild tag/) });
  });
});

describe('archive commands', () => {
  test.each(['docker', 'oci'])('save --format %s -o FILE, then load -i FILE', async (format) => {
    const file = join(tmp, `saved.${format}.tar`);
    expect((await run(saveCommand, ['--format', format, '-o', file, `${reg.host}/cli/app:1`], join(tmp, 'root'))).code).toBe(0);
    const res = await run(loadCommand, ['-i', file], join(tmp, `load-${format}`));
    expect(res.out).toBe(`Loaded image: ${reg.host}/cli/app:1\n`);
  });

  test('save of an unknown image fails and leaves no file', async () => {
    const file = join(tmp, 'none.tar');
    await expect(run(saveCommand, ['-o', file, 'nothing:here'], join(tmp, 'root'))).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    expect(() => readFileSync(file)).toThrow();
  });
});
