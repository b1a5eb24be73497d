import { SYSCALL_TABLES, type SyscallAbi } from '../sys/syscallTable.generated.ts';
import type { ResolvedSeccomp, SeccompRule } from './seccomp.ts';
import type { SeccompAction, SeccompArchName, SeccompArg } from './seccompProfile.ts';

/**
 * compileBpf compiles a resolved profile into a classic-BPF seccomp program (the bytes
 * of a `struct sock_filter` array, host endianness) for prctl(PR_SET_SECCOMP,
 * SECCOMP_MODE_FILTER). It decides what runc 1.1 does with libseccomp for the same
 * runtime-spec object:
 *
 * - the arch word (AUDIT_ARCH_*) picks a section; an architecture not in the profile
 *   kills the thread (libseccomp's default bad-arch action). x86-64 and x32 share
 *   AUDIT_ARCH_X86_64 and are told apart by the x32 bit (0x40000000) of the number;
 * - a number above the highest the profile names for that ABI gets ENOSYS (runc's
 *   patchbpf stub), so that libc falls back from calls newer than the profile;
 * - otherwise a binary search over runs of numbers with the same verdict: the rules of a
 *   call are tried in profile order (all argument tests of one must hold), then its
 *   unconditional rule, then the default errno. Arguments are compared as 64-bit values
 *   on 64-bit ABIs and by their low 32 bits on i386, x32 and arm, as libseccomp does.
 *
 * Names the ABI's table lacks are skipped (libseccomp ignores names it does not know).
 */
export function compileBpf(p: ResolvedSeccomp): Buffer {
  const a = new Assembler();
  a.op(LD_ABS, OFF_ARCH);
  const audits = [...new Set(p.architectures.map((n) => ARCHES[n].audit))];
  for (const audit of audits) a.jump(JEQ, audit, `arch-${audit}`, undefined);
  a.ret(RET_KILL_THREAD);
  for (const audit of audits) {
    a.label(`arch-${audit}`);
    a.op(LD_ABS, OFF_NR);
    const abis = p.architectures.filter((n) => ARCHES[n].audit === audit);
    const x32 = abis.find((n) => ARCHES[n].x32);
    if (x32 && abis.length > 1) a.jump(JSET, X32_BIT, `abi-${x32}`, undefined);
    // The x32 section, if any, goes last: the others fall through to it only by the jump above.
    for (const n of [...abis.filter((x) => x !== x32), ...(x32 ? [x32] : [])]) {
      a.label(`abi-${n}`);
      section(a, p, n);
    }
  }
  return a.assemble();
}

/** Segment is a run of call numbers from `start` with one verdict (or one call with argument rules). */
interface Segment {
  start: number;
  verdict: Verdict;
}
type Verdict = { ret: number } | { rules: SeccompRule[]; fallback: number };

/** section emits one ABI's part: the ENOSYS ceiling, then the search (the number is in the accumulator). */
function section(a: Assembler, p: ResolvedSeccomp, arch: SeccompArchName): void {
  const { abi, bits, x32 } = ARCHES[arch];
  const table = SYSCALL_TABLES[abi];
  const byNr = new Map<number, SeccompRule[]>();
  for (const r of p.rules) {
    for (const name of r.names) {
      const nr = table[name];
      if (nr === undefined) continue;
      const list = byNr.get(nr) ?? [];
      if (!list.includes(r)) list.push(r);
      byNr.set(nr, list);
    }
  }
  const dflt = retErrno(p.defaultErrno);
  if (byNr.size === 0) return void a.ret(dflt);
  const max = Math.max(...byNr.keys());
  a.jump(JGT, max, undefined, `${arch}-search`);
  a.ret(retErrno(ENOSYS));
  a.label(`${arch}-search`);
  const segments: Segment[] = [];
  const push = (start: number, verdict: Verdict) => {
    const last = segments[segments.length - 1];
    if (last && 'ret' in last.verdict && 'ret' in verdict && last.verdict.ret === verdict.ret) return;
    segments.push({ start, verdict });
  };
  const base = x32 ? X32_BIT : 0;
  push(base, { ret: dflt });
  for (const nr of [...byNr.keys()].sort((x, y) => x - y)) {
    push(nr, verdictOf(byNr.get(nr)!, dflt, nr));
    if (!byNr.has(nr + 1) && nr < max) push(nr + 1, { ret: dflt });
  }
  search(a, segments, 0, segments.length, bits, arch);
}

/** verdictOf merges the rules naming one call: argument rules in order, then at most one unconditional action. */
function verdictOf(rules: SeccompRule[], dflt: number, nr: number): Verdict {
  let plain: number | undefined;
  let withArgs: SeccompRule[] | undefined;
  for (const r of rules) {
    if (r.args.length > 0) (withArgs ??= []).push(r);
    else if (plain === undefined) plain = retOf(r.action);
    else if (plain !== retOf(r.action)) throw new Error(`seccomp profile: call ${nr} has conflicting actions`);
  }
  return withArgs ? { rules: withArgs, fallback: plain ?? dflt } : { ret: plain ?? dflt };
}

