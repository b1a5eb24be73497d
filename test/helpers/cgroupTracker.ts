import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * CgroupTracker follows every process a command starts, however deep and however
 * orphaned (a killed parent's children are reparented away from it, so a process tree
 * cannot tell): the command joins a fresh cgroup before it execs, and the kernel puts
 * every descendant in it. The pids controller of cgroup v1, else the v2 hierarchy.
 */
export class CgroupTracker {
  readonly dir: string;

  constructor(prefix = 'tsbuild-test') {
    const v1 = '/sys/fs/cgroup/pids';
    const base = existsSync(join(v1, 'cgroup.procs')) ? v1 : '/sys/fs/cgroup';
    if (!existsSync(join(base, 'cgroup.procs'))) throw new Error('no writable cgroup hierarchy (pids v1 or v2) to track processes in');
    this.dir = join(base, `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(this.dir);
  }

  /** wrap gives the argv that runs argv inside the cgroup (a shell joins it, then execs). */
  wrap(argv: readonly string[]): string[] {
    return ['/bin/sh', '-c', `echo $$ > '${this.dir}/cgroup.procs' && exec "$@"`, 'sh', ...argv];
  }

  /** pids lists the processes in the cgroup now. */
  pids(): number[] {
    return readFileSync(join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  }

  /** describe names the processes in the cgroup (pid and command line), for failure messages. */
  describe(): string[] {
    return this.pids().map((p) => {
      let cmd = '?';
      try {
        cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120);
      } catch { /* gone meanwhile */ }
      return `${p} ${cmd}`;
    });
  }

  /** settle waits up to ms for the cgroup to empty and returns what is still in it. */
  async settle(ms: number): Promise<string[]> {
    for (const end = Date.now() + ms; this.pids().length > 0 && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    return this.describe();
  }

  /** remove deletes the cgroup (it must be empty). */
  remove(): void {
    try {
      rmdirSync(this.dir);
    } catch { /* still busy: left for the test's failure to explain */ }
  }
}
