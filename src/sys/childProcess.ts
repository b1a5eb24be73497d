import type * as ChildProcessModule from 'node:child_process';

/**
 * childProcess is node:child_process, loaded on first use: it pulls in net and
 * dgram (~3 ms of start-up), and a fully cached build spawns nothing, so the
 * modules that spawn take it from here rather than importing it at the top.
 */
export function childProcess(): typeof ChildProcessModule {
  return process.getBuiltinModule('node:child_process');
}
