import { describe, expect, test } from 'vitest';
import { compileBpf } from '../../../src/executor/seccompBpf.ts';
import { resolveProfile, runtimeSeccomp, type ResolvedSeccomp } from '../../../src/executor/seccomp.ts';
import { DEFAULT_CAPABILITIES } from '../../../src/executor/security.ts';
import { SYSCALL_TABLES, type SyscallAbi } from '../../../src/sys/syscallTable.generated.ts';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL = 0;
const AUDIT = { x86_64: 0xc000003e, i386: 0x40000003, aarch64: 0xc00000b7, arm: 0x40000028 } as const;
const X32 = 0x40000000;

/** run interprets a classic-BPF seccomp program (the kernel's subset) on one call; it also counts steps. */
function run(prog: Buffer, arch: number, nr: number, args: bigint[] = []): { ret: number; steps: number } {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr >>> 0, 0);
  data.writeUInt32LE(arch >>> 0, 4);
  for (let i = 0; i < 6; i++) data.writeBigUInt64LE(BigInt.asUintN(64, args[i] ?? 0n), 16 + 8 * i);
  let a = 0;
  let steps = 0;
  for (let pc = 0; ; ) {
    if (pc * 8 >= prog.length) throw new Error('the program ran off its end');
    const code = prog.readUInt16LE(pc * 8);
    const jt = prog.readUInt8(pc * 8 + 2);
    const jf = prog.readUInt8(pc * 8 + 3);
    const k = prog.readUInt32LE(pc * 8 + 4);
    steps++;
    pc++;
    switch (code) {
      case 0x20: a = data.readUInt32LE(k); break;
      case 0x54: a = (a & k) >>> 0; break;
      case 0x05: pc += k; break;
      case 0x15: pc += a === k ? jt : jf; break;
      case 0x25: pc += a > k ? jt : jf; break;
      case 0x35: pc += a >= k ? jt : jf; break;
      case 0x45: pc += (a & k) !== 0 ? jt : jf; break;
      case 0x06: return { ret: k, steps };
      default: throw new Error(`unknown opcode ${code.toString(16)}`);
    }
  }
}

/** reference decides a call straight from the resolved rules, with 64-bit (or low 32-bit) argument values. */
function reference(p: ResolvedSeccomp, abi: SyscallAbi, nr: number, args: bigint[], bits: 32 | 64): number {
  const table = SYSCALL_TABLES[abi];
  const named = (r: ResolvedSeccomp['rules'][number]) => r.names.some((n) => table[n] === nr);
  const all = p.rules.filter(named);
  const max = Math.max(...p.rules.flatMap((r) => r.names.map((n) => table[n] ?? -1)));
  if (nr > max) return ENOSYS;
  const cut = (v: bigint) => (bits === 32 ? BigInt.asUintN(32, v) : BigInt.asUintN(64, v));
  const ret = (r: ResolvedSeccomp['rules'][number]) => ('allow' in r.action ? ALLOW : 0x00050000 | r.action.errno);
  for (const r of all.filter((x) => x.args.length > 0)) {
    const ok = r.args.every((t) => {
      const v = cut(args[t.index] ?? 0n);
      const x = cut(BigInt(t.value));
      switch (t.op) {
        case 'SCMP_CMP_EQ': return v === x;
        case 'SCMP_CMP_NE': return v !== x;
        case 'SCMP_CMP_LT': return v < x;
        case 'SCMP_CMP_LE': return v <= x;
        case 'SCMP_CMP_GT': return v > x;
        case 'SCMP_CMP_GE': return v >= x;
        case 'SCMP_CMP_MASKED_EQ': return (v & x) === cut(BigInt(t.valueTwo ?? 0));
      }
    });
    if (ok) return ret(r);
  }
  const plain = all.find((x) => x.args.length === 0);
  return plain ? ret(plain) : 0x00050000 | p.defaultErrno;
}

const docker = resolveProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'x64', kernel: [6, 18] });
const x64 = compileBpf(docker);
const nr = (abi: SyscallAbi, name: string) => SYSCALL_TABLES[abi][name]!;

