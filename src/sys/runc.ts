import { readFile } from 'node:fs/promises';
import { runTool } from './run.ts';
import { spawnStreaming, type StreamingChild, type StreamingStdio } from './spawnStreaming.ts';

/** RuncGlobal names the runc binary and the state root it keeps its containers in. */
export interface RuncGlobal {
  /** The runc binary (a path, or a name looked up on PATH). */
  bin: string;
  /** runc --root: where container state lives; ours, so nothing leaks into /run/runc. */
  root: string;
}

function globalArgs(g: RuncGlobal, log?: string): string[] {
  return log ? ['--root', g.root, '--log', log, '--log-format', 'json'] : ['--root', g.root];
}

/**
 * runcRun starts `runc run` in the foreground: runc creates, starts and waits for the
 * container and deletes it when it exits, so a normal run needs no second runc call.
 * The exit status is the container's (128+n when killed by signal n). runc's own
 * errors go to stderr and, as JSON lines, to logFile (see runcErrors). With
 * mountNamespaceOf, runc runs in that process's mount namespace (util-linux nsenter
 * joins it and execs runc: the same pid, the same stdio), where the bundle's root is.
 */
export function runcRun(g: RuncGlobal, opts: { bundle: string; id: string; logFile: string; stdio: StreamingStdio; mountNamespaceOf?: number }): StreamingChild {
  const args = [...globalArgs(g, opts.logFile), 'run', '--bundle', opts.bundle, opts.id];
  if (opts.mountNamespaceOf === undefined) return spawnStreaming(g.bin, args, opts.stdio);
  return spawnStreaming(NSENTER, [`--mount=/proc/${opts.mountNamespaceOf}/ns/mnt`, '--', g.bin, ...args], opts.stdio);
}

const NSENTER = 'nsenter';

/** runcKill sends signal to the container's init; false when runc refused (e.g. not created yet, or gone). */
export async function runcKill(g: RuncGlobal, id: string, signal = 'KILL'): Promise<boolean> {
  const r = await runTool(g.bin, [...globalArgs(g), 'kill', id, signal], { allowFail: true, code: 'RUNTIME' });
  return r.code === 0;
}

/** runcDeleteForce kills (if needed) and deletes the container and its state; a missing container is fine. */
export async function runcDeleteForce(g: RuncGlobal, id: string): Promise<void> {
  await runTool(g.bin, [...globalArgs(g), 'delete', '--force', id], { allowFail: true, code: 'RUNTIME' });
}

/** runcVersion returns `runc --version`'s first line, or undefined when runc is missing or broken. */
export async function runcVersion(bin = 'runc'): Promise<string | undefined> {
  try {
    const r = await runTool(bin, ['--version'], { allowFail: true, code: 'RUNTIME' });
    return r.code === 0 ? r.stdout.split('\n')[0] : undefined;
  } catch {
    return undefined;
  }
}

/** runcErrors reads the error-level messages from a runc --log-format json log (missing log: none). */
export async function runcErrors(logFile: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as { level?: string; msg?: string };
      if ((e.level === 'error' || e.level === 'fatal') && e.msg) out.push(e.msg);
    } catch {
      out.push(line);
    }
  }
  return out;
}
