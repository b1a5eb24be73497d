import { readFile } from 'node:fs/promises';

/**
 * processStartTime returns the start time of pid in clock ticks since boot
 * (/proc/PID/stat field 22), or undefined when there is no such process.
 * A pid plus its start time names one process of this PID namespace for good (pids are
 * reused, start times not); whether a process is alive is store/liveness.ts's question.
 */
export async function processStartTime(pid: number): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined; // a zombie supervises nothing
  const start = Number(rest[19]);
  return Number.isFinite(start) ? start : undefined;
}
