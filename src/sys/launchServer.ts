import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { syscallNumbers, type SyscallNumbers } from './syscalls.ts';

/**
 * The launch server is one long-lived `perl` (perl-base, in every Debian and Ubuntu
 * system) that starts build containers for us: for each request it forks a keeper
 * process, which opens the step's output FIFOs, unshares the namespaces and forks the
 * container's init; that init makes the mounts, sets the hostname, drops capabilities,
 * switches root and identity and execs the command. One fork of a small perl replaces
 * Node's own fork of its large heap and the seven execs of the util-linux chain.
 *
 * Protocol, tsbuild → server: `<byte length>\n<fields separated by NUL>` (fields may hold
 * newlines: a RUN script does). `launch` (see LaunchRequest for the fields) or `kill ID`.
 * Server → tsbuild, one line each: `M ID` (the FIFOs exist and the keeper runs: open
 * their reading ends now), `F ID errno text` (nothing started), `X ID code signal opened`
 * (the container has ended; opened is 1 once the keeper had the FIFOs open).
 *
 * A keeper reports its container's wait status on a pipe of its own, which the server
 * reads; the server then reaps the keeper, so a `kill` can never hit a recycled pid. A
 * keeper dies with the server (and the server with tsbuild): death signals, set again
 * after each change of credentials, which resets them.
 */
const PERL = '/usr/bin/perl';

