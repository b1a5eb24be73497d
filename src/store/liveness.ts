// Whether another process using the store is alive is the kernel's word, never a pid's.
// A pid means nothing in another PID namespace (a CI job in a container sharing the store
// volume sees other pids, and ours name someone else there), and is reused. Instead each
// process that leaves something in a store for a while (a staging dir, a lock, a mount, an
// unsynced marker) first listens on a Unix socket ROOT/tmp/live/<id>, and writes that id
// where it used to write its pid. The kernel closes the socket when the process dies, however
// it dies: connect() then fails with ECONNREFUSED (the file stays) in every PID and network
// namespace, while a live holder's socket accepts even when its event loop is busy (the
// kernel queues the connection). See docs/ARCHITECTURE.md, "Liveness is a listening socket".
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { TsbuildError, isErrno } from '../core/errors.ts';

/** OWN_ID names this process in every store it uses: 16 hex digits, random, never reused. */
const OWN_ID = randomBytes(8).toString('hex');

/** LIVE_ID matches a process id as ownId gives them. */
export const LIVE_ID = /^[0-9a-f]{16}$/;

/** A store's live/ directory as this process reaches it: an open fd (paths through it stay short). */
interface LiveDir {
  fd: number;
  server?: Server;
}

const dirs = new Map<string, LiveDir>();

/** liveDir is where the sockets of the store whose staging dir is tmpDir live. */
function liveDir(tmpDir: string): string {
  return join(tmpDir, 'live');
}

/**
 * socketPath names a socket in dir through /proc/self/fd: a Unix socket address holds at
 * most 107 bytes, and a store root may be longer than that.
 */
function socketPath(d: LiveDir, id: string): string {
  return `/proc/self/fd/${d.fd}/${id}`;
}

function openDir(tmpDir: string, create: boolean): LiveDir | undefined {
  const path = liveDir(tmpDir);
  let d = dirs.get(path);
  if (d) return d;
  try {
    if (create) mkdirSync(path, { recursive: true, mode: 0o700 });
    d = { fd: openSync(path, 'r') };
  } catch (e) {
    if (!create && isErrno(e, 'ENOENT')) return undefined;
    throw new TsbuildError('IO', `open ${path}: ${(e as Error).message}`, { cause: e });
  }
  dirs.set(path, d);
  return d;
}

/**
 * ownId makes this process present in the store whose staging dir is tmpDir (once) and
 * returns its id. It is synchronous, and the socket is listening when it returns, so a name
 * holding the id may be created right after: nobody sees it before its owner is alive.
 */
export function ownId(tmpDir: string): string {
  const d = openDir(tmpDir, true)!;
  if (d.server) return OWN_ID;
  const net = process.getBuiltinModule('node:net');
  // Accept and drop: a connection only asks whether we are here.
  const server = net.createServer((c) => c.destroy());
  server.on('error', () => undefined);
  // For a path, listen() binds and listens before it returns; only its error is reported later.
  server.listen(socketPath(d, OWN_ID));
  if (!server.listening) throw new TsbuildError('IO', `listen on ${join(liveDir(tmpDir), OWN_ID)}: cannot bind a Unix socket there`, { hint: 'the store must be on a local, writable file system' });
  server.unref();
  d.server = server;
  return OWN_ID;
}

/**
 * isAlive tells whether the process with id (from ownId) is alive, in any PID namespace.
 * A dead process's socket file is removed on the way. When the answer is uncertain (an
 * error other than "refused" or "no such socket") it says alive: never take a live
 * process's things away.
 */
export async function isAlive(tmpDir: string, id: string): Promise<boolean> {
  if (id === OWN_ID && dirs.get(liveDir(tmpDir))?.server) return true;
  if (!LIVE_ID.test(id)) return false;
  const d = openDir(tmpDir, false);
  if (!d) return false;
  const net = process.getBuiltinModule('node:net');
  const path = socketPath(d, id);
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(path);
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', (e) => resolve(!(isErrno(e, 'ECONNREFUSED') || isErrno(e, 'ENOENT'))));
  });
  if (!alive) await unlink(path).catch(() => undefined);
  return alive;
}

/** sweepLive removes the sockets of dead processes from the store's live/ dir; returns how many. */
export async function sweepLive(tmpDir: string): Promise<number> {
  let names: string[];
  try {
    names = readdirSync(liveDir(tmpDir));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return 0;
    throw e;
  }
  let n = 0;
  for (const name of names) if (name !== OWN_ID && !(await isAlive(tmpDir, name))) n++;
  return n;
}

/**
 * leaveAll removes this process's sockets, for its exit: process.exit() leaves them behind
 * (the kernel still refuses connections to them, so this is tidiness, not correctness).
 */
export function leaveAll(): void {
  for (const d of dirs.values()) {
    if (!d.server) continue;
    try {
      unlinkSync(socketPath(d, OWN_ID));
    } catch {
      // gone already
    }
  }
}
