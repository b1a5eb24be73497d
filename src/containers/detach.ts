import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsbuildError } from '../core/errors.ts';
import type { ContainerStore } from './ContainerStore.ts';
import type { ContainerView } from './types.ts';

/** LOG_FILE is where a detached container's stdout and stderr go, inside its directory. */
export const LOG_FILE = 'container.log';

/**
 * startDetached starts argv (a tsbuild invocation that supervises container c
 * in its foreground: `container start -a ID`) as a daemon-like child in its
 * own session, output appended to the container's log, and waits until the
 * record says running (or the child has failed: its log's last line is the
 * error). (The one spawn outside sys/: it starts tsbuild itself, not a tool.)
 */
export async function startDetached(argv: readonly string[], c: ContainerView, containers: ContainerStore, env: NodeJS.ProcessEnv): Promise<void> {
  const logPath = join(c.dir, LOG_FILE);
  const fd = openSync(logPath, 'a', 0o600);
  let exited = false;
  try {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env });
    child.once('exit', () => (exited = true));
    child.unref();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = await containers.resolve(c.id).catch(() => undefined);
      if (now?.state.startedAt !== undefined && now.state.startedAt !== c.state.startedAt) return;
      if (exited) {
        const log = (await readFile(logPath, 'utf8').catch(() => '')).trim().split('\n').filter((l) => l.startsWith('error:'));
        // No error line: the container ran and ended already (and may be gone with --rm).
        if (log.length === 0) return;
        throw new TsbuildError('RUNTIME', `start container ${c.name}: ${log.at(-1)!.replace(/^error: /, '')}`);
      }
      if (Date.now() > deadline) throw new TsbuildError('RUNTIME', `start container ${c.name}: not running after 30 s`, { hint: `see ${logPath}` });
      await sleep(20);
    }
  } finally {
    closeSync(fd);
  }
}
