import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { syscallNumbers, type SyscallNumbers } from './syscalls.ts';
import { childProcess } from './childProcess.ts';

/**
 * The perl server is one long-lived `perl` (perl-base, in every Debian and Ubuntu system)
 * that makes the system calls Node has no binding for, so a build step costs pipe round
 * trips instead of execs (each ~6 ms, mostly dynamic linking) and Node forks (several ms
 * of blocked event loop at our heap size):
 *
 * - `mount`, `umount`, `syncfs`: mount(2), umount2(2), syncfs(2), answered in order
 *   (`R RID 0` or `R RID E errno text`);
 * - `launch`: start a build container (src/sys/launchServer.ts has the fields). The server
 *   makes the step's two output FIFOs and forks a keeper, which opens them, unshares the
 *   namespaces and forks the container's init; that init makes the mounts, switches
 *   root (pivot_root, the old root detached), sets the hostname, drops capabilities,
 *   installs the seccomp filter, switches identity and execs the command.
 *   Answers: `M ID` (the FIFOs exist and the keeper runs: open their reading ends now),
 *   `F ID errno text` (nothing started), later `X ID code signal opened` (the container
 *   has ended; opened is 1 once the keeper had the FIFOs open);
 * - `kill ID`: SIGKILL that container (its `X` still follows);
 * - `syncdetach`: fork a process of its own session, without death signal, that runs
 *   syncfs(2) and then deletes the given marker files (`R RID 0` once it is forked).
 *
 * Requests are `<byte length>\n<fields separated by NUL>` (a RUN script holds newlines).
 * A keeper reports its container's wait status on a pipe of its own, which the server
 * reads; the server then reaps the keeper, so a kill never hits a recycled pid. Keeper
 * and init die with the server, and the server with tsbuild: death signals, set again
 * after the change of credentials that resets them.
 *
 * The server unshares a mount namespace of its own at start (propagation slave), so its
 * mounts and its keepers (whose namespaces are copies of it) are torn down by the kernel
 * when it dies, however tsbuild ends. tsbuild reaches those mounts through
 * /proc/PID/root (src/sys/mount.ts, mountView).
 */
