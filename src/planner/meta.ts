import { assertNever } from '../core/assertNever.ts';
import { TsbuildError } from '../core/errors.ts';
import type { CommandLine, Instruction } from '../parser/types.ts';
import { setEnv, type Env, type Expander } from './expand.ts';
import type { StageState } from './state.ts';
import { posix } from 'node:path';
import { goHealthcheck, goPlainList, goQuotedList, goSetMap } from './goFormat.ts';

/** MetaContext is what config-only instructions need besides the state. */
export interface MetaContext {
  expand: Expander;
  buildArgs: ReadonlyMap<string, string>;
  globalArgs: ReadonlyMap<string, string | undefined>;
  /** Build args that some ARG consumed (to warn about the rest, as Docker does). */
  usedArgs: Set<string>;
}

/** MetaInstruction is an instruction that changes only the image config. */
export type MetaInstruction = Exclude<Instruction, { kind: 'RUN' | 'COPY' | 'ADD' | 'FROM' }>;

/** scope is the expansion environment of a stage: its ARG values, overridden by ENV (as Docker does). */
export function scope(s: StageState): Map<string, string> {
  const env = new Map<string, string>();
  for (const [k, v] of s.args) if (v !== undefined) env.set(k, v);
  for (const kv of s.config.config.Env ?? []) {
    const i = kv.indexOf('=');
    env.set(i < 0 ? kv : kv.slice(0, i), i < 0 ? '' : kv.slice(i + 1));
  }
  return env;
}

/** goList renders strings the way Go's %q does for a []string: `["a" "b"]`. */
export function goList(xs: readonly string[]): string {
  return goQuotedList(xs);
}

/** commandArgs turns a CMD/ENTRYPOINT/RUN command line into argv using the stage's SHELL. */
export function commandArgs(cmd: CommandLine, shell: readonly string[] | undefined): string[] {
  return cmd.form === 'exec' ? [...cmd.args] : [...(shell ?? ['/bin/sh', '-c']), cmd.command];
}

/**
 * applyMeta applies a config-only instruction to the state and returns its history
 * line (created_by) as Docker 20.10's BuildKit writes it, or null for ONBUILD, which
 * BuildKit records in the config only. Instructions that take variables are expanded
 * with the stage's scope; CMD, ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD are not.
 */
export function applyMeta(s: StageState, ins: MetaInstruction, ctx: MetaContext): string | null {
  const cfg = s.config.config;
  const env: Env = scope(s);
  const w = (t: string) => ctx.expand.word(t, env);
  switch (ins.kind) {
    case 'ENV': {
      const pairs = ins.pairs.map((p) => [w(p.key), w(p.value)] as const);
      let list = cfg.Env ?? [];
      for (const [k, v] of pairs) list = setEnv(list, k, v);
      cfg.Env = list;
      return `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    }
    case 'LABEL': {
      const pairs = ins.pairs.map((p) => [w(p.key), w(p.value)] as const);
      cfg.Labels = { ...(cfg.Labels ?? {}) };
      for (const [k, v] of pairs) cfg.Labels[k] = v;
      return `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    }
    case 'ARG': {
      const parts: string[] = [];
      for (const a of ins.args) {
        const given = ctx.buildArgs.get(a.key);
        if (given !== undefined) ctx.usedArgs.add(a.key);
        const value = given ?? (a.value !== undefined ? w(a.value) : ctx.globalArgs.get(a.key));
        s.args.set(a.key, value);
        s.argOrder = [...(s.argOrder ?? []), a.key];
        parts.push(a.value !== undefined ? `${a.key}=${w(a.value)}` : a.key);
      }
      return `ARG ${parts.join(' ')}`;
    }
    case 'WORKDIR': {
      const p = w(ins.path);
      if (p === '') throw new TsbuildError('PARSE_SYNTAX', 'WORKDIR needs a path', { range: ins.range });
      // As BuildKit: an absolute path is kept as written (`/data/` stays `/data/`), a relative
      // one is joined to the current WORKDIR and cleaned.
      cfg.WorkingDir = posix.isAbsolute(p) ? p : posix.join('/', cfg.WorkingDir || '/', p).replace(/(.)\/+$/, '$1');
      return `WORKDIR ${cfg.WorkingDir}`;
    }
    case 'USER': {
      cfg.User = w(ins.user);
      return `USER ${cfg.User}`;
    }
    case 'CMD': {
      const args = commandArgs(ins.cmd, cfg.Shell);
      // BuildKit's image config omits an empty Cmd (`CMD []`); it always sets ArgsEscaped.
      if (args.length > 0) cfg.Cmd = args;
      else delete cfg.Cmd;
      cfg.ArgsEscaped = true;
      s.cmdSetInStage = true;
      return `CMD ${goList(args)}`;
    }
    case 'ENTRYPOINT': {
      cfg.Entrypoint = commandArgs(ins.cmd, cfg.Shell);
      // Docker: an ENTRYPOINT resets a CMD inherited from the base image (not one set in this stage).
      if (!s.cmdSetInStage) cfg.Cmd = null;
      return `ENTRYPOINT ${goList(cfg.Entrypoint)}`;
    }
    case 'SHELL':
      cfg.Shell = [...ins.args];
      return `SHELL ${goPlainList(cfg.Shell)}`;
    case 'EXPOSE': {
      const ports = ins.ports.flatMap((p) => ctx.expand.words(p, env)).flatMap(expandPortRange);
      cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of ports) cfg.ExposedPorts[p] = {};
      return `EXPOSE ${goSetMap(ports)}`;
    }
    case 'VOLUME': {
      const paths = ins.paths.map(w).filter((p) => p !== '');
      if (paths.length === 0) throw new TsbuildError('PARSE_SYNTAX', 'VOLUME specified can not be an empty string', { range: ins.range });
      cfg.Volumes = { ...(cfg.Volumes ?? {}) };
      for (const p of paths) cfg.Volumes[p] = {};
      return `VOLUME ${goPlainList(paths)}`;
    }
    case 'STOPSIGNAL':
      cfg.StopSignal = w(ins.signal);
      return `STOPSIGNAL ${cfg.StopSignal}`;
    case 'HEALTHCHECK':
      if (ins.test === 'NONE') cfg.Healthcheck = { Test: ['NONE'] };
      else {
        const test = ins.cmd.form === 'exec' ? ['CMD', ...ins.cmd.args] : ['CMD-SHELL', ins.cmd.command];
        cfg.Healthcheck = { Test: test };
        if (ins.interval !== undefined) cfg.Healthcheck.Interval = ins.interval;
        if (ins.timeout !== undefined) cfg.Healthcheck.Timeout = ins.timeout;
        if (ins.startPeriod !== undefined) cfg.Healthcheck.StartPeriod = ins.startPeriod;
        if (ins.startInterval !== undefined) cfg.Healthcheck.StartInterval = ins.startInterval;
        if (ins.retries !== undefined) cfg.Healthcheck.Retries = ins.retries;
      }
      return `HEALTHCHECK ${goHealthcheck(cfg.Healthcheck)}`;
    case 'ONBUILD':
      cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.expression];
      return null;
    case 'MAINTAINER':
      s.config.author = ins.name;
      return `MAINTAINER ${ins.name}`;
    default:
      return assertNever(ins, 'instruction');
  }
}

function expandPortRange(p: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(\w+))?$/.exec(p);
  if (!m) throw new TsbuildError('PARSE_SYNTAX', `invalid port "${p}"`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let x = lo; x <= hi; x++) out.push(`${x}/${proto}`);
  return out;
}