describe('compileBpf: the default profile on x86-64', () => {
  test('fits the kernel limit, and a common call is decided in a few steps', () => {
    expect(x64.length / 8).toBeLessThan(4096);
    for (const name of ['read', 'write', 'openat', 'futex', 'mmap']) expect(run(x64, AUDIT.x86_64, nr('x86_64', name)).steps, name).toBeLessThan(16);
  });

  test.each([
    ['getpid', [], ALLOW], ['mount', [], EPERM], ['unshare', [], EPERM], ['keyctl', [], EPERM], ['bpf', [], EPERM],
    ['init_module', [], EPERM], ['open_by_handle_at', [], EPERM], ['clone3', [], ENOSYS], ['chroot', [], ALLOW],
    ['clone', [0x11n], ALLOW], ['clone', [0x10000000n | 0x11n], EPERM], ['clone', [0x20000n], EPERM],
    // The mask covers only the low word: high bits do not make a namespace.
    ['clone', [(1n << 40n) | 0x11n], ALLOW],
    ['socket', [2n], ALLOW], ['socket', [37n], ALLOW], ['socket', [38n], EPERM], ['socket', [39n], ALLOW], ['socket', [40n], EPERM], ['socket', [41n], ALLOW],
    // 64-bit comparisons, as libseccomp makes them: a family with high bits set is "greater than 40".
    ['socket', [(1n << 32n) | 38n], ALLOW],
    ['personality', [0n], ALLOW], ['personality', [0xffffffffn], ALLOW], ['personality', [0x20008n], ALLOW], ['personality', [0x400000n], EPERM],
    ['personality', [0x1ffffffffn], EPERM], ['arch_prctl', [], ALLOW], ['modify_ldt', [], ALLOW], ['iopl', [], EPERM],
    ['set_mempolicy_home_node', [], EPERM], ['fchmodat2', [], ALLOW], ['mseal', [], ALLOW], ['file_setattr', [], ENOSYS], ['ptrace', [], ALLOW], ['kcmp', [], EPERM],
  ] as [string, bigint[], number][])('x86_64 %s(%s) → %i', (name, args, want) => {
    expect(run(x64, AUDIT.x86_64, nr('x86_64', name), args).ret).toBe(want);
  });

  test('numbers past the highest the profile names get ENOSYS; unnamed ones below it EPERM', () => {
    const max = Math.max(...docker.rules.flatMap((r) => r.names.map((n) => SYSCALL_TABLES.x86_64[n] ?? -1)));
    expect(run(x64, AUDIT.x86_64, max).ret).toBe(ALLOW);
    for (const n of [max + 1, 1000, X32 - 1]) expect(run(x64, AUDIT.x86_64, n).ret, String(n)).toBe(ENOSYS);
    expect(run(x64, AUDIT.x86_64, nr('x86_64', 'vhangup')).ret).toBe(EPERM);
  });

  test('x32 calls (bit 30) are decided by the x32 table, not the x86-64 one', () => {
    expect(run(x64, AUDIT.x86_64, nr('x32', 'getpid')).ret).toBe(ALLOW);
    expect(run(x64, AUDIT.x86_64, nr('x32', 'rt_sigaction')).ret).toBe(ALLOW);
    expect(run(x64, AUDIT.x86_64, nr('x32', 'keyctl')).ret).toBe(EPERM);
    expect(run(x64, AUDIT.x86_64, nr('x32', 'mount')).ret).toBe(EPERM);
    // x86-64's rt_sigaction number with the x32 bit is no x32 call.
    expect(run(x64, AUDIT.x86_64, X32 | 13).ret).toBe(EPERM);
    expect(run(x64, AUDIT.x86_64, X32 | 0xffff).ret).toBe(ENOSYS);
    // Only the low word of an argument counts on x32.
    expect(run(x64, AUDIT.x86_64, nr('x32', 'personality'), [(1n << 32n) | 0xffffffffn]).ret).toBe(ALLOW);
  });

  test('i386 calls are decided by the i386 table; other architectures are killed', () => {
    expect(run(x64, AUDIT.i386, nr('i386', 'getpid')).ret).toBe(ALLOW);
    expect(run(x64, AUDIT.i386, nr('i386', 'socketcall')).ret).toBe(ALLOW);
    expect(run(x64, AUDIT.i386, nr('i386', 'socket'), [40n]).ret).toBe(EPERM);
    expect(run(x64, AUDIT.i386, nr('i386', 'mount')).ret).toBe(EPERM);
    expect(run(x64, AUDIT.i386, nr('i386', 'modify_ldt')).ret).toBe(ALLOW);
    // Group arches name the host's (moby's rule), so arch_prctl holds for every ABI of an amd64 host.
    expect(run(x64, AUDIT.i386, nr('i386', 'arch_prctl')).ret).toBe(ALLOW);
    expect(run(x64, AUDIT.aarch64, 172).ret).toBe(KILL);
    expect(run(x64, AUDIT.arm, 20).ret).toBe(KILL);
  });

  test.each([
    ['x86_64', AUDIT.x86_64, 64], ['x32', AUDIT.x86_64, 32], ['i386', AUDIT.i386, 32],
  ] as [SyscallAbi, number, 32 | 64][])('every %s call agrees with a direct reading of the rules', (abi, audit, bits) => {
    const argSets: bigint[][] = [[], [38n], [40n], [41n], [0xffffffffn], [0x400000n], [0x20000n], [0x11n], [(1n << 32n) | 39n]];
    const numbers = [...Object.values(SYSCALL_TABLES[abi]), ...(abi === 'x32' ? [X32 | 13, X32 | 600] : [500, 501])];
    const wrong: string[] = [];
    for (const n of numbers) for (const args of argSets) if (run(x64, audit, n, args).ret !== reference(docker, abi, n, args, bits)) wrong.push(`${n}(${args})`);
    expect(wrong).toEqual([]);
  });
});

