import { lstat, readFile } from 'node:fs/promises';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { secureJoin } from '../sys/secureJoin.ts';

/** ResolvedUser is the numeric identity a container process runs as. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: only filled for the implicit form (`name` or `uid`, no `:group`). */
  additionalGids: number[];
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

const MAX_ID = 2 ** 31 - 1;

/**
 * resolveUser turns a Dockerfile USER value into ids, with Docker's (moby/sys/user
 * GetExecUser) semantics: "" is uid 0; `user` and `user:group` take names or numbers;
 * a number always means an id, and a numeric uid with no passwd entry is fine (gid 0);
 * an unknown name throws TsbuildError('USER_UNKNOWN'). The primary gid comes from passwd
 * unless a group is given; supplementary groups (from /etc/group membership) only in
 * the implicit form. /etc/passwd and /etc/group are read through secureJoin, so a
 * symlink planted in the image cannot make us read host files.
 */
export async function resolveUser(rootfs: string, userSpec: string): Promise<ResolvedUser> {
  const colon = userSpec.indexOf(':');
  const userArg = colon < 0 ? userSpec : userSpec.slice(0, colon);
  const groupArg = colon < 0 ? '' : userSpec.slice(colon + 1);
  const uidArg = parseId(userArg);
  const gidArg = parseId(groupArg);

  const passwd = parsePasswd(await readImageFile(rootfs, '/etc/passwd'));
  const found = passwd.find((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  const out: ResolvedUser = { uid: 0, gid: 0, additionalGids: [] };
  if (found) {
    out.uid = found.uid;
    out.gid = found.gid;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw unknown('user', userArg, 'passwd');
    out.uid = uidArg;
  }
  if (groupArg === '' && !found) return out;

  const groups = parseGroup(await readImageFile(rootfs, '/etc/group'));
  if (groupArg !== '') {
    const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
    if (g) out.gid = g.gid;
    else if (gidArg !== undefined) out.gid = gidArg;
    else throw unknown('group', groupArg, 'group');
    return out;
  }
  out.additionalGids = groups.filter((g) => g.members.includes(found!.name)).map((g) => g.gid);
  return out;
}

/**
 * homeDir is the home directory of the first passwd entry with uid, as runc sets
 * $HOME when the image does not: "/" when there is no such entry (or it has no home).
 */
export async function homeDir(rootfs: string, uid: number): Promise<string> {
  const u = parsePasswd(await readImageFile(rootfs, '/etc/passwd')).find((e) => e.uid === uid);
  return u?.home || '/';
}

function unknown(kind: 'user' | 'group', name: string, file: string): TsbuildError {
  return new TsbuildError('USER_UNKNOWN', `unable to find ${kind} ${name}: no matching entries in ${file} file`, {
    hint: kind === 'user' ? 'create the user in an earlier step (e.g. RUN useradd ...) or use a numeric uid' : 'create the group first or use a numeric gid',
  });
}

/** parseId accepts a decimal id in [0, 2^31-1]; anything else (out of range too) is a name: undefined. */
function parseId(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

/** readImageFile reads a regular file of the image; a missing or non-regular file reads as empty. */
async function readImageFile(rootfs: string, path: string): Promise<string> {
  try {
    const p = await secureJoin(rootfs, path);
    // lstat, not stat: secureJoin already followed links within rootfs; a FIFO or device here would hang or leak.
    if (!(await lstat(p)).isFile()) return '';
    return await readFile(p, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return '';
    throw new TsbuildError('IO', `read ${path} of the image: ${(e as Error).message}`, { cause: e });
  }
}

function fields(text: string): string[][] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
}

/** parsePasswd reads `name:x:uid:gid:gecos:home:shell` lines, skipping malformed ones. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of fields(text)) {
    const uid = parseId(f[2] ?? ''); const gid = parseId(f[3] ?? '');
    if (f[0] && uid !== undefined && gid !== undefined) out.push({ name: f[0], uid, gid, home: f[5] ?? '' });
  }
  return out;
}

/** parseGroup reads `name:x:gid:member,member` lines, skipping malformed ones. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of fields(text)) {
    const gid = parseId(f[2] ?? '');
    if (f[0] && gid !== undefined) out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}
