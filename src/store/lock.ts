import { randomBytes } from 'node:crypto';
import { mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { isAlive, ownId } from './liveness.ts';
import { DIR_MODE, FILE_MODE } from './permissions.ts';

/** LockOptions tune how long a lock waits for another holder. */
export interface LockOptions {
  /** Give up after this long (default 60 s) with TsbuildError('LOCKED'); Infinity waits for good. */
  timeoutMs?: number;
  /** Stop waiting (with the signal's reason) when it is aborted. */
  signal?: AbortSignal;
}

/** LOCK_NAME is what a lock may be called: it never holds '@', which ends the name in an entry. */
export const LOCK_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** Release gives a lock back. */
export type Release = () => Promise<void>;

/** In this process, holders of one lock queue on a promise chain (no polling); the tail is kept here. */
const inProcess = new Map<string, Promise<unknown>>();

/**
 * withFileLock runs fn holding the lock `name` of the store whose staging dir is tmpDir,
 * across processes in any PID namespace and within this process (see acquire).
 */
export async function withFileLock<T>(tmpDir: string, name: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = await acquireLock(tmpDir, name, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * acquireLock waits for the lock `name` and returns its release. Across processes a lock
 * is the entries `tmp/locks/<name>@<owner id>-<nonce>`: a taker creates its entry, then lists
 * the others; if another one's owner is alive (liveness.ts: the kernel's word, in any PID
 * namespace) it removes its entry and waits. Of two takers, the later to create its entry
 * sees the earlier's, so two never both hold it. An entry whose owner died is removed by
 * whoever finds it: a killed holder never blocks anyone.
 */
export async function acquireLock(tmpDir: string, name: string, opts: LockOptions = {}): Promise<Release> {
  return (await takeLock(tmpDir, name, opts.timeoutMs ?? 60_000, true, opts.signal))!;
}

/**
 * tryLock takes the lock `name` if nobody (in this process or another) holds it, and
 * returns its release; else undefined at once. Two processes trying at the same moment
 * may both get undefined.
 */
export async function tryLock(tmpDir: string, name: string): Promise<Release | undefined> {
  if (inProcess.has(lockKey(tmpDir, name))) return undefined;
  return takeLock(tmpDir, name, 0, false);
}

function lockKey(tmpDir: string, name: string): string {
  return `${tmpDir}\0${name}`;
}

async function takeLock(tmpDir: string, name: string, timeoutMs: number, wait: boolean, signal?: AbortSignal): Promise<Release | undefined> {
  if (!LOCK_NAME.test(name)) throw new TsbuildError('INTERNAL', `bad lock name "${name}"`);
  const key = lockKey(tmpDir, name);
  const prev = inProcess.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  inProcess.set(key, mine);
  // The next one in this process may go once we are done and so is everyone before us.
  const free = () => void prev.then(() => {
    if (inProcess.get(key) === mine) inProcess.delete(key);
    done();
  });
  let entry: string | undefined;
  try {
    await untilAborted(prev, signal);
    entry = await takeEntry(tmpDir, name, timeoutMs, wait, signal);
  } catch (e) {
    free();
    throw e;
  }
  if (entry === undefined) {
    free();
    return undefined;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      await unlink(entry).catch((e: unknown) => { if (!isErrno(e, 'ENOENT')) throw e; });
    } finally {
      free();
    }
  };
}

/** untilAborted waits for p, or rejects with signal's reason once it is aborted. */
async function untilAborted(p: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) {
    await p;
    return;
  }
  signal.throwIfAborted();
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([p, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function takeEntry(tmpDir: string, name: string, timeoutMs: number, wait: boolean, signal?: AbortSignal): Promise<string | undefined> {
  const dir = join(tmpDir, 'locks');
  const prefix = `${name}@`;
  const mineName = `${prefix}${ownId(tmpDir)}-${randomBytes(4).toString('hex')}`;
  const mine = join(dir, mineName);
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (let tries = 0; ; tries++) {
    signal?.throwIfAborted();
    if ((await liveHolder(tmpDir, dir, prefix, mineName)) === undefined) {
      await create(mine);
      if ((await liveHolder(tmpDir, dir, prefix, mineName)) === undefined) return mine;
      // Another taker came at the same time: both step back, for a random while.
      await unlink(mine);
      if (!wait && tries < 2) {
        await sleep(1 + Math.random() * 4);
        continue;
      }
    }
    if (!wait) return undefined;
    if (Date.now() > deadline) {
      throw new TsbuildError('LOCKED', `lock ${name} in ${dir}: held by another tsbuild process for more than ${timeoutMs / 1000}s`, {
        hint: 'another tsbuild process is using this store',
      });
    }
    await sleep(delay * (0.5 + Math.random()), undefined, signal ? { signal } : {}).catch(() => signal?.throwIfAborted());
    delay = Math.min(delay * 2, 100);
  }
}

async function create(path: string): Promise<void> {
  try {
    await writeFile(path, '', { flag: 'wx', mode: FILE_MODE });
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw new TsbuildError('IO', `lock ${path}: ${(e as Error).message}`, { cause: e });
    await mkdir(join(path, '..'), { recursive: true, mode: DIR_MODE });
    await writeFile(path, '', { flag: 'wx', mode: FILE_MODE });
  }
}

/** liveHolder returns the owner id of another live entry of the lock, removing dead ones. */
async function liveHolder(tmpDir: string, dir: string, prefix: string, mineName: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
  for (const n of names) {
    if (n === mineName || !n.startsWith(prefix)) continue;
    const owner = n.slice(prefix.length, prefix.length + 16);
    if (await isAlive(tmpDir, owner)) return owner;
    // Its owner is gone for good (ids are never reused): nobody else can need the entry.
    await unlink(join(dir, n)).catch(() => undefined);
  }
  return undefined;
}

/** sweepLocks removes the lock entries of dead processes (a killed build's step locks); returns how many. */
export async function sweepLocks(tmpDir: string): Promise<number> {
  const dir = join(tmpDir, 'locks');
  let n = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const at = name.lastIndexOf('@');
    if (at < 0 || (await isAlive(tmpDir, name.slice(at + 1, at + 17)))) continue;
    await unlink(join(dir, name)).catch(() => undefined);
    n++;
  }
  return n;
}
