import { release } from 'node:os';
import { DEFAULT_PROFILE, type GroupFilter, type SeccompAction, type SeccompArchName, type SeccompArg, type SeccompProfile } from './seccompProfile.ts';

/** SeccompRule is one rule of a resolved profile: the calls, their action, the argument tests (all must hold). */
export interface SeccompRule {
  names: readonly string[];
  action: SeccompAction;
  args: readonly SeccompArg[];
}

/** ResolvedSeccomp is a profile fixed for one container: its architectures and the rules that apply. */
export interface ResolvedSeccomp {
  defaultErrno: number;
  /** Native architecture first, then the sub-architectures its processes may call in. */
  architectures: readonly SeccompArchName[];
  rules: readonly SeccompRule[];
}

/** ResolveOptions describe the container and host a profile is resolved for. */
export interface ResolveOptions {
  /** The container's bounding set (CAP_* names): groups include and exclude on it, as moby does. */
  capabilities: readonly string[];
  /** Node's architecture name (x64, arm64); default: this process's. */
  arch?: string;
  /** [major, minor] of the host kernel; default: os.release(). */
  kernel?: readonly [number, number];
}

const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64' };

/**
 * resolveProfile applies moby's rules (profiles/seccomp setupSeccomp) to a profile for
 * one container: a group is kept when every `includes` condition holds (all its
 * capabilities are in the bounding set, the host is one of its arches, the kernel is new
 * enough) and no `excludes` one does. Throws on a host architecture the profile has no
 * entry for (callers check `seccompSupported` first).
 */
export function resolveProfile(o: ResolveOptions, profile: SeccompProfile = DEFAULT_PROFILE): ResolvedSeccomp {
  const arch = GO_ARCH[o.arch ?? process.arch] ?? '';
  const architectures = profile.archMap[arch];
  if (!architectures) throw new Error(`no seccomp architectures for ${o.arch ?? process.arch}`);
  const kernel = o.kernel ?? kernelVersion(release());
  const caps = new Set(o.capabilities);
  const holds = (f: GroupFilter, all: boolean): boolean => {
    const tests = [
      f.caps && (all ? f.caps.every((c) => caps.has(c)) : f.caps.some((c) => caps.has(c))),
      f.arches && f.arches.includes(arch),
      f.minKernel && (kernel[0] > f.minKernel[0] || (kernel[0] === f.minKernel[0] && kernel[1] >= f.minKernel[1])),
    ].filter((t) => t !== undefined);
    return all ? tests.every(Boolean) : tests.some(Boolean);
  };
  const rules = profile.syscalls
    .filter((g) => (!g.includes || holds(g.includes, true)) && (!g.excludes || !holds(g.excludes, false)))
    .map((g) => ({ names: g.names, action: g.action, args: g.args ?? [] }));
  return { defaultErrno: profile.defaultErrno, architectures, rules };
}

/** seccompSupported tells whether the default profile covers this host's architecture. */
export function seccompSupported(arch: string = process.arch): boolean {
  return GO_ARCH[arch] !== undefined && DEFAULT_PROFILE.archMap[GO_ARCH[arch]!] !== undefined;
}

/** kernelVersion reads "6.18.44-foo" as [6, 18]. */
export function kernelVersion(r: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(r);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** RuntimeSeccomp is the runtime-spec `linux.seccomp` object. */
export interface RuntimeSeccomp {
  defaultAction: 'SCMP_ACT_ERRNO';
  defaultErrnoRet: number;
  architectures: SeccompArchName[];
  syscalls: {
    names: string[];
    action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
    errnoRet?: number;
    args?: { index: number; value: number; valueTwo: number; op: string }[];
  }[];
}

/** runtimeSeccomp writes a resolved profile as the runtime-spec object runc compiles with libseccomp. */
export function runtimeSeccomp(p: ResolvedSeccomp): RuntimeSeccomp {
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: p.defaultErrno,
    architectures: [...p.architectures],
    syscalls: p.rules.map((r) => ({
      names: [...r.names],
      ...('allow' in r.action ? { action: 'SCMP_ACT_ALLOW' as const } : { action: 'SCMP_ACT_ERRNO' as const, errnoRet: r.action.errno }),
      ...(r.args.length ? { args: r.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
    })),
  };
}
