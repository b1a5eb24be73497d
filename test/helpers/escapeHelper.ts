import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = join(import.meta.dirname, 'escape.c');

/**
 * escapeHelper compiles test/helpers/escape.c into a static binary (once per source
 * version, kept in the temp dir) and returns its path. It needs a C compiler with a
 * static libc: clang with libc6-dev (scripts/setup-host.sh installs clang), or gcc.
 */
export function escapeHelper(): string {
  const src = readFileSync(SOURCE);
  const out = join(tmpdir(), `tsbuild-escape-${createHash('sha256').update(src).digest('hex').slice(0, 16)}`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}`;
  let last: unknown;
  for (const cc of ['clang', 'gcc', 'cc']) {
    try {
      execFileSync(cc, ['-static', '-O1', '-o', tmp, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
      renameSync(tmp, out);
      return out;
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`cannot compile ${SOURCE} statically (clang, gcc, cc): ${(last as Error).message}`);
}

/** EscapeLine is one attempt the helper reported. */
export interface EscapeLine {
  name: string;
  escaped: boolean;
  /** errno when blocked; what got through when escaped. */
  detail: string;
}

/** parseEscape reads the helper's output lines ("NAME ESCAPED detail" / "NAME blocked ERRNO"). */
export function parseEscape(stdout: string): EscapeLine[] {
  return stdout.split('\n').filter(Boolean).map((l) => {
    const m = /^(\S+) (ESCAPED|blocked) ?(.*)$/.exec(l);
    if (!m) throw new Error(`escape helper: unexpected line ${JSON.stringify(l)}`);
    return { name: m[1]!, escaped: m[2] === 'ESCAPED', detail: m[3]! };
  });
}

/** hostBlockDevice is the major:minor of a block device of the host (the root file system's, else the first listed). */
export function hostBlockDevice(): { major: number; minor: number } {
  const root = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[4] === '/');
  const [maj, min] = (root?.[2] ?? '0:0').split(':').map(Number);
  if (maj && existsSync(`/sys/dev/block/${maj}:${min}`)) return { major: maj, minor: min! };
  const any = readdirSync('/sys/dev/block')[0];
  if (!any) throw new Error('no block device on this host');
  const [a, b] = any.split(':').map(Number);
  return { major: a!, minor: b! };
}

/**
 * ESCAPE_SCRIPT runs every attempt of the escape suite in one container, for the
 * end-to-end tests (a RUN step, `tsbuild run`). Arguments: the host-only marker file,
 * a host path prefix for files the attempts try to create, a host block device's
 * major and minor, a pid outside. It expects /bin/escape (escape.c) in the image.
 * Lines "NAME ESCAPED …" are escapes; everything else the step could read of other
 * processes' environment and command lines follows as "info …" lines.
 */
export const ESCAPE_SCRIPT = `m=$1 c=$2
escape chroot "$m" "$c-chroot"
escape chroot-fd "$m" "$c-chroot-fd"
escape mount
escape userns-mount
escape handle
escape mknod "$3" "$4"
escape ptrace "$5"
escape module
for p in /proc/[0-9]* /proc/self; do cat $p/root$m $p/cwd/../../..$m; done 2>/dev/null | sed 's/^/proc-root ESCAPED /'
echo x 2>/dev/null > /proc/1/root$c-proc && echo 'proc-root-create ESCAPED'
echo h 2>/dev/null > /proc/sysrq-trigger && echo 'sysrq ESCAPED'
for f in /sys/block/*/queue/read_ahead_kb /sys/kernel/mm/ksm/run; do v=$(cat $f) && echo "$v" 2>/dev/null > $f && echo "sys-write ESCAPED $f"; done
cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | sed 's/^/info /'
exit 0
`;

/** ESCAPE_ATTEMPTS are the names ESCAPE_SCRIPT reports as blocked when every attempt fails. */
export const ESCAPE_ATTEMPTS = [
  'chroot-read', 'chroot-create', 'chroot-fd-read', 'chroot-fd-create', 'mount-tmpfs', 'mount-proc', 'mount-bind',
  'mount-remount', 'mount-sysfs', 'userns', 'handle-forged', 'ptrace', 'kill', 'init_module', 'finit_module',
];
