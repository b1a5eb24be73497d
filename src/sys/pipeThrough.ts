import { PassThrough, type Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { TsbuildError, type ErrorCode } from '../core/errors.ts';
import { spawnStreaming } from './spawnStreaming.ts';

/** STDERR_LIMIT bounds how much of a filter's stderr is kept for the error message. */
const STDERR_LIMIT = 4096;

/**
 * pipeThrough streams input through a filter process (`cmd args`: stdin → stdout,
 * e.g. `zstd -d -c`) and returns its output. The output ends only after the
 * process exited 0; a non-zero exit, a failed start or an input error destroys it
 * with TsbuildError(code) naming the command and its last stderr line. Destroying
 * the output early (a consumer that gives up) kills the process.
 */
export function pipeThrough(cmd: string, args: readonly string[], input: Readable, code: ErrorCode = 'IO'): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let stderr = '';
  const errSink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.toString('utf8');
      cb();
    },
  });
  const child = spawnStreaming(cmd, args, { stdin: input, stdout: out, stderr: errSink });
  let failed = false;
  const fail = (e: Error) => {
    if (failed) return;
    failed = true;
    child.kill('SIGKILL');
    out.destroy(e);
  };
  input.once('error', (e) => fail(new TsbuildError(code, `${cmd}: reading its input: ${e.message}`, { cause: e })));
  out.once('close', () => { if (!out.readableEnded) child.kill('SIGKILL'); });
  child.done.then(
    (exit) => {
      if (failed || out.destroyed) return;
      if (exit.code === 0) { out.end(); return; }
      const why = stderr.trim().split('\n').pop() || (exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code}`);
      fail(new TsbuildError(code, `${cmd} ${args.join(' ')}: ${why}`));
    },
    (e: Error) => fail(e instanceof TsbuildError ? e : new TsbuildError(code, `${cmd}: ${e.message}`, { cause: e })),
  );
  return out;
}
