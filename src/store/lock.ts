import { randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsbuildError, isErrno } from '../core/errors.ts';

/** LockOptions tune how long withFileLock waits for another holder. */
export interface LockOptions {
  /** Give up after this long (default 60 s) with TsbuildError('LOCKED'). */
  timeoutMs?: number;
}

// A lock file younger than this may still be getting its owner written into it.
const EMPTY_GRACE_MS = 5_000;
// A stale-breaking guard older than this belongs to a process that crashed while breaking.
const GUARD_STALE_MS = 10_000;

const inProcess = new Map<string, Promise<unknown>>();

/**
 * withFileLock runs fn while holding an exclusive lock on lockPath, across
 * processes (a file created with O_EXCL holding `pid starttime nonce`) and
 * within this process (a promise chain, so callers queue instead of polling).
 * A lock whose owner process is gone (pid dead, or reused: start time differs)
 * is broken automatically. The lock file is removed when fn settles.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const prev = inProcess.get(lockPath) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(async () => {
    const token = await acquire(lockPath, opts.timeoutMs ?? 60_000);
    try {
      return await fn();
    } finally {
      await release(lockPath, token);
    }
  });
  inProcess.set(lockPath, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(lockPath) === run) inProcess.delete(lockPath);
  }
}

async function acquire(lockPath: string, timeoutMs: number): Promise<string> {
  const token = `${process.pid} ${await startTime(process.pid)} ${randomBytes(8).toString('hex')}\n`;
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o644);
      try { await fh.writeFile(token); } finally { await fh.close(); }
      return token;
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw new TsbuildError('IO', `lock ${lockPath}: ${(e as Error).message}`, { cause: e });
    }
    const seen = await readOwner(lockPath);
    if (seen !== undefined && (await isStale(lockPath, seen))) {
      await breakStale(lockPath, seen);
      continue;
    }
    if (Date.now() > deadline) {
      throw new TsbuildError('LOCKED', `lock ${lockPath}: held by pid ${seen?.split(' ')[0] || '?'} for more than ${timeoutMs / 1000}s`, {
        hint: 'another tsbuild process is using this store; remove the lock file if that process is gone',
      });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

async function release(lockPath: string, token: string): Promise<void> {
  // Only remove the file if it is still ours (it always should be).
  if ((await readOwner(lockPath)) !== token) return;
  await unlink(lockPath).catch((e: unknown) => { if (!isErrno(e, 'ENOENT')) throw e; });
}

async function readOwner(lockPath: string): Promise<string | undefined> {
  try {
    return await readFile(lockPath, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

async function isStale(lockPath: string, owner: string): Promise<boolean> {
  const [pidText, start] = owner.trim().split(' ');
  if (!pidText) {
    // Created but not yet written, or its creator died in between.
    const st = await stat(lockPath).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs > EMPTY_GRACE_MS;
  }
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  const now = await startTime(pid);
  return now === undefined || (start !== undefined && now !== start);
}

/**
 * breakStale removes a dead owner's lock file. A guard file serialises breakers,
 * and the content is re-read under the guard, so a lock taken afresh by another
 * process between our check and our unlink is never removed.
 */
async function breakStale(lockPath: string, seen: string): Promise<void> {
  const guard = `${lockPath}.break`;
  try {
    await (await open(guard, 'wx')).close();
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw e;
    const st = await stat(guard).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > GUARD_STALE_MS) await unlink(guard).catch(() => undefined);
    await sleep(5);
    return;
  }
  try {
    if ((await readOwner(lockPath)) === seen) await unlink(lockPath).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/** startTime reads a process's start time (clock ticks since boot) from /proc; undefined if it is gone. */
async function startTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may contain spaces, so count after its closing paren.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
