import { arch } from 'node:os';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** hostArch is the host architecture in OCI terms (amd64, arm64, …). */
export function hostArch(): string {
  return ARCH[arch()] ?? arch();
}

/** platformArgs are BuildKit's automatic platform ARGs for a native build. */
export function platformArgs(): Map<string, string> {
  const a = hostArch();
  const m = new Map<string, string>();
  for (const p of ['TARGET', 'BUILD']) {
    m.set(`${p}PLATFORM`, `linux/${a}`);
    m.set(`${p}OS`, 'linux');
    m.set(`${p}ARCH`, a);
    m.set(`${p}VARIANT`, '');
  }
  return m;
}