/** search emits a binary search over segments[lo, hi): the accumulator holds the call number. */
function search(a: Assembler, segs: Segment[], lo: number, hi: number, bits: 32 | 64, tag: string): void {
  if (hi - lo === 1) {
    const v = segs[lo]!.verdict;
    if ('ret' in v) a.ret(v.ret);
    else argRules(a, v, bits, `${tag}-${segs[lo]!.start}`);
    return;
  }
  const mid = (lo + hi) >> 1;
  const right = `${tag}-ge-${segs[mid]!.start}`;
  a.jump(JGE, segs[mid]!.start, right, undefined);
  search(a, segs, lo, mid, bits, tag);
  a.label(right);
  search(a, segs, mid, hi, bits, tag);
}

/** argRules emits a call's argument rules: each passes when all its tests hold; the fallback returns otherwise. */
function argRules(a: Assembler, v: { rules: SeccompRule[]; fallback: number }, bits: 32 | 64, tag: string): void {
  v.rules.forEach((r, i) => {
    const fail = `${tag}-rule-${i}-fail`;
    r.args.forEach((arg, j) => argTest(a, arg, bits, fail, `${tag}-rule-${i}-arg-${j}`));
    a.ret(retOf(r.action));
    a.label(fail);
  });
  a.ret(v.fallback);
}

/**
 * argTest falls through when `arg` holds and jumps to `fail` when not. On 64-bit ABIs
 * the high word decides unless it is equal, then the low word does.
 */
function argTest(a: Assembler, arg: SeccompArg, bits: 32 | 64, fail: string, tag: string): void {
  const pass = `${tag}-pass`;
  const lo = OFF_ARGS + 8 * arg.index;
  const [vHi, vLo] = words(arg.value);
  const cmp = (off: number, v: number, last: boolean) => {
    a.op(LD_ABS, off);
    const next = last ? pass : undefined;
    switch (arg.op) {
      case 'SCMP_CMP_EQ': return a.jump(JEQ, v, next, fail);
      case 'SCMP_CMP_NE': return last ? a.jump(JEQ, v, fail, pass) : a.jump(JEQ, v, undefined, pass);
      case 'SCMP_CMP_GT': return last ? a.jump(JGT, v, pass, fail) : (a.jump(JGT, v, pass, undefined), a.jump(JEQ, v, undefined, fail));
      case 'SCMP_CMP_GE': return last ? a.jump(JGE, v, pass, fail) : (a.jump(JGT, v, pass, undefined), a.jump(JEQ, v, undefined, fail));
      case 'SCMP_CMP_LT': return last ? a.jump(JGE, v, fail, pass) : (a.jump(JGT, v, fail, undefined), a.jump(JEQ, v, undefined, pass));
      case 'SCMP_CMP_LE': return last ? a.jump(JGT, v, fail, pass) : (a.jump(JGT, v, fail, undefined), a.jump(JEQ, v, undefined, pass));
      case 'SCMP_CMP_MASKED_EQ': throw new Error('unreachable');
    }
  };
  if (arg.op === 'SCMP_CMP_MASKED_EQ') {
    const [mHi, mLo] = words(arg.value);
    const [dHi, dLo] = words(arg.valueTwo ?? 0);
    if (bits === 64) {
      a.op(LD_ABS, lo + 4);
      a.op(ALU_AND, mHi);
      a.jump(JEQ, dHi, undefined, fail);
    }
    a.op(LD_ABS, lo);
    a.op(ALU_AND, mLo);
    a.jump(JEQ, dLo, undefined, fail);
  } else {
    if (bits === 64) cmp(lo + 4, vHi, false);
    cmp(lo, vLo, true);
  }
  a.label(pass);
}

/** words splits a non-negative integer below 2^53 into its high and low 32-bit words. */
function words(v: number): [number, number] {
  return [Math.floor(v / 0x1_0000_0000) >>> 0, v >>> 0];
}

function retOf(action: SeccompAction): number {
  return 'allow' in action ? RET_ALLOW : retErrno(action.errno);
}

function retErrno(errno: number): number {
  return (RET_ERRNO | (errno & 0xffff)) >>> 0;
}

// struct seccomp_data: nr, arch, instruction_pointer, args[6].
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARGS = 16;
// Classic BPF opcodes (linux/bpf_common.h).
const LD_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const ALU_AND = 0x54; // BPF_ALU | BPF_AND | BPF_K
const JA = 0x05; // BPF_JMP | BPF_JA
const JEQ = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGT = 0x25;
const JGE = 0x35;
const JSET = 0x45;
const RET = 0x06; // BPF_RET | BPF_K
// Return values (linux/seccomp.h).
const RET_KILL_THREAD = 0x00000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
const ENOSYS = 38;
const X32_BIT = 0x40000000;