export const SCRIPT = String.raw`
use strict;
$| = 1;
my ($SYS_mount, $SYS_umount2, $SYS_syncfs, $SYS_unshare, $SYS_sethostname, $SYS_prctl, $SYS_setgroups, $SYS_setresgid, $SYS_setresuid, $SYS_mknodat, $SYS_setsid, $SYS_exit_group, $SYS_pivot_root, $SYS_capget, $SYS_capset) = map { $_ + 0 } @ARGV;
syscall($SYS_prctl, 1, 9, 0, 0, 0);
# Our mounts live in a mount namespace of our own, which the kernel tears down with its last
# process: we die with tsbuild, so a killed build leaves no mount behind. Propagation slave:
# the host's mounts (and later changes) still reach us, ours never reach the host.
if (syscall($SYS_unshare, 0x20000) == 0) {
  my ($none, $slash) = ('none', '/');
  syscall($SYS_mount, $none, $slash, 0, 16384 | 524288, 0) == 0 or exit(1);
}
my $server = $$;
my $lastcap = 40;
if (open(my $f, '<', '/proc/sys/kernel/cap_last_cap')) { $lastcap = <$f> + 0; close($f); }
$SIG{PIPE} = 'IGNORE';
my %kid;
my $in = '';

# A forked child ends with exit_group(2): perl's own exit tears the interpreter down first (ms).
sub quit { syscall($SYS_exit_group, $_[0] + 0); }

# Setup errors go to STATE/setup.err; after the root switch through $setup_err, opened before it.
my $setup_err;
sub fail_setup {
  my ($state, $msg) = @_;
  my $e = $setup_err;
  syswrite($e, "$msg\n") if $e || open($e, '>>', "$state/setup.err");
  quit(125);
}

# runc's root switch (libcontainer pivotRoot): the old root is stacked on the new one by
# pivot_root(".", ".") and detached, so nothing of the host's mount tree stays reachable
# (a chroot leaves it one chroot away).
sub switch_root {
  my ($state, $root) = @_;
  open($setup_err, '>>', "$state/setup.err") or fail_setup($state, "open setup.err: $!");
  my $dot = '.';
  chdir($root) or fail_setup($state, "chdir $root: $!");
  syscall($SYS_pivot_root, $dot, $dot) == 0 or fail_setup($state, "pivot_root: $!");
  syscall($SYS_umount2, $dot, 2) == 0 or fail_setup($state, "unmount the old root: $!");
  chdir('/') or fail_setup($state, "chdir /: $!");
}

# Inheritable = ambient = exactly the capabilities in $amb (none but in insecure mode; raised
# after setresuid, which clears the ambient set), then the seccomp filter (hex of a struct
# sock_filter array; empty: none). Root still holds CAP_SYS_ADMIN here, so no no_new_privs.
sub confine {
  my ($state, $amb, $filter) = @_;
  my @inh = (0, 0);
  $inh[$_ >> 5] |= 1 << ($_ & 31) for split(/,/, $amb);
  my ($hdr, $data) = (pack('L2', 0x20080522, 0), "\0" x 24);
  syscall($SYS_capget, $hdr, $data) == 0 or fail_setup($state, "capget: $!");
  my @d = unpack('L6', $data);
  @d[2, 5] = @inh;
  syscall($SYS_capset, $hdr, pack('L6', @d)) == 0 or fail_setup($state, "capset: $!");
  syscall($SYS_prctl, 47, 4, 0, 0, 0) == 0 or fail_setup($state, "clear ambient capabilities: $!");
  syscall($SYS_prctl, 8, 1, 0, 0, 0) == 0 or fail_setup($state, "keep capabilities: $!") if length($amb);
  return unless length($filter);
  my $prog = pack('H*', $filter);
  syscall($SYS_prctl, 22, 2, pack('S x![P] P', length($prog) / 8, $prog), 0, 0) == 0 or fail_setup($state, "seccomp: $!");
}

sub init_process {
  my ($state, $root, $host, $lo, $uid, $gid, $groups, $keep, $amb, $filter, $cwd, $m, $env, $args) = @_;
  syscall($SYS_prctl, 1, 9, 0, 0, 0);
  my @m = @$m;
  while (@m) {
    my ($src, $tgt, $type, $flags, $data) = splice(@m, 0, 5);
    syscall($SYS_mount, length($src) ? $src : 0, $tgt, length($type) ? $type : 0, $flags + 0, length($data) ? $data : 0) == 0
      or fail_setup($state, "mount $tgt: $!");
  }
  switch_root($state, $root);
  syscall($SYS_sethostname, $host, length($host)) == 0 or fail_setup($state, "sethostname: $!");
  if ($lo) {
    socket(my $s, 2, 2, 0) or fail_setup($state, "socket: $!");
    my $ifr = pack('Z16 s x22', 'lo', 0);
    ioctl($s, 0x8913, $ifr) or fail_setup($state, "lo: $!");
    $ifr = pack('Z16 s x22', 'lo', unpack('x16 s', $ifr) | 1);
    ioctl($s, 0x8914, $ifr) or fail_setup($state, "lo up: $!");
    close($s);
  }
  my %keep = map { $_ => 1 } split(/,/, $keep);
  for my $c (0 .. $lastcap) {
    next if $keep{$c};
    syscall($SYS_prctl, 24, $c, 0, 0, 0) == 0 or fail_setup($state, "drop capability $c: $!");
  }
  my @g = map { $_ + 0 } split(/,/, $groups);
  syscall($SYS_setgroups, scalar(@g), @g ? pack('L*', @g) : 0) == 0 or fail_setup($state, "setgroups: $!");
  syscall($SYS_setresgid, $gid + 0, $gid + 0, $gid + 0) == 0 or fail_setup($state, "setresgid: $!");
  chdir($cwd) or fail_setup($state, "chdir $cwd: $!");
  confine($state, $amb, $filter);
  syscall($SYS_setresuid, $uid + 0, $uid + 0, $uid + 0) == 0 or fail_setup($state, "setresuid: $!");
  for (split(/,/, $amb)) { syscall($SYS_prctl, 47, 2, $_ + 0, 0, 0) == 0 or fail_setup($state, "raise ambient capability $_: $!"); }
  syscall($SYS_prctl, 1, 9, 0, 0, 0);
  %ENV = ();
  for (@$env) { my ($k, $v) = split(/=/, $_, 2); $ENV{$k} = $v; }
  my @a = @$args;
  { no warnings; exec { $a[0] } @a; }
  my $enoent = $! == 2;
  print STDERR "tsbuild: exec $a[0]: $!\n";
  quit($enoent ? 127 : 126);
}

sub keeper {
  my ($w, $state, $out, $err, $root, $host, $lo, $ns, $uid, $gid, $groups, $keep, $amb, $filter, $cwd, $nm, @rest) = @_;
  my ($g, $term) = (0, 0);
  $SIG{TERM} = sub { $term = 1; kill('KILL', $g) if $g; };
  $SIG{PIPE} = 'DEFAULT';
  my $report = sub { syswrite($w, $_[0]); quit(0); };
  syscall($SYS_prctl, 1, 9, 0, 0, 0);
  quit(0) if getppid() != $server;
  my @m = splice(@rest, 0, 5 * $nm);
  my $ne = shift(@rest);
  my @env = splice(@rest, 0, $ne);
  open(STDIN, '<', '/dev/null') or fail_setup($state, "open /dev/null: $!");
  open(STDOUT, '>', $out) or fail_setup($state, "open $out: $!");
  open(STDERR, '>', $err) or fail_setup($state, "open $err: $!");
  syswrite($w, 'O ');
  $report->('125 0') if $term;
  syscall($SYS_unshare, $ns + 0) == 0 or fail_setup($state, "unshare: $!");
  my ($none, $slash) = ('none', '/');
  syscall($SYS_mount, $none, $slash, 0, 16384 | 262144, 0) == 0 or fail_setup($state, "mount --make-rprivate /: $!");
  my $pid = fork();
  fail_setup($state, "fork: $!") unless defined $pid;
  if ($pid == 0) {
    $SIG{TERM} = 'DEFAULT';
    close($w);
    init_process($state, $root, $host, $lo, $uid, $gid, $groups, $keep, $amb, $filter, $cwd, \@m, \@env, \@rest);
  }
  $g = $pid;
  kill('KILL', $g) if $term;
  waitpid($g, 0);
  my $st = $?;
  $g = 0;
  my $sig = $st & 127;
  $report->($sig ? (128 + $sig) . " $sig" : ($st >> 8) . ' 0');
}

sub handle {
  my $op = shift;
  if ($op eq 'mount' || $op eq 'umount' || $op eq 'syncfs') {
    my ($rid, $cwd, @a) = @_;
    my $r = -1;
    if (chdir($cwd)) {
      if ($op eq 'mount') { $r = syscall($SYS_mount, $a[0], $a[1], $a[2], $a[3] + 0, $a[4]); }
      elsif ($op eq 'umount') { $r = syscall($SYS_umount2, $a[0], $a[1] + 0); }
      elsif (open(my $fh, '<', $a[0])) { $r = syscall($SYS_syncfs, fileno($fh)); close($fh); }
    }
    if ($r == 0) { print "R $rid 0\n"; } else { printf "R %s E %d %s\n", $rid, $! + 0, "$!"; }
    return;
  }
  if ($op eq 'syncdetach') {
    my ($rid, $dir, @done) = @_;
    my $pid = fork();
    if (defined($pid) && $pid == 0) {
      if (fork() == 0) {
        syscall($SYS_prctl, 1, 0, 0, 0, 0);
        syscall($SYS_setsid);
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', '/dev/null');
        my $fh;
        if (open($fh, '<', $dir) && syscall($SYS_syncfs, fileno($fh)) == 0) { unlink(@done); }
      }
      quit(0);
    }
    if (defined($pid)) { waitpid($pid, 0); print "R $rid 0\n"; } else { printf "R %s E %d %s\n", $rid, $! + 0, "$!"; }
    return;
  }
  if ($op eq 'kill') { my $k = $kid{$_[0]}; kill('TERM', $k->[0]) if $k; return; }
  return unless $op eq 'launch';
  my ($id, $state, $out, $err) = @_;
  for my $fifo ($out, $err) {
    if (syscall($SYS_mknodat, -100, $fifo, 0010600, 0) != 0) { printf "F %s %d %s\n", $id, $! + 0, "$!"; return; }
  }
  my ($r, $w);
  if (!pipe($r, $w)) { printf "F %s %d %s\n", $id, $! + 0, "$!"; return; }
  my $pid = fork();
  if (!defined $pid) { printf "F %s %d %s\n", $id, $! + 0, "$!"; close($r); close($w); return; }
  if ($pid == 0) { close($r); keeper($w, @_[1 .. $#_]); }
  close($w);
  $kid{$id} = [$pid, $r, ''];
  print "M $id\n";
}

while (1) {
  my $rin = '';
  vec($rin, 0, 1) = 1;
  vec($rin, fileno($_->[1]), 1) = 1 for values %kid;
  my $n = select(my $rout = $rin, undef, undef, undef);
  if ($n < 0) { next if $! == 4; last; }
  for my $id (keys %kid) {
    my $k = $kid{$id};
    next unless vec($rout, fileno($k->[1]), 1);
    my $got = sysread($k->[1], $k->[2], 256, length($k->[2]));
    next if (!defined($got) && $! == 4) || $got;
    close($k->[1]);
    waitpid($k->[0], 0);
    my $st = $?;
    my $opened = $k->[2] =~ s/^O // ? 1 : 0;
    my ($code, $sig) = $k->[2] =~ /^(\d+) (\d+)$/ ? ($1, $2) : ($st & 127) ? (128 + ($st & 127), $st & 127) : ($st >> 8, 0);
    print "X $id $code $sig $opened\n";
    delete $kid{$id};
  }
  if (vec($rout, 0, 1)) {
    my $got = sysread(STDIN, $in, 65536, length($in));
    if (!defined($got)) { next if $! == 4; last; }
    last if $got == 0;
    while ($in =~ /^(\d+)\n/) {
      my $start = length($1) + 1;
      last if length($in) < $start + $1;
      my $req = substr($in, $start, $1);
      substr($in, 0, $start + $1) = '';
      handle(split(/\0/, $req, -1));
    }
  }
}`;

