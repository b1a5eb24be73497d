// Whether another tsbuild process is alive is the kernel's word, not a pid's: a build in
// another PID namespace (a CI container sharing the store volume) has pids that mean
// nothing here, or name someone else. Each test runs a holder in its own PID namespace,
// with a pid that no process of ours has, and checks that nothing it holds is taken
// while it lives, and that all of it is taken back once it is SIGKILLed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { openStore } from '../../../src/store/openStore.ts';
import { cleanupStaleMounts, cleanupStaleTmp } from '../../../src/snapshot/mounts.ts';
import { isMountPoint } from '../../../src/sys/mount.ts';
import { makeTempRoot, type TempRoot } from '../../helpers/cli.ts';
import { isRoot } from '../../helpers/rootfs.ts';

let t: TempRoot;
let worker: string;
const holders: ChildProcess[] = [];

beforeAll(async () => {
  t = makeTempRoot('tsbuild-live-');
  worker = join(t.dir, 'holder.mjs');
  await build({ entryPoints: [join(import.meta.dirname, 'fixtures/holder.ts')], bundle: true, platform: 'node', format: 'esm', outfile: worker, logLevel: 'error' });
});
afterEach(() => {
  for (const h of holders.splice(0)) h.kill('SIGKILL');
});
afterAll(() => t.cleanup());

/** freePid is a pid no process of this namespace has now. */
function freePid(): number {
  for (let p = 31_000; p > 20_000; p--) if (!existsSync(`/proc/${p}`) && !existsSync(`/proc/${p + 1}`)) return p;
  throw new Error('no free pid');
}

interface Held { info: Record<string, unknown>; hostPid: number; child: ChildProcess }

/** holder starts the fixture in a new PID namespace, as pid `freePid()` there, and waits until it holds mode's thing. */
async function holder(root: string, mode: string): Promise<Held> {
  const pid = freePid();
  // A trailing command keeps sh from exec'ing node, so node gets the pid after `pid - 1`.
  const script = `echo ${pid - 1} > /proc/sys/kernel/ns_last_pid && node "$0" "$@"; exit $?`;
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', 'sh', '-c', script, worker, root, mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  holders.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (.*)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('close', (code) => reject(new Error(`holder ${mode} exited ${code}: ${err}`)));
  });
  const info = JSON.parse(line) as Record<string, unknown> & { hostPid: number; nsPid: number };
  expect(info.nsPid).toBe(pid);
  return { info, hostPid: info.hostPid, child };
}

/** kill SIGKILLs the holder's node process (not its namespace's sh) and waits for it to go. */
async function kill(h: Held): Promise<void> {
  process.kill(h.hostPid, 'SIGKILL');
  while (existsSync(`/proc/${h.hostPid}`)) await new Promise((r) => setTimeout(r, 10));
}

const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

describe.runIf(isRoot)('liveness across PID namespaces', () => {
  test('a lock held in another PID namespace is not broken; its holder SIGKILLed, it is', async () => {
    const root = join(t.dir, 'lock');
    const h = await holder(root, 'lock');
    const store = await openStore(root);
    const taken = store.withLock('held', async () => 'acquired');
    expect(await within(taken, 1500)).toBe('timeout');
    await cleanupStaleTmp(store.dirs.tmp);
    expect(readdirSync(join(root, 'tmp/locks')).filter((n) => n.startsWith('held@'))).toHaveLength(1);
    await kill(h);
    expect(await within(taken, 5000)).toBe('acquired');
    // A killed holder's entry that nobody asked for goes with the next cleanup.
    const h2 = await holder(root, 'lock');
    await kill(h2);
    expect(readdirSync(join(root, 'tmp/locks'))).toHaveLength(1);
    await cleanupStaleTmp(store.dirs.tmp);
    expect(readdirSync(join(root, 'tmp/locks'))).toEqual([]);
  });

  test('the unsynced marker of a live process in another PID namespace is no orphan', async () => {
    const root = join(t.dir, 'marker');
    const h = await holder(root, 'marker');
    const flushed: string[] = [];
    const store = await openStore(root, { deferSync: async (_path, done) => { flushed.push(...done); } });
    await store.deferred!.begin();
    await store.deferred!.flush();
    expect(flushed).not.toContain(h.info.marker);
    expect(existsSync(h.info.marker as string)).toBe(true);
    await kill(h);
    await store.deferred!.begin();
    await store.deferred!.flush();
    expect(flushed).toContain(h.info.marker);
  });

  test("a live process's staging dir in another PID namespace is kept; a dead one's goes", async () => {
    const root = join(t.dir, 'tmp');
    const h = await holder(root, 'tmp');
    const store = await openStore(root);
    await cleanupStaleTmp(store.dirs.tmp);
    expect(existsSync(h.info.dir as string)).toBe(true);
    await kill(h);
    await cleanupStaleTmp(store.dirs.tmp);
    expect(existsSync(h.info.dir as string)).toBe(false);
  });

  test("a live process's mount in another PID namespace is kept; a dead one's is unmounted", async () => {
    const root = join(t.dir, 'mount');
    const h = await holder(root, 'mount');
    const merged = h.info.merged as string;
    expect(await cleanupStaleMounts(root)).toEqual([]);
    expect(await isMountPoint(merged)).toBe(true);
    await kill(h);
    expect(await cleanupStaleMounts(root)).toEqual([merged]);
    expect(await isMountPoint(merged)).toBe(false);
    expect(readdirSync(join(root, 'tmp')).length).toBeGreaterThan(0);
  });
});
