import type { ChildProcess } from 'node:child_process';
import { TsbuildError, type ErrorCode } from '../core/errors.ts';
import type { RunResult } from './run.ts';
import { childProcess } from './childProcess.ts';

// Each request is one line: `cd DIR && exec CMD ARGS...` run in a subshell, every
// word single-quoted. The shell answers with the command's merged output, then a
// record separator, its exit status and a newline.
const SCRIPT = `while IFS= read -r line; do (eval "$line") 2>&1 </dev/null; printf '\\036%d\\n' "$?"; done`;
const END = /\x1e(\d+)\n$/;

interface Pending {
  resolve: (r: { code: number; output: string }) => void;
}

/** ToolServerOptions: ownMountNamespace runs the shell in a mount namespace of its own (see ToolServer). */
export interface ToolServerOptions {
  ownMountNamespace?: boolean;
}

/**
 * ToolServer runs short host tools (mount(8), umount(8) where the perl server cannot
 * make the calls) through one long-lived /bin/sh. Forking a large Node process costs
 * ~10 ms of its CPU per spawn; a build step mounts and unmounts once each, so this
 * halves the per-step spawn cost. The shell exits when our end of its stdin closes,
 * also when tsbuild is killed. Requests are served one at a time, in order. With
 * ownMountNamespace, util-linux unshare(1) (the package of mount(8)) starts the shell
 * in a mount namespace of its own, propagation slave, as the perl server unshares
 * one: what it mounts is torn down with it (sys/mount.ts, mountView).
 */
export class ToolServer {
  readonly #child: ChildProcess;
  readonly #queue: Pending[] = [];
  #buf = '';
  #dead: Error | undefined;

  constructor(opts: ToolServerOptions = {}) {
    const [cmd, ...args] = [...(opts.ownMountNamespace ? ['unshare', '--mount', '--propagation', 'slave'] : []), '/bin/sh', '-c', SCRIPT];
    // Its own session: a signal to our process group (Ctrl-C) must not kill the shell that
    // cleanup still needs; it ends with our end of its stdin.
    this.#child = childProcess().spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' }, detached: true });
    this.#child.stdout!.setEncoding('utf8').on('data', (d: string) => this.#onData(d));
    this.#child.on('error', (e) => this.#fail(e));
    this.#child.on('exit', () => this.#fail(new Error('tool server exited')));
    this.#child.stdin!.on('error', () => {});
    this.#idle();
  }

  /** pid of the shell (unshare execs it: the same process). */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** dead tells whether the shell has exited (or never started). */
  get dead(): boolean {
    return this.#dead !== undefined;
  }

  // While a request is pending, the shell's pipes keep the event loop alive; when
  // idle they must not (the server never keeps tsbuild running on its own).
  #busy(): void {
    this.#child.ref();
    (this.#child.stdout as unknown as { ref?: () => void }).ref?.();
  }

  #idle(): void {
    this.#child.unref();
    (this.#child.stdout as unknown as { unref?: () => void }).unref?.();
    (this.#child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  /** run executes cmd with args (in cwd) and resolves with its exit code and output (stdout and stderr merged). */
  async run(cmd: string, args: readonly string[], opts: { cwd?: string; code?: ErrorCode; allowFail?: boolean } = {}): Promise<RunResult> {
    if (this.#dead) throw this.#dead;
    const words = [cmd, ...args].map(quote);
    const line = `${opts.cwd ? `cd ${quote(opts.cwd)} && ` : ''}exec ${words.join(' ')}\n`;
    return new Promise<{ code: number; output: string }>((resolve) => {
      this.#queue.push({ resolve });
      this.#busy();
      this.#child.stdin!.write(line);
    }).then(({ code, output }) => {
      if (code !== 0 && !opts.allowFail) {
        const detail = output.trim().split('\n').pop() || `exit status ${code}`;
        throw new TsbuildError(opts.code ?? 'IO', `${cmd} ${args.join(' ')}: ${detail}`);
      }
      return { code, stdout: '', stderr: output };
    });
  }

  #onData(d: string): void {
    this.#buf += d;
    for (;;) {
      const i = this.#buf.indexOf('\x1e');
      if (i < 0) return;
      const nl = this.#buf.indexOf('\n', i);
      if (nl < 0) return;
      const m = END.exec(this.#buf.slice(i, nl + 1));
      const output = this.#buf.slice(0, i);
      this.#buf = this.#buf.slice(nl + 1);
      this.#queue.shift()?.resolve({ code: m ? Number(m[1]) : 1, output });
      if (this.#queue.length === 0) this.#idle();
    }
  }

  #fail(e: Error): void {
    this.#dead ??= e;
    for (const p of this.#queue.splice(0)) p.resolve({ code: 1, output: `tool server: ${e.message}` });
  }
}

/** quote makes s one shell word; a newline cannot be sent on the line protocol. */
function quote(s: string): string {
  if (s.includes('\n')) throw new TsbuildError('INTERNAL', `tool argument contains a newline: ${JSON.stringify(s)}`);
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

let shared: ToolServer | undefined;

/**
 * mountTool runs mount(8) or umount(8) through the process-wide ToolServer, in its own
 * mount namespace (started on first use).
 */
export function mountTool(cmd: 'mount' | 'umount', args: readonly string[], opts: { cwd?: string; code?: ErrorCode; allowFail?: boolean } = {}): Promise<RunResult> {
  shared ??= new ToolServer({ ownMountNamespace: true });
  return shared.run(cmd, args, opts);
}

/** startedMountTool is mountTool's server if it was started and still runs (it starts nothing). */
export function startedMountTool(): ToolServer | undefined {
  return shared?.dead ? undefined : shared;
}
