import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, makeTempRoot, ok, type CliResult, type TempRoot } from '../../helpers/cli.ts';
import { hasBusybox, isRoot, makeBusyboxTar } from '../../helpers/rootfs.ts';
import { importBusybox } from '../../helpers/image.ts';

// Until rootless builds exist, a command that needs root says so in one line, with how to get
// it, instead of the EPERM of the first lchown or mount. Run as nobody (setpriv), for real.

const NOBODY = 65534;
let t: TempRoot;
let home: string;

/** asNobody runs the CLI as uid/gid 65534 with its own store under a home it owns. */
function asNobody(args: string[]): Promise<CliResult> {
  return new Promise((res, rej) => {
    const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, BIN, '--root', join(home, 'root'), ...args], {
      cwd: home,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? 1, stdout, stderr }));
  });
}

describe.runIf(isRoot && hasBusybox())('without root', () => {
  beforeAll(async () => {
    t = makeTempRoot('tsbuild-nonroot-');
    chmodSync(t.dir, 0o755);
    home = mkdtempSync(join(t.dir, 'home-'));
    mkdirSync(join(home, 'ctx'));
    writeFileSync(join(home, 'ctx/Buildfile'), 'FROM busybox\nRUN echo hi > /hi\n');
    makeBusyboxTar(mkdtempSync(join(t.dir, 'bb-')), join(home, 'busybox.tar'));
    await importBusybox(t.root, t.dir);
    await ok(['--root', t.root, 'save', '-o', join(home, 'saved.tar'), 'busybox']);
    chownRecursive(home);
    // Loading writes blobs only: that works without root.
    const load = await asNobody(['load', '-i', 'saved.tar']);
    expect(load.stderr).toBe('');
    expect(load.code).toBe(0);
  });
  afterAll(() => t?.cleanup());

  test.each([
    // each: argv, the command named
    [['build', 'ctx'], 'build'],
    [['-t', 'x', 'ctx'], 'build'],
    [['import', 'busybox.tar', 'mine'], 'import'],
    [['run', '--rm', 'busybox', 'true'], 'run'],
    [['container', 'run', 'busybox', 'true'], 'container run'],
  ])('%j says in one line that it needs root, and how to get it', async (argv, command) => {
    const r = await asNobody(argv);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${command} needs root: tsbuild mounts file systems and sets file owners, and cannot without root yet; run it as root (e.g. sudo tsbuild ${command} …)\n`);
  });

  test('help, usage mistakes and commands that need no root work as before', async () => {
    expect((await asNobody(['build', '--help'])).code).toBe(0);
    expect((await asNobody(['build', '--tags', 'x'])).stderr).toMatch(/^error: build: unknown flag --tags/);
    expect((await asNobody(['images'])).stdout).toMatch(/^busybox +latest /m);
  });
});

function chownRecursive(dir: string): void {
  chownSync(dir, NOBODY, NOBODY);
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (lstatSync(p).isDirectory()) chownRecursive(p);
    else chownSync(p, NOBODY, NOBODY);
  }
}
