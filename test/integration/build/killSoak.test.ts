/**
 * Builds on one shared root, killed at random moments with a random one of SIGKILL, SIGINT
 * and SIGTERM, two at a time: no build may leave a mount in our mount namespace or a
 * process behind, no blob may be corrupt, and the next build must give what a clean build
 * in a fresh root gives. SOAK_BUILDS sets the number of builds (100: about 90 s on a busy
 * 2-core machine); SOAK_SEED replays a run.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BIN, makeTempRoot, mountsUnder, mountsUnderAnywhere, ok, type TempRoot } from '../../helpers/cli.ts';
import { CgroupTracker } from '../../helpers/cgroupTracker.ts';
import { isRoot, makeBusyboxTar } from '../../helpers/rootfs.ts';

const BUILDS = Number(process.env.SOAK_BUILDS ?? 100);
const LANES = 2;
const SIGNALS = ['SIGKILL', 'SIGINT', 'SIGTERM'] as const;

// Shared steps first (cached once some build got past them), then steps unique to each build.
const BUILDFILE = `FROM busybox
RUN echo shared > /shared && mkdir -p /d && echo x > /d/x
ARG V
RUN echo "$V" > /v && for i in 1 2 3 4 5 6 7 8; do echo "$V$i" > /d/$i; done
COPY f /f
ARG N
RUN echo "$N" > /n && cat /v /f > /vf
RUN cat /n /vf /d/* > /all
`;

/** mulberry32 is a small seeded generator, so a failing run can be replayed with SOAK_SEED. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

describe.runIf(isRoot)('random kills on one shared root', () => {
  let t: TempRoot;
  let ctx: string;
  let base: string;
  const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1e9);
  const rnd = random(seed);
  const args = (root: string, v: number, n: string) => ['--root', root, 'build', '--progress=plain', '-t', 'soak', '--build-arg', `V=${v}`, '--build-arg', `N=${n}`, ctx];
  const env = { ...process.env, CI: 'true', SOURCE_DATE_EPOCH: '1700000000' };

  // One base image tar, imported with the same clamped time into every root: the same image id.
  const importBase = (root: string) => ok(['--root', root, 'import', base, 'busybox:latest'], { env });

  beforeAll(async () => {
    t = makeTempRoot();
    base = join(t.dir, 'busybox.tar');
    makeBusyboxTar(mkdtempSync(join(t.dir, 'bb-')), base);
    await importBase(t.root);
    ctx = mkdtempSync(join(t.dir, 'ctx-'));
    writeFileSync(join(ctx, 'Buildfile'), BUILDFILE);
    writeFileSync(join(ctx, 'f'), 'from the context\n');
  });
  afterAll(() => t.cleanup());

  /** killedBuild starts build i and kills it after delay ms; resolves with what it left in our namespace. */
  async function killedBuild(i: number, procs: CgroupTracker, delay: number, signal: (typeof SIGNALS)[number]): Promise<{ code: number | null; mounts: string[]; processes: string[] }> {
    const [cmd, ...argv] = procs.wrap([process.execPath, BIN, ...args(t.root, i % 4, `build-${i}`)]);
    const child = spawn(cmd!, argv, { stdio: ['ignore', 'ignore', 'ignore'], env });
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await Promise.race([new Promise((r) => setTimeout(r, delay)), closed]);
    child.kill(signal);
    const code = await closed;
    // What a dead build leaves must be gone when it is, without any later command's help.
    const mounts = mountsUnder(t.root);
    return { code, mounts, processes: await procs.settle(10_000) };
  }

  test(`${BUILDS} builds, each killed at a random moment`, { timeout: 60_000 + BUILDS * 8_000 }, async () => {
    // How long one build of a unique N takes here and now (the shared steps cached): kills land within it.
    await ok(args(t.root, 0, 'warm-up'), { env });
    const t0 = Date.now();
    await ok(args(t.root, 1, 'timing'), { env });
    const span = Math.max(200, (Date.now() - t0) * 1.2);
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    const lanes = Array.from({ length: LANES }, (_, lane) => (async () => {
      const procs = new CgroupTracker(`tsbuild-soak-${lane}`);
      try {
        for (let i = lane; i < BUILDS; i += LANES) {
          const signal = SIGNALS[Math.floor(rnd() * SIGNALS.length)]!;
          const delay = Math.floor(rnd() * span);
          const r = await killedBuild(i, procs, delay, signal);
          const what = `build ${i} (${signal} at ${delay} ms, exit ${r.code})`;
          outcomes.set(`${signal}/${r.code}`, (outcomes.get(`${signal}/${r.code}`) ?? 0) + 1);
          if (r.mounts.length) failures.push(`${what} left mounts: ${r.mounts.join(', ')}`);
          if (r.processes.length) failures.push(`${what} left processes: ${r.processes.join('; ')}`);
        }
      } finally {
        procs.remove();
      }
    })());
    await Promise.all(lanes);
    const summary = `seed ${seed}, span ${span} ms, signal/exit: ${JSON.stringify(Object.fromEntries(outcomes))}`;
    expect(failures, summary).toEqual([]);
    // Most kills must land within a build, or this proves little.
    const finished = [...outcomes].filter(([k]) => k.endsWith('/0')).reduce((a, [, n]) => a + n, 0);
    expect(finished, summary).toBeLessThan(BUILDS / 2);

    // Every blob is what its name says.
    const blobs = join(t.root, 'oci/blobs/sha256');
    const bad: string[] = [];
    for (const name of readdirSync(blobs)) if ((await sha256File(join(blobs, name))) !== name) bad.push(name);
    expect(bad, 'corrupt blobs').toEqual([]);

    // The next build cleans what the dead ones left and gives a clean build's image.
    for (const v of [0, 1]) {
      const iid = join(t.dir, `iid-${v}`);
      await ok([...args(t.root, v, 'after'), '--iidfile', iid], { env });
      const fresh = makeTempRoot();
      try {
        await importBase(fresh.root);
        const freshIid = join(fresh.dir, 'iid');
        await ok([...args(fresh.root, v, 'after'), '--iidfile', freshIid], { env });
        expect(readFileSync(iid, 'utf8'), `V=${v}: the shared root's image against a fresh root's`).toBe(readFileSync(freshIid, 'utf8'));
      } finally {
        fresh.cleanup();
      }
    }
    // Not in our namespace, and not in any other: every namespace that held a build's mounts is gone.
    expect(mountsUnderAnywhere(t.root)).toEqual([]);
    expect(readdirSync(join(t.root, 'tmp')).filter((n) => n !== 'locks' && n !== 'live'), 'staging left by dead builds').toEqual([]);
  });
});