const SCRIPT = String.raw`
use strict;
use POSIX ();
$| = 1;
my ($SYS_mount, $SYS_unshare, $SYS_sethostname, $SYS_prctl, $SYS_setgroups, $SYS_setresgid, $SYS_setresuid) = map { $_ + 0 } @ARGV;
syscall($SYS_prctl, 1, 9, 0, 0, 0);
my $server = $$;
my $lastcap = 40;
if (open(my $f, '<', '/proc/sys/kernel/cap_last_cap')) { $lastcap = <$f> + 0; close($f); }
$SIG{PIPE} = 'IGNORE';
my %kid;
my $in = '';

sub fail_setup {
  my ($state, $msg) = @_;
  if (open(my $e, '>>', "$state/setup.err")) { print $e "$msg\n"; close($e); }
  if (open(my $f, '>', "$state/setup.failed")) { close($f); }
  POSIX::_exit(125);
}

sub init_process {
  my ($state, $root, $host, $lo, $uid, $gid, $groups, $keep, $cwd, $m, $env, $args) = @_;
  syscall($SYS_prctl, 1, 9, 0, 0, 0);
  my @m = @$m;
  while (@m) {
    my ($src, $tgt, $type, $flags, $data) = splice(@m, 0, 5);
    syscall($SYS_mount, length($src) ? $src : 0, $tgt, length($type) ? $type : 0, $flags + 0, length($data) ? $data : 0) == 0
      or fail_setup($state, "mount $tgt: $!");
  }
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
  chroot($root) or fail_setup($state, "chroot: $!");
  chdir($cwd) or fail_setup($state, "chdir $cwd: $!");
  syscall($SYS_setresuid, $uid + 0, $uid + 0, $uid + 0) == 0 or fail_setup($state, "setresuid: $!");
  syscall($SYS_prctl, 1, 9, 0, 0, 0);
  %ENV = ();
  for (@$env) { my ($k, $v) = split(/=/, $_, 2); $ENV{$k} = $v; }
  my @a = @$args;
  { no warnings; exec { $a[0] } @a; }
  my $enoent = $!{ENOENT};
  print STDERR "tsbuild: exec $a[0]: $!\n";
  POSIX::_exit($enoent ? 127 : 126);
}

sub keeper {
  my ($w, $state, $out, $err, $root, $host, $lo, $ns, $uid, $gid, $groups, $keep, $cwd, $nm, @rest) = @_;
  my ($g, $term) = (0, 0);
  $SIG{TERM} = sub { $term = 1; kill('KILL', $g) if $g; };
  $SIG{PIPE} = 'DEFAULT';
  my $report = sub { syswrite($w, $_[0]); POSIX::_exit(0); };
  syscall($SYS_prctl, 1, 9, 0, 0, 0);
  POSIX::_exit(0) if getppid() != $server;
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
    init_process($state, $root, $host, $lo, $uid, $gid, $groups, $keep, $cwd, \@m, \@env, \@rest);
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
  if ($op eq 'kill') { my $k = $kid{$_[0]}; kill('TERM', $k->[0]) if $k; return; }
  return unless $op eq 'launch';
  my ($id, $state, $out, $err) = @_;
  for my $fifo ($out, $err) {
    if (!POSIX::mkfifo($fifo, 0600)) { printf "F %s %d %s\n", $id, $! + 0, "$!"; return; }
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
  if ($n < 0) { next if $!{EINTR}; last; }
  for my $id (keys %kid) {
    my $k = $kid{$id};
    next unless vec($rout, fileno($k->[1]), 1);
    my $got = sysread($k->[1], $k->[2], 256, length($k->[2]));
    next if (!defined($got) && $!{EINTR}) || $got;
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
    if (!defined($got)) { next if $!{EINTR}; last; }
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

/** MountCall is one mount(2) call: empty source, type or data pass NULL. */
export interface MountCall {
  source: string;
  target: string;
  type: string;
  flags: number;
  data: string;
}

/** LaunchRequest is one container start. Paths are the host's; cwd is inside the new root. */
export interface LaunchRequest {
  id: string;
  stateDir: string;
  stdoutFifo: string;
  stderrFifo: string;
  /** The directory chrooted into (made by one of the mounts). */
  root: string;
  hostname: string;
  /** Bring lo up (a fresh network namespace). */
  loopbackUp: boolean;
  /** unshare(2) flags (CLONE_NEW*). */
  namespaces: number;
  uid: number;
  gid: number;
  groups: readonly number[];
  /** Capability numbers kept in the bounding set; all others are dropped. */
  keepCapabilities: readonly number[];
  cwd: string;
  mounts: readonly MountCall[];
  env: readonly string[];
  args: readonly string[];
}

/** LaunchExit is how a launched container ended. */
export interface LaunchExit {
  code: number;
  /** The signal number that killed the init, 0 when it exited. */
  signal: number;
  /** False when the keeper never opened the FIFOs (their reading ends will see no writer). */
  opened: boolean;
}

/** LaunchHandle follows one started container. */
export interface LaunchHandle {
  /** Resolves once the FIFOs exist: open their reading ends then (the keeper waits for them). */
  readonly made: Promise<void>;
  readonly exit: Promise<LaunchExit>;
  /** Kills the container (SIGKILL to its init); its exit still arrives on `exit`. */
  kill(): void;
}

/** CLONE_NEW* flags of unshare(2). */
export const CLONE_NEWNS = 0x20000;
export const CLONE_NEWUTS = 0x4000000;
export const CLONE_NEWIPC = 0x8000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

interface Waiter {
  made: { resolve: () => void; reject: (e: Error) => void };
  exit: { resolve: (e: LaunchExit) => void; reject: (e: Error) => void };
}

class LaunchServer {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<string, Waiter>();
  #buf = '';
  #dead = false;

  constructor(perl: string, n: SyscallNumbers) {
    const numbers = [n.mount, n.unshare, n.sethostname, n.prctl, n.setgroups, n.setresgid, n.setresuid].map(String);
    // A fixed environment: PERL5OPT, PERL5LIB and friends of the caller must not reach it.
    this.#child = spawn(perl, ['-e', SCRIPT, ...numbers], { stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
    this.#child.stdout!.setEncoding('utf8').on('data', (d: string) => this.#onData(d));
    this.#child.on('error', () => this.#fail());
    this.#child.on('exit', () => this.#fail());
    this.#child.stdin!.on('error', () => {});
    this.#idle();
  }

  get dead(): boolean {
    return this.#dead;
  }

  launch(r: LaunchRequest): LaunchHandle {
    const fields = [
      'launch', r.id, r.stateDir, r.stdoutFifo, r.stderrFifo, r.root, r.hostname, r.loopbackUp ? '1' : '0', String(r.namespaces),
      String(r.uid), String(r.gid), r.groups.join(','), r.keepCapabilities.join(','), r.cwd,
      String(r.mounts.length), ...r.mounts.flatMap((m) => [m.source, m.target, m.type, String(m.flags), m.data]),
      String(r.env.length), ...r.env, ...r.args,
    ];
    let w!: Waiter;
    const made = new Promise<void>((resolve, reject) => (w = { made: { resolve, reject } } as Waiter));
    const exit = new Promise<LaunchExit>((resolve, reject) => (w.exit = { resolve, reject }));
    // Whoever awaits only one of them must not see the other one's rejection unhandled.
    made.catch(() => {});
    exit.catch(() => {});
    const handle: LaunchHandle = { made, exit, kill: () => this.#send(['kill', r.id]) };
    if (this.#dead) {
      const e = new Error('launch server unavailable');
      w.made.reject(e);
      w.exit.reject(e);
      return handle;
    }
    if (r.args.length === 0 || fields.some((f) => f.includes('\0'))) {
      const e = new Error('a launch field is empty or contains NUL');
      w.made.reject(e);
      w.exit.reject(e);
      return handle;
    }
    this.#waiting.set(r.id, w);
    this.#ref();
    this.#send(fields);
    return handle;
  }

  #send(fields: readonly string[]): void {
    if (this.#dead) return;
    const body = Buffer.from(fields.join('\0'));
    this.#child.stdin!.write(Buffer.concat([Buffer.from(`${body.length}\n`), body]));
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

  #onData(d: string): void {
    this.#buf += d;
    for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      const [kind, id = '', ...rest] = line.split(' ');
      const w = this.#waiting.get(id);
      if (!w) continue;
      if (kind === 'M') w.made.resolve();
      else if (kind === 'F' || kind === 'X') {
        this.#waiting.delete(id);
        if (kind === 'F') {
          const e = new Error(`launch ${id}: ${rest.slice(1).join(' ')}`);
          w.made.reject(e);
          w.exit.reject(e);
        } else {
          w.made.resolve();
          w.exit.resolve({ code: Number(rest[0]), signal: Number(rest[1]), opened: rest[2] === '1' });
        }
        if (this.#waiting.size === 0) this.#idle();
      }
    }
  }

  #fail(): void {
    this.#dead = true;
    const e = new Error('launch server exited');
    for (const w of this.#waiting.values()) {
      w.made.reject(e);
      w.exit.reject(e);
    }
    this.#waiting.clear();
  }
}

let shared: LaunchServer | undefined;
let perlOk: boolean | undefined;

/**
 * launchServerAvailable tells whether containers can be launched through perl here:
 * a known architecture, an executable /usr/bin/perl (checked once: a stat), and a
 * server that has not died (then the caller keeps to its other way for good).
 */
export function launchServerAvailable(): boolean {
  if (syscallNumbers() === undefined || shared?.dead) return false;
  perlOk ??= ((statSync(PERL, { throwIfNoEntry: false })?.mode ?? 0) & 0o111) !== 0;
  return perlOk;
}

/** launch starts one container on the process-wide launch server, started on first use. */
export function launch(r: LaunchRequest): LaunchHandle {
  const n = syscallNumbers();
  if (!n) throw new Error(`no system call table for ${process.arch}`);
  shared ??= new LaunchServer(PERL, n);
  return shared.launch(r);
}