const PERL = '/usr/bin/perl';

/** SyscallResult is what one call gave: ok, or the errno and its text. */
export type SyscallResult = { ok: true } | { ok: false; errno: number; message: string };

/** LaunchEvents receives one container's answers. */
export interface LaunchEvents {
  made(): void;
  failed(message: string): void;
  exited(code: number, signal: number, opened: boolean): void;
}

/** PerlServer is the client side of one server process. */
export class PerlServer {
  readonly #child: ChildProcess;
  readonly #calls = new Map<string, (r: SyscallResult) => void>();
  readonly #launches = new Map<string, LaunchEvents>();
  #buf = '';
  #dead = false;
  #rid = 0;

  constructor(perl: string, n: SyscallNumbers) {
    const numbers = [n.mount, n.umount2, n.syncfs, n.unshare, n.sethostname, n.prctl, n.setgroups, n.setresgid, n.setresuid, n.mknodat, n.setsid, n.exitGroup, n.pivotRoot, n.capget, n.capset].map(String);
    // A fixed environment: PERL5OPT, PERL5LIB and friends of the caller must not reach it.
    // Its own session (detached): a terminal's Ctrl-C or a supervisor's signal to our process
    // group must reach tsbuild alone, which then stops the containers and cleans up through
    // this server; it still dies with tsbuild (its death signal).
    this.#child = childProcess().spawn(perl, ['-e', SCRIPT, ...numbers], { stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, detached: true });
    this.#child.stdout!.setEncoding('utf8').on('data', (d: string) => this.#onData(d));
    this.#child.on('error', () => this.#fail());
    this.#child.on('exit', () => this.#fail());
    this.#child.stdin!.on('error', () => {});
    this.#idle();
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** pid of the perl process (tests kill it to check the way down). */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** call runs mount, umount or syncfs; errno -1 means the server is gone. */
  call(op: 'mount' | 'umount' | 'syncfs', cwd: string, args: readonly string[]): Promise<SyscallResult> {
    return this.#request([op, '', cwd, ...args]);
  }

  /**
   * syncDetached starts a process that outlives tsbuild: it syncs the file system
   * holding dir, then deletes the files in done (markers of what that sync made
   * durable). Resolves once it is started.
   */
  syncDetached(dir: string, done: readonly string[]): Promise<SyscallResult> {
    return this.#request(['syncdetach', '', dir, ...done]);
  }

  /** request sends op with a fresh request id in place of fields[1]. */
  #request(fields: string[]): Promise<SyscallResult> {
    if (this.#dead) return Promise.resolve(unavailable());
    const rid = `r${++this.#rid}`;
    fields[1] = rid;
    return new Promise<SyscallResult>((resolve) => {
      this.#calls.set(rid, resolve);
      if (!this.#send(fields)) this.#settle(() => resolve({ ok: false, errno: 22, message: 'argument contains NUL' }), rid);
    });
  }

  /** launch sends a launch request (fields after the op, the id first); events follow on ev. */
  launch(id: string, fields: readonly string[], ev: LaunchEvents): void {
    if (this.#dead) return ev.failed('perl server unavailable');
    this.#launches.set(id, ev);
    if (!this.#send(['launch', id, ...fields])) {
      this.#launches.delete(id);
      this.#maybeIdle();
      ev.failed('a launch field contains NUL');
    }
  }

  kill(id: string): void {
    if (this.#launches.has(id)) this.#send(['kill', id]);
  }

  #settle(f: () => void, rid: string): void {
    this.#calls.delete(rid);
    this.#maybeIdle();
    f();
  }

  #send(fields: readonly string[]): boolean {
    if (this.#dead) return true;
    if (fields.some((f) => f.includes('\0'))) return false;
    const body = Buffer.from(fields.join('\0'));
    this.#ref();
    this.#child.stdin!.write(Buffer.concat([Buffer.from(`${body.length}\n`), body]));
    return true;
  }

  #ref(): void {
    this.#child.ref();
    (this.#child.stdout as unknown as { ref?: () => void }).ref?.();
  }

  // Idle, the server's pipes must not keep tsbuild's event loop alive.
  #idle(): void {
    this.#child.unref();
    (this.#child.stdout as unknown as { unref?: () => void }).unref?.();
    (this.#child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  #maybeIdle(): void {
    if (this.#calls.size === 0 && this.#launches.size === 0) this.#idle();
  }

  #onData(d: string): void {
    this.#buf += d;
    for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      const [kind, id = '', ...rest] = line.split(' ');
      if (kind === 'R') {
        const resolve = this.#calls.get(id);
        if (!resolve) continue;
        const m = /^E (\d+) (.*)$/.exec(rest.join(' '));
        this.#settle(() => resolve(rest[0] === '0' ? { ok: true } : { ok: false, errno: m ? Number(m[1]) : 5, message: m?.[2] ?? line }), id);
        continue;
      }
      const ev = this.#launches.get(id);
      if (!ev) continue;
      if (kind === 'M') {
        ev.made();
        continue;
      }
      this.#launches.delete(id);
      this.#maybeIdle();
      if (kind === 'F') ev.failed(rest.slice(1).join(' '));
      else ev.exited(Number(rest[0]), Number(rest[1]), rest[2] === '1');
    }
  }

  #fail(): void {
    this.#dead = true;
    for (const resolve of this.#calls.values()) resolve(unavailable());
    for (const ev of this.#launches.values()) ev.failed('perl server exited');
    this.#calls.clear();
    this.#launches.clear();
  }
}

/** errno -1 marks "the server is gone": callers then fall back to their other way. */
function unavailable(): SyscallResult {
  return { ok: false, errno: -1, message: 'perl server unavailable' };
}

let shared: PerlServer | undefined;
let perlOk: boolean | undefined;

/** startedPerlServer is the process-wide server if it was started and still runs (it starts nothing). */
export function startedPerlServer(): PerlServer | undefined {
  return shared?.dead ? undefined : shared;
}

/**
 * perlServer gives the process-wide server, started on first use; undefined where
 * there is none: an architecture without a call table, no executable /usr/bin/perl
 * (checked once, a stat), or a server that died (mount calls then keep to mount(8);
 * container launches fail).
 */
export function perlServer(): PerlServer | undefined {
  const n = syscallNumbers();
  if (!n || shared?.dead) return undefined;
  perlOk ??= ((statSync(PERL, { throwIfNoEntry: false })?.mode ?? 0) & 0o111) !== 0;
  if (!perlOk) return undefined;
  shared ??= new PerlServer(PERL, n);
  return shared;
}