describe('compileBpf: capabilities and arm64', () => {
  test('with CAP_SYS_ADMIN, namespaces and mounts are allowed and clone3 is a call like any other', () => {
    const p = compileBpf(resolveProfile({ capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], arch: 'x64', kernel: [6, 18] }));
    for (const name of ['mount', 'unshare', 'setns', 'clone3', 'bpf']) expect(run(p, AUDIT.x86_64, nr('x86_64', name)).ret, name).toBe(ALLOW);
    expect(run(p, AUDIT.x86_64, nr('x86_64', 'clone'), [0x10000000n]).ret).toBe(ALLOW);
  });

  test('an old kernel loses the ptrace group (minKernel 4.8)', () => {
    const p = compileBpf(resolveProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'x64', kernel: [4, 4] }));
    expect(run(p, AUDIT.x86_64, nr('x86_64', 'ptrace')).ret).toBe(EPERM);
  });

  test('arm64: aarch64 and arm sections, the arm private calls, and x86 killed', () => {
    const arm = resolveProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'arm64', kernel: [6, 1] });
    expect(arm.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    const p = compileBpf(arm);
    expect(run(p, AUDIT.aarch64, nr('aarch64', 'getpid')).ret).toBe(ALLOW);
    expect(run(p, AUDIT.aarch64, nr('aarch64', 'mount')).ret).toBe(EPERM);
    expect(run(p, AUDIT.aarch64, nr('aarch64', 'clone3')).ret).toBe(ENOSYS);
    expect(run(p, AUDIT.arm, nr('arm', 'cacheflush')).ret).toBe(ALLOW);
    expect(run(p, AUDIT.arm, nr('arm', 'set_tls')).ret).toBe(ALLOW);
    expect(run(p, AUDIT.arm, nr('arm', 'arm_fadvise64_64')).ret).toBe(ALLOW);
    expect(run(p, AUDIT.arm, nr('arm', 'mount')).ret).toBe(EPERM);
    expect(run(p, AUDIT.x86_64, 39).ret).toBe(KILL);
    for (const [abi, audit, bits] of [['aarch64', AUDIT.aarch64, 64], ['arm', AUDIT.arm, 32]] as const) {
      const wrong: string[] = [];
      for (const n of Object.values(SYSCALL_TABLES[abi])) for (const args of [[], [40n], [0x20000n]]) if (run(p, audit, n, args).ret !== reference(arm, abi, n, args, bits)) wrong.push(`${abi} ${n}(${args})`);
      expect(wrong).toEqual([]);
    }
  });
});

describe('compileBpf: every comparison libseccomp offers', () => {
  const ops = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ'] as const;
  const values = [0, 1, 0x7fffffff, 0xffffffff, 0x1_0000_0000, 0x1_0000_0005, 0x1f_ffff_ffff];
  const probes = [0n, 1n, 4n, 5n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x1_0000_0000n, 0x1_0000_0004n, 0x1_0000_0005n, 0x1_0000_0006n, 0x1f_ffff_ffffn, 0xffff_ffff_ffff_ffffn];
  test.each(ops)('%s, on the 64-bit and the 32-bit ABIs, agrees with the reference at every boundary', (op) => {
    const wrong: string[] = [];
    for (const value of values) {
      // Two rules on one call (index 0 and index 5), so that a failed first rule must fall to the second.
      const p: ResolvedSeccomp = {
        defaultErrno: 1, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        rules: [
          { names: ['getpid'], action: { errno: 7 }, args: [{ index: 0, value, valueTwo: 5, op }] },
          { names: ['getpid'], action: { allow: true }, args: [{ index: 5, value, valueTwo: 5, op }] },
        ],
      };
      const prog = compileBpf(p);
      for (const [abi, audit, bits] of [['x86_64', AUDIT.x86_64, 64], ['x32', AUDIT.x86_64, 32], ['i386', AUDIT.i386, 32]] as const) {
        for (const a0 of probes) for (const a5 of [0n, 5n, 0x1_0000_0005n]) {
          const args = [a0, 0n, 0n, 0n, 0n, a5];
          const got = run(prog, audit, nr(abi, 'getpid'), args).ret;
          const want = reference(p, abi, nr(abi, 'getpid'), args, bits);
          if (got !== want) wrong.push(`${abi} value=${value} args=${a0},${a5}: ${got} != ${want}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('runtimeSeccomp: the object runc gets', () => {
  test("Docker's shape: ERRNO(EPERM) by default, x86-64 with x86 and x32, clone3 ENOSYS, the socket and personality rules", () => {
    const o = runtimeSeccomp(docker);
    expect(o).toMatchObject({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] });
    expect(o.syscalls).toContainEqual({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
    expect(o.syscalls).toContainEqual({ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, valueTwo: 0, op: 'SCMP_CMP_GT' }] });
    expect(o.syscalls).toContainEqual({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] });
    expect(o.syscalls.filter((s) => s.names.includes('personality'))).toHaveLength(5);
    expect(o.syscalls.flatMap((s) => s.names)).not.toContain('mount');
    expect(o.syscalls.flatMap((s) => s.names)).toContain('chroot');
  });
});
