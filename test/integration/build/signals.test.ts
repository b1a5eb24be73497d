import { afterAll, beforeAll, expect, test } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeTempRoot, mountsUnder, ok, type TempRoot } from '../../helpers/cli.ts';
import { importBusybox, jsonEvents } from '../../helpers/image.ts';
import { randomText, startRegistry, type RunningRegistry } from '../../helpers/registry.ts';

// A terminal's Ctrl-C (SIGINT) goes to the whole foreground process group, and so does a
// supervisor's SIGTERM to a job's group: tsbuild and every helper it started. Whatever step
// is running, the build must end with 130 (SIGINT) or 143 (SIGTERM), say `interrupted` and
// nothing else, and leave no mount, step dir, staged blob, container or process behind.

let t: TempRoot;
let registry: RunningRegistry;
const session = `tsbuild-sig-${process.pid}`;
beforeAll(async () => {
  t = makeTempRoot();
  await importBusybox(t.root, t.dir);
  registry = await startRegistry();
});
afterAll(async () => {
  try { execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' }); } catch { /* gone */ }
  await registry?.stop();
  t.cleanup();
});

function pgrep(marker: string): number {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

interface Job {
  child: ChildProcess;
  stderr(): string;
  exit: Promise<number>;
}

/** startJob runs tsbuild as the leader of its own process group, as a shell starts a job. */
function startJob(args: string[], root = t.root): Job {
  const child = spawn(process.execPath, [BIN, '--root', root, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const exit = new Promise<number>((resolve) => child.on('close', (code, sig) => resolve(code ?? 128 + (sig === 'SIGKILL' ? 9 : 0))));
  return { child, stderr: () => err, exit };
}

/** signalGroup sends sig to every process of the job's group, as a terminal or a supervisor does. */
function signalGroup(job: Job, sig: NodeJS.Signals): void {
  process.kill(-job.child.pid!, sig);
}

/** nonJsonLines is what a --progress=json build printed besides its events. */
function nonJsonLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
}

function expectNothingLeft(root: string): void {
  expect(mountsUnder(root)).toEqual([]);
  expect(readdirSync(join(root, 'tmp')).filter((n) => n !== 'locks' && n !== 'live')).toEqual([]);
}

function context(buildfile: string): string {
  const ctx = mkdtempSync(join(t.dir, 'ctx-'));
  writeFileSync(join(ctx, 'Buildfile'), buildfile);
  return ctx;
}

test.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('%s to the whole process group during a RUN: exit %i, `interrupted` alone, nothing left', async (sig, code) => {
  const marker = `sleep 45${code}`;
  const ctx = context(`FROM busybox\nRUN ${marker}\n`);
  const job = startJob(['build', '--progress=quiet', ctx]);
  await until('the RUN to start', () => pgrep(marker) > 0);
  signalGroup(job, sig);
  expect(await job.exit).toBe(code);
  expect(job.stderr()).toBe('interrupted\n');
  await until('the container to go', () => pgrep(marker) === 0, 5000);
  expectNothingLeft(t.root);
  writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nRUN echo after > /a\n');
  await ok(['--root', t.root, 'build', '--progress=quiet', ctx]);
});

test('SIGTERM to the group during a COPY of a big file: it stops at once, exit 143, no staged blob, no image', async () => {
  const ctx = context('FROM busybox\nCOPY big /big\n');
  // Sparse: no disk to write it, but every byte is read, hashed and copied into the layer.
  writeFileSync(join(ctx, 'big'), '');
  truncateSync(join(ctx, 'big'), 2 ** 30);
  const job = startJob(['build', '--progress=json', '-t', 'sig:copy', ctx]);
  await until('the COPY to start', () => jsonEvents(job.stderr()).some((e) => e.type === 'step.start' && e.step.text === 'COPY big /big'), 60_000);
  await new Promise((r) => setTimeout(r, 300));
  signalGroup(job, 'SIGTERM');
  expect(await job.exit).toBe(143);
  expect(nonJsonLines(job.stderr())).toEqual(['interrupted']);
  // The COPY stops where it is: it neither finishes nor tags.
  expect(jsonEvents(job.stderr()).filter((e) => e.type === 'step.done' || e.type === 'build.done').map((e) => e.step?.text ?? e.type)).toEqual(['FROM busybox']);
  expectNothingLeft(t.root);
  expect(readFileSync(join(t.root, 'oci/index.json'), 'utf8')).not.toContain('sig:copy');
});

/** startSlowProxy forwards to the registry at ~2 MB/s, so a pull lasts long enough to be interrupted. */
async function startSlowProxy(port: number): Promise<{ host: string; server: Server }> {
  const server = createServer((req, res) => {
    const up = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.on('data', (c: Buffer) => {
        ur.pause();
        res.write(c);
        setTimeout(() => ur.resume(), Math.ceil(c.length / 2048));
      });
      ur.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('SIGINT to the group during a pull from the loopback registry: exit 130, nothing staged, nothing tagged', async () => {
  const ctx = context('FROM busybox\nCOPY big.txt /big.txt\n');
  writeFileSync(join(ctx, 'big.txt'), randomText(24 << 20));
  await ok(['--root', t.root, 'build', '--progress=quiet', '-t', `${registry.host}/sig/big`, '--push', ctx]);
  const proxy = await startSlowProxy(registry.port);
  try {
    const fresh = makeTempRoot();
    try {
      const job = startJob(['build', '--progress=json', context(`FROM ${proxy.host}/sig/big\nRUN true\n`)], fresh.root);
      await until('the pull to start', () => job.stderr().includes('"pulling '), 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      signalGroup(job, 'SIGINT');
      expect(await job.exit).toBe(130);
      expect(nonJsonLines(job.stderr())).toEqual(['interrupted']);
      expectNothingLeft(fresh.root);
      expect(existsSync(join(fresh.root, 'oci/index.json')) ? readFileSync(join(fresh.root, 'oci/index.json'), 'utf8') : '').not.toContain('sig/big');
    } finally {
      fresh.cleanup();
    }
  } finally {
    proxy.server.closeAllConnections();
    proxy.server.close();
  }
});

test('Ctrl-C in a real terminal (tmux) during a RUN: exit 130, `interrupted`, nothing left', async () => {
  const marker = 'sleep 4599';
  const ctx = context(`FROM busybox\nRUN ${marker}\n`);
  const done = join(t.dir, 'tty-done');
  const cmd = `trap true INT; env -u CI ${process.execPath} ${BIN} --root ${t.root} build ${ctx}; echo EXIT=$? > ${done}`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '30', `${cmd}; sleep 60`]);
  await until('the RUN to start', () => pgrep(marker) > 0);
  execFileSync('tmux', ['send-keys', '-t', session, 'C-c']);
  await until('the build to end', () => existsSync(done) && readFileSync(done, 'utf8').includes('\n'));
  const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
  expect(readFileSync(done, 'utf8')).toBe('EXIT=130\n');
  const lines = screen.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  expect(lines.at(-1)).toBe('interrupted');
  expect(screen).not.toMatch(/perl|error|internal/i);
  await until('the container to go', () => pgrep(marker) === 0, 5000);
  expectNothingLeft(t.root);
});
