import { access, constants, readFile } from 'node:fs/promises';
import { spawnStreaming, type StreamingChild, type StreamingStdio } from './spawnStreaming.ts';

/** HostTools are the absolute paths of the host binaries the unshare executor runs before the root switch. */
export interface HostTools {
  unshare: string;
  setpriv: string;
  mount: string;
  env: string;
  sh: string;
  /** iproute2, to bring lo up in a fresh network namespace; without it lo stays down. */
  ip?: string;
}

const SEARCH = ['/usr/bin', '/usr/sbin', '/bin', '/sbin'];

async function find(name: string): Promise<string | undefined> {
  for (const d of SEARCH) {
    const p = `${d}/${name}`;
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  return undefined;
}

/**
 * findHostTools locates the util-linux/coreutils binaries in the usual system dirs
 * (never through $PATH, which a build could not control anyway); the names it could
 * not find are returned in `missing`.
 */
export async function findHostTools(): Promise<{ tools?: HostTools; missing: string[] }> {
  const names = ['unshare', 'setpriv', 'mount', 'env', 'sh'] as const;
  const found = await Promise.all(names.map(find));
  const missing = names.filter((_, i) => found[i] === undefined);
  if (missing.length > 0) return { missing };
  const [unshare, setpriv, mount, env, sh] = found as string[];
  const ip = await find('ip');
  return { tools: { unshare: unshare!, setpriv: setpriv!, mount: mount!, env: env!, sh: sh!, ...(ip ? { ip } : {}) }, missing: [] };
}

/**
 * unshareRun starts argv (whose first element is the unshare binary) with a minimal
 * environment: the container's own environment is passed further down the chain by
 * `env -i`, so nothing of ours leaks into it.
 */
export function unshareRun(argv: readonly string[], stdio: StreamingStdio): StreamingChild {
  return spawnStreaming(argv[0]!, argv.slice(1), stdio, { PATH: SEARCH.join(':') });
}

/**
 * killPidNamespace SIGKILLs the children of pid (for `unshare --fork --pid`, the
 * namespace's init, whose death makes the kernel kill every process in it).
 * Returns how many it signalled; 0 while unshare has not forked yet (or is done).
 */
export async function killPidNamespace(pid: number): Promise<number> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return 0;
  }
  let n = 0;
  for (const c of text.split(' ').filter(Boolean)) {
    try {
      process.kill(Number(c), 'SIGKILL');
      n++;
    } catch { /* already gone */ }
  }
  return n;
}