/** AUDIT_ARCH_* (linux/audit.h): the ELF machine, 0x80000000 for 64-bit, 0x40000000 for little-endian. */
const AUDIT_LE = 0x40000000;
const AUDIT_64 = 0x80000000;
const ARCHES: Readonly<Record<SeccompArchName, { abi: SyscallAbi; audit: number; bits: 32 | 64; x32?: true }>> = {
  SCMP_ARCH_X86_64: { abi: 'x86_64', audit: (62 | AUDIT_64 | AUDIT_LE) >>> 0, bits: 64 },
  SCMP_ARCH_X32: { abi: 'x32', audit: (62 | AUDIT_64 | AUDIT_LE) >>> 0, bits: 32, x32: true },
  SCMP_ARCH_X86: { abi: 'i386', audit: (3 | AUDIT_LE) >>> 0, bits: 32 },
  SCMP_ARCH_AARCH64: { abi: 'aarch64', audit: (183 | AUDIT_64 | AUDIT_LE) >>> 0, bits: 64 },
  SCMP_ARCH_ARM: { abi: 'arm', audit: (40 | AUDIT_LE) >>> 0, bits: 32 },
};

/** BPF_MAXINSNS: the kernel refuses longer programs. */
const MAX_INSNS = 4096;

type Ins = { code: number; k: number; jt?: string | undefined; jf?: string | undefined } | { label: string };

/**
 * Assembler lays out instructions with symbolic jump targets (undefined: the next
 * instruction). A conditional jump reaches at most 255 instructions forward; a farther
 * one is rewritten as `jcond 0,1; ja T; ja F`, repeated until every jump fits.
 */
class Assembler {
  readonly #ins: Ins[] = [];

  op(code: number, k: number): void {
    this.#ins.push({ code, k });
  }

  jump(code: number, k: number, jt: string | undefined, jf: string | undefined): void {
    this.#ins.push({ code, k, jt, jf });
  }

  ret(k: number): void {
    this.#ins.push({ code: RET, k });
  }

  label(name: string): void {
    this.#ins.push({ label: name });
  }

  assemble(): Buffer {
    const long = new Set<number>();
    for (;;) {
      const { pos, at } = this.#layout(long);
      let grew = false;
      this.#ins.forEach((ins, i) => {
        if ('label' in ins || long.has(i) || (ins.jt === undefined && ins.jf === undefined)) return;
        const far = [ins.jt, ins.jf].some((l) => l !== undefined && pos.get(l)! - at[i]! - 1 > 255);
        if (far) (long.add(i), (grew = true));
      });
      if (!grew) return this.#emit(long, pos, at);
    }
  }

  /** layout gives each label its position and each instruction its first slot, with `long` jumps expanded. */
  #layout(long: Set<number>): { pos: Map<string, number>; at: number[] } {
    const pos = new Map<string, number>();
    const at: number[] = [];
    let n = 0;
    this.#ins.forEach((ins, i) => {
      at[i] = n;
      if ('label' in ins) pos.set(ins.label, n);
      else n += long.has(i) ? 3 : 1;
    });
    return { pos, at };
  }

  #emit(long: Set<number>, pos: Map<string, number>, at: number[]): Buffer {
    const out: [number, number, number, number][] = [];
    this.#ins.forEach((ins, i) => {
      if ('label' in ins) return;
      const here = at[i]!;
      const to = (l: string | undefined, from: number) => {
        if (l === undefined) return 0;
        const p = pos.get(l);
        if (p === undefined) throw new Error(`seccomp bpf: no label ${l}`);
        return p - from - 1;
      };
      if (!long.has(i)) return void out.push([ins.code, to(ins.jt, here), to(ins.jf, here), ins.k]);
      out.push([ins.code, 0, 1, ins.k]);
      out.push([JA, 0, 0, ins.jt === undefined ? 1 : to(ins.jt, here + 1)]);
      out.push([JA, 0, 0, to(ins.jf, here + 2)]);
    });
    if (out.length > MAX_INSNS) throw new Error(`seccomp bpf: ${out.length} instructions, the kernel takes ${MAX_INSNS}`);
    // struct sock_filter in host order (our hosts are little-endian): code | jt << 16 | jf << 24, then k.
    const words = new Uint32Array(out.length * 2);
    out.forEach(([code, jt, jf, k], i) => {
      words[2 * i] = (code | (jt << 16) | (jf << 24)) >>> 0;
      words[2 * i + 1] = k >>> 0;
    });
    return Buffer.from(words.buffer);
  }
}
