import { spawn, type ChildProcess } from 'node:child_process';
import { syscallNumbers } from './syscalls.ts';

/**
 * The mount server is one long-lived `perl` (perl-base, in every Debian and Ubuntu
 * system) that makes the mount(2), umount2(2) and syncfs(2) system calls for us, so a
 * build step's mount and unmount cost a pipe round trip (~0.7 ms) instead of an exec of
 * util-linux mount(8)/umount(8) (~6 ms each, most of it dynamic linking). Node has no
 * binding for these calls. Requests are NUL-separated fields on one line (op, cwd, args),
 * answered by `0` or `E errno message`, one at a time, in order.
 */
const SCRIPT = String.raw`
use strict;
$| = 1;
my ($mount, $umount2, $syncfs) = @ARGV;
while (defined(my $line = <STDIN>)) {
  chomp $line;
  my ($op, $cwd, @a) = split /\0/, $line, -1;
  my $r = -1;
  if (!chdir($cwd)) { printf "E %d %s\n", $! + 0, "$!"; next; }
  if ($op eq 'mount') { $r = syscall($mount, $a[0], $a[1], $a[2], $a[3] + 0, $a[4]); }
  elsif ($op eq 'umount') { $r = syscall($umount2, $a[0], $a[1] + 0); }
  elsif ($op eq 'syncfs') {
    if (open(my $fh, '<', $a[0])) { $r = syscall($syncfs, fileno($fh)); close($fh); }
  }
  else { $! = 22; }
  if ($r == 0) { print "0\n"; } else { printf "E %d %s\n", $! + 0, "$!"; }
}`;


/** MS_BIND and MNT_DETACH, from <sys/mount.h>. */
export const MS_BIND = 4096;
export const MNT_DETACH = 2;

/** SyscallResult is what one call gave: ok, or the errno and its text. */
export type SyscallResult = { ok: true } | { ok: false; errno: number; message: string };

interface Pending {
  resolve: (r: SyscallResult) => void;
}

class MountServer {
  readonly #child: ChildProcess;
  readonly #queue: Pending[] = [];
  #buf = '';
  #dead = false;

  constructor(perl: string, numbers: readonly number[]) {
    // A fixed environment: PERL5OPT, PERL5LIB and friends of the caller must not reach it.
    this.#child = spawn(perl, ['-e', SCRIPT, ...numbers.map(String)], { stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
    this.#child.stdout!.setEncoding('utf8').on('data', (d: string) => this.#onData(d));
    this.#child.on('error', () => this.#fail());
    this.#child.on('exit', () => this.#fail());
    this.#child.stdin!.on('error', () => {});
    this.#idle();
  }

  get dead(): boolean {
    return this.#dead;
  }

  call(fields: readonly string[]): Promise<SyscallResult> {
    if (this.#dead) return Promise.resolve(unavailable());
    if (fields.some((f) => f.includes('\0') || f.includes('\n'))) return Promise.resolve({ ok: false, errno: 22, message: 'argument contains NUL or newline' });
    return new Promise<SyscallResult>((resolve) => {
      this.#queue.push({ resolve });
      this.#child.ref();
      (this.#child.stdout as unknown as { ref?: () => void }).ref?.();
      this.#child.stdin!.write(`${fields.join('\0')}\n`);
    });
  }

  // Idle, the server's pipes must not keep tsbuild's event loop alive.
  #idle(): void {
    this.#child.unref();
    (this.#child.stdout as unknown as { unref?: () => void }).unref?.();
    (this.#child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  #onData(d: string): void {
    this.#buf += d;
    for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      const m = /^E (\d+) (.*)$/.exec(line);
      this.#queue.shift()?.resolve(line === '0' ? { ok: true } : { ok: false, errno: m ? Number(m[1]) : 5, message: m?.[2] ?? line });
      if (this.#queue.length === 0) this.#idle();
    }
  }

  #fail(): void {
    this.#dead = true;
    for (const p of this.#queue.splice(0)) p.resolve(unavailable());
  }
}

/** errno -1 marks "the server is gone": callers then fall back to the mount(8) tools. */
function unavailable(): SyscallResult {
  return { ok: false, errno: -1, message: 'mount server unavailable' };
}

let shared: MountServer | undefined;
let disabled = false;

/**
 * mountCall runs one request on the process-wide mount server, started on first use.
 * Returns null when there is none (no perl, an architecture without known call numbers,
 * or configureMountServer turned it off): use mount(8) then.
 */
export async function mountCall(op: 'mount' | 'umount' | 'syncfs', cwd: string, args: readonly string[]): Promise<SyscallResult | null> {
  if (disabled) return null;
  const n = syscallNumbers();
  if (!n) return null;
  shared ??= new MountServer('/usr/bin/perl', [n.mount, n.umount2, n.syncfs]);
  const r = await shared.call([op, cwd, ...args]);
  if (!r.ok && r.errno === -1) {
    disabled = true;
    return null;
  }
  return r;
}

/** configureMountServer turns the server off (tests of the fallback path, hosts without perl). */
export function configureMountServer(opts: { enabled: boolean }): void {
  disabled = !opts.enabled;
}
