import type { Request } from './request.ts';
import type { CmdInstruction, EntrypointInstruction, HealthcheckInstruction, RunInstruction, ShellInstruction } from './types.ts';
import { parseGoDuration } from './duration.ts';
import { parseMount } from './mountSpec.ts';
import { splitFlag, type ParsedFlags } from './flags.ts';
import { TsbuildError } from '../core/errors.ts';

/** buildRun: RUN [--mount=...]... [--network=...] [--security=...] command (shell, exec or heredoc). */
export function buildRun(r: Request): RunInstruction {
  const f = r.flags({ mount: 'strings', network: 'string', security: 'string' });
  const out: RunInstruction = { ...r.base(f.raw), kind: 'RUN', cmd: r.commandLine(), heredocs: r.node.heredocs, mounts: f.list('mount') };
  checkMounts(r);
  const network = f.str('network');
  if (network !== undefined) {
    if (!['default', 'none', 'host'].includes(network)) throw r.flagError(`network mode "${network}" not supported (use default, none or host)`, f.pos('network'));
    out.network = network;
  }
  const security = f.str('security');
  if (security !== undefined) {
    if (!['sandbox', 'insecure'].includes(security)) throw r.flagError(`security mode "${security}" not supported (use sandbox or insecure)`, f.pos('security'));
    out.security = security;
  }
  return out;
}

/**
 * checkMounts rejects a malformed --mount when parsing, as BuildKit's instruction parser
 * does (unknown type, bad sharing, a missing target, a non-numeric uid...). A value that
 * holds a variable is checked again after expansion, when the step runs.
 */
function checkMounts(r: Request): void {
  for (const flag of r.node.flags) {
    const { name, value } = splitFlag(flag.text);
    if (name !== 'mount' || value === null || value.includes('$')) continue;
    try {
      parseMount(value, '/', (s) => s);
    } catch (e) {
      if (e instanceof TsbuildError) throw r.flagError(e.message, flag.pos);
      throw e;
    }
  }
}

/** buildCmd: CMD command (shell or exec form). */
export function buildCmd(r: Request): CmdInstruction {
  return { ...r.base(r.flags({}).raw), kind: 'CMD', cmd: r.commandLine() };
}

/** buildEntrypoint: ENTRYPOINT command (shell or exec form). */
export function buildEntrypoint(r: Request): EntrypointInstruction {
  return { ...r.base(r.flags({}).raw), kind: 'ENTRYPOINT', cmd: r.commandLine() };
}

/** buildShell: SHELL ["executable", "parameters"], JSON form only. */
export function buildShell(r: Request): ShellInstruction {
  const flags = r.flags({}).raw;
  r.atLeastOne();
  if (!r.node.json) throw r.error('SHELL requires the arguments to be in JSON form', r.node.argsPos);
  return { ...r.base(flags), kind: 'SHELL', args: r.args.map((a) => a.value) };
}

const HEALTH_FLAGS = { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' } as const;

function duration(r: Request, f: ParsedFlags, name: string): number | undefined {
  const v = f.str(name);
  if (v === undefined) return undefined;
  const ns = parseGoDuration(v);
  if (ns === undefined) throw r.flagError(`--${name}: invalid duration "${v}" (use Go syntax such as 30s, 1m30s or 500ms)`, f.pos(name));
  if (ns !== 0 && ns < 1e6) throw r.flagError(`--${name} cannot be less than 1ms`, f.pos(name));
  return ns;
}

function retries(r: Request, f: ParsedFlags): number | undefined {
  const v = f.str('retries');
  if (v === undefined) return undefined;
  if (!/^[+-]?[0-9]+$/.test(v) || Math.abs(Number(v)) > 2 ** 31 - 1) throw r.flagError(`--retries: invalid integer "${v}"`, f.pos('retries'));
  const n = Number(v);
  if (n < 0) throw r.flagError(`--retries cannot be negative (${n})`, f.pos('retries'));
  return n;
}

/** buildHealthcheck: HEALTHCHECK NONE, or HEALTHCHECK [--interval=...]... CMD command. Durations become nanoseconds. */
export function buildHealthcheck(r: Request): HealthcheckInstruction {
  r.atLeastOne();
  const [typ] = r.args;
  const kind = typ!.value.toUpperCase();
  if (kind === 'NONE') {
    const flags = r.flags({}).raw;
    if (r.args.length > 1) throw r.error('HEALTHCHECK NONE takes no arguments', r.args[1]!.pos);
    return { ...r.base(flags), kind: 'HEALTHCHECK', test: 'NONE' };
  }
  const f = r.flags(HEALTH_FLAGS);
  if (kind !== 'CMD') throw r.error(`unknown type "${typ!.value}" in HEALTHCHECK (try CMD or NONE)`, typ!.pos);
  if (r.args.length < 2) throw r.error('Missing command after HEALTHCHECK CMD', typ!.pos);
  const out: HealthcheckInstruction = { ...r.base(f.raw), kind: 'HEALTHCHECK', test: 'CMD', cmd: r.commandLine(1) };
  const fields = { interval: 'interval', timeout: 'timeout', startPeriod: 'start-period', startInterval: 'start-interval' } as const;
  for (const [field, flag] of Object.entries(fields) as Array<[keyof typeof fields, string]>) {
    const ns = duration(r, f, flag);
    if (ns !== undefined) out[field] = ns;
  }
  const n = retries(r, f);
  if (n !== undefined) out.retries = n;
  return out;
}
