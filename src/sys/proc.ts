import { readFile } from 'node:fs/promises';

/** processStartTime reads a process's start time (clock ticks since boot) from /proc; undefined if it is gone. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may contain spaces, so count after its closing paren.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** ownerToken identifies this process across pid reuse: `pid starttime`. */
export function ownerToken(): Promise<string> {
  ownToken ??= processStartTime(process.pid).then((start) => `${process.pid} ${start}`);
  return ownToken;
}
let ownToken: Promise<string> | undefined;

/** isOwnerAlive tells whether the process named by an ownerToken still runs (same pid and start time). */
export async function isOwnerAlive(token: string): Promise<boolean> {
  const [pid, start] = token.trim().split(' ');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return false;
  const now = await processStartTime(n);
  return now !== undefined && (start === undefined || now === start);
}
