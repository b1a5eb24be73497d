/**
 * Records the expected outputs of the compat fixtures from Docker (the reference).
 * Run with `node scripts/record-compat.mjs [case ...]` (root; installs and starts
 * Debian's docker.io when needed). Never run by the tests.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBusyboxTar } from '../../helpers/rootfs.ts';
import { configSubset, flatten, fromImportedBase, historySubset, listing, stableJson, type FsTree } from '../../helpers/fslisting.ts';
import { buildFlags, loadCases, prepareContext, serveHttp, stopHttp, type Case } from './cases.ts';

const DOCKER = '/usr/bin/docker';

/** shAsync runs a command without blocking the event loop (the case's HTTP server lives in this process). */
function shAsync(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): Promise<{ code: number; out: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => {
      if (code !== 0 && !opts.allowFail) rej(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${out}`));
      else res({ code: code ?? 1, out });
    });
  });
}

function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${out}`);
  return { code: r.status ?? 1, out };
}

async function ensureDocker(): Promise<void> {
  if (!existsSync(DOCKER)) sh('apt-get', ['install', '-y', 'docker.io'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
  if (sh(DOCKER, ['info'], { allowFail: true }).code === 0) return;
  const d = spawn('dockerd', ['--iptables=false', '--ip6tables=false', '--bridge=none'], { detached: true, stdio: 'ignore' });
  d.unref();
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    if (sh(DOCKER, ['info'], { allowFail: true }).code === 0) return;
  }
  throw new Error('dockerd did not come up (see `dockerd` output)');
}

function flattenSave(tarPath: string, work: string): { tree: Promise<FsTree>; config: Record<string, any> } {
  const dir = join(work, 'save');
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xf', tarPath, '-C', dir]);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))[0];
  const config = JSON.parse(readFileSync(join(dir, manifest.Config), 'utf8'));
  return { tree: flatten(manifest.Layers.map((l: string) => join(dir, l))), config };
}

async function recordCase(c: Case, base: FsTree, work: string): Promise<string> {
  if (!c.spec.reference.startsWith('docker')) return 'kept (hand-written)';
  const exp = join(c.dir, 'expected');
  rmSync(exp, { recursive: true, force: true });
  mkdirSync(exp, { recursive: true });
  sh(DOCKER, ['builder', 'prune', '-af'], { allowFail: true });
  const ctx = prepareContext(c, join(work, 'context'));
  const env = { DOCKER_BUILDKIT: '1', ...c.spec.env };
  const server = c.spec.http ? await serveHttp(c) : undefined;
  try {
    for (const p of c.spec.pre ?? []) {
      const args = ['build', '--network=host', '--progress=plain', '-f', join(c.dir, p.file), ...(p.tag ? ['-t', p.tag] : []), ...buildFlags(c, p.buildArgs ?? []), ctx];
      await shAsync(DOCKER, args, { env });
    }
    const tag = `compat-${c.name}`;
    sh(DOCKER, ['rmi', '-f', tag], { allowFail: true });
    const r = await shAsync(DOCKER, ['build', '--network=host', '--progress=plain', '-f', join(c.dir, 'Buildfile'), '-t', tag, ...buildFlags(c), ctx], { env, allowFail: true });
    writeFileSync(join(work, 'build.log'), r.out);
    const warnings = r.out.split('\n').filter((l) => /warn/i.test(l));
    if (warnings.length) writeFileSync(join(exp, 'warnings.txt'), warnings.join('\n') + '\n');
    if (c.spec.error !== undefined) {
      if (r.code === 0) throw new Error(`${c.name}: Docker built it, but case.json expects an error`);
      const lines = r.out.trim().split('\n');
      writeFileSync(join(exp, 'error.txt'), lines.slice(-3).join('\n').replace(/#\d+ sha256:[0-9a-f]+\n/g, '') + '\n');
      return 'error recorded';
    }
    if (r.code !== 0) throw new Error(`${c.name}: docker build failed:\n${r.out.split('\n').slice(-15).join('\n')}`);
    const tar = join(work, 'image.tar');
    sh(DOCKER, ['save', '-o', tar, tag]);
    const { tree, config } = flattenSave(tar, work);
    writeFileSync(join(exp, 'fs.txt'), listing(await tree, fromImportedBase(config.history) ? base : undefined));
    writeFileSync(join(exp, 'config.json'), stableJson(configSubset(config.config)));
    writeFileSync(join(exp, 'history.json'), stableJson(historySubset(config.history)));
    return 'recorded';
  } finally {
    if (server) await stopHttp(server);
  }
}

async function main(): Promise<void> {
  await ensureDocker();
  const work = mkdtempSync(join(tmpdir(), 'record-compat-'));
  try {
    const bbTar = join(work, 'busybox.tar');
    makeBusyboxTar(mkdtempSync(join(work, 'bb-')), bbTar);
    sh(DOCKER, ['import', bbTar, 'busybox:latest']);
    const base = await flatten([bbTar]);
    let failed = 0;
    for (const c of loadCases(process.argv.slice(2))) {
      const caseWork = mkdtempSync(join(work, `${c.name}-`));
      try {
        console.log(`${c.name}: ${await recordCase(c, base, caseWork)}`);
      } catch (e) {
        failed++;
        console.log(`${c.name}: FAILED ${(e as Error).message}`);
      } finally {
        rmSync(caseWork, { recursive: true, force: true });
      }
    }
    if (failed) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
