import { readFile } from 'node:fs/promises';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { secureJoin } from '../sys/secureJoin.ts';

/** Owner is the numeric owner a file operation writes. */
export interface Owner {
  uid: number;
  gid: number;
}

/**
 * resolveChown resolves a `--chown` / WORKDIR-owner spec (`user`, `user:group`, names or
 * numbers) against the image's /etc/passwd and /etc/group the way BuildKit's file operations
 * do: a numeric user means uid = gid = that number; a named user takes its passwd uid and
 * primary gid; a group, when given, overrides the gid (by name from /etc/group, or as a
 * number). Unlike Docker 20.10, which silently falls back to 0:0, an unknown name is an
 * error (USER_UNKNOWN), as in later BuildKit releases.
 */
export async function resolveChown(rootfs: string, spec: string): Promise<Owner> {
  const [user = '', group] = spec.split(/:(.*)/s, 2);
  const out: Owner = { uid: 0, gid: 0 };
  if (/^\d+$/.test(user)) {
    out.uid = out.gid = Number(user);
  } else if (user !== '') {
    const e = (await table(rootfs, '/etc/passwd')).find((f) => f[0] === user);
    if (!e) throw new TsbuildError('USER_UNKNOWN', `unable to find user ${user}: no matching entries in passwd file`);
    out.uid = Number(e[2]);
    out.gid = Number(e[3]);
  }
  if (group !== undefined && group !== '') {
    if (/^\d+$/.test(group)) out.gid = Number(group);
    else {
      const g = (await table(rootfs, '/etc/group')).find((f) => f[0] === group);
      if (!g) throw new TsbuildError('USER_UNKNOWN', `unable to find group ${group}: no matching entries in group file`);
      out.gid = Number(g[2]);
    }
  }
  return out;
}

async function table(rootfs: string, file: string): Promise<string[][]> {
  let text = '';
  try {
    text = await readFile(await secureJoin(rootfs, file), 'utf8');
  } catch (e) {
    if (!isErrno(e, 'ENOENT') && !isErrno(e, 'ENOTDIR') && !isErrno(e, 'EISDIR')) throw e;
  }
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l) => l.split(':'));
}
