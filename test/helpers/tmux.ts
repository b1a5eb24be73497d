import { execFileSync } from 'node:child_process';
import { BIN } from './cli.ts';

/** hasTmux tells whether tmux is installed (scripts/setup-host.sh installs it). */
export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let sessions = 0;

/**
 * TmuxTerminal is a real pseudo-terminal of a given size (a tmux session on a private server) in
 * which a command runs as a user would run it; the test reads the screen as the user sees it.
 */
export class TmuxTerminal {
  readonly #socket = `tsbuild-test-${process.pid}-${++sessions}`;
  readonly cols: number;
  readonly rows: number;

  constructor(cols: number, rows: number) {
    this.cols = cols;
    this.rows = rows;
  }

  /** tsbuild starts the CLI in the terminal with args, outside CI, with env added (TERM=dumb, NO_COLOR=1, …). */
  tsbuild(args: string[], env: Record<string, string> = {}): void {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const vars = Object.entries(env).map(([k, v]) => q(`${k}=${v}`));
    const cmd = `env -u CI ${vars.join(' ')} ${[process.execPath, BIN, ...args].map(q).join(' ')}; echo "tsbuild-exited=$?"; sleep 600`;
    this.#tmux('new-session', '-d', '-s', 'term', '-x', String(this.cols), '-y', String(this.rows), cmd);
  }

  /** screen is what the terminal shows, with its scrollback; `colors` keeps the SGR sequences, `join` joins wrapped lines. */
  screen(opts: { colors?: boolean; join?: boolean } = {}): string {
    return this.#tmux('capture-pane', '-p', '-S', '-500', '-t', 'term', ...(opts.colors ? ['-e'] : []), ...(opts.join ? ['-J'] : [])).replace(/\n+$/, '\n');
  }

  /** waitFor polls the screen until it matches re. */
  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.screen();
      if (re.test(s)) return s;
      if (Date.now() > deadline) throw new Error(`the screen never matched ${re}:\n${s}`);
      await sleep(50);
    }
  }

  /** exited waits for the command to end and returns its exit code and the final screen. */
  async exited(opts: { colors?: boolean; join?: boolean } = {}): Promise<{ code: number; screen: string }> {
    const m = /tsbuild-exited=(\d+)/.exec(await this.waitFor(/tsbuild-exited=\d+/, 120_000))!;
    return { code: Number(m[1]), screen: this.screen(opts).replace(/^tsbuild-exited=\d+\n/m, '') };
  }

  /** samples reads the screen as often as it can until the command ends: every frame a user may have seen. */
  async samples(): Promise<string[]> {
    const out: string[] = [];
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const s = this.screen();
      if (out.at(-1) !== s) out.push(s);
      if (/tsbuild-exited=\d+/.test(s)) return out;
      await sleep(5);
    }
    throw new Error(`the command did not end:\n${out.at(-1)}`);
  }

  /** close ends the terminal and its server. */
  close(): void {
    try { this.#tmux('kill-server'); } catch { /* already gone */ }
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.#socket, ...args], { encoding: 'utf8' });
  }
}
