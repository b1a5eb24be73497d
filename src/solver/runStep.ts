import { mkdir, rm, writeFile, chmod, chown } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TsbuildError } from '../core/errors.ts';
import type { RunInstruction } from '../parser/types.ts';
import { commandArgs, scope } from '../planner/meta.ts';
import { envFromList } from '../planner/expand.ts';
import type { StageState } from '../planner/state.ts';
import { secureJoin } from '../sys/secureJoin.ts';
import { tmpName } from '../store/atomicFile.ts';
import { homeDir, resolveUser, type ResolvedUser } from '../executor/resolveUser.ts';
import type { MountSpec } from '../executor/types.ts';
import type { SecurityMode } from '../executor/security.ts';
import { requireEntitlements } from './entitlements.ts';
import { stepKey } from './keys.ts';
import { cleanPath, type RunDef } from './stepDef.ts';
import { ensureLayers, overlayParents } from './layers.ts';
import { logStream } from './logStream.ts';
import { attachMounts, planMounts, type MountPlan } from './runMounts.ts';
import { cachedLayerStep, commitOptions, emptyLayer } from './layerStep.ts';
import type { StepContext } from './solve.ts';

interface RunPlan {
  args: string[];
  env: string[];
  /** The predefined proxy build args, in both cases (not part of the cache key, as in BuildKit). */
  proxyEnv: string[];
  /** Build args visible to the step, as `K=V`, for the history line. */
  argEnv: string[];
  user: string;
  cwd: string;
  network: 'host' | 'none';
  /** RUN --security (insecure needs the security.insecure entitlement). */
  security: SecurityMode;
  /** Heredoc scripts with a shebang, executed from a file mounted at /dev/pipes/NAME. */
  scripts: { name: string; content: string }[];
}

/** runStep runs a RUN instruction in a container over the stage's layers, or reuses its cached layer. */
export async function runStep(s: StageState, ins: RunInstruction, sc: StepContext): Promise<StageState> {
  // ONBUILD triggers come from the base image: checked here, as they were not before the build.
  requireEntitlements(ins, sc.opts.entitlements ?? new Set());
  const plan = planRun(s, ins, sc);
  const env = scope(s);
  const mountPlan = await planMounts(s, ins, sc, (t) => sc.deps.expand.word(t, env));
  const def: RunDef = { kind: 'RUN', args: plan.args, scripts: plan.scripts, env: plan.env, user: plan.user, cwd: plan.cwd, network: plan.network, security: plan.security, mounts: mountPlan.defs };
  const key = stepKey(s.key, def);
  const createdBy = `RUN ${plan.argEnv.length ? `|${plan.argEnv.length} ${plan.argEnv.join(' ')} ` : ''}${plan.args.join(' ')} # buildkit`;
  // BuildKit commits a layer for every RUN, an empty one when nothing changed.
  return cachedLayerStep(s, sc, key, createdBy, async () => (await execute(s, plan, sc, ins, mountPlan)) ?? (await emptyLayer(sc)));
}

function planRun(s: StageState, ins: RunInstruction, sc: StepContext): RunPlan {
  const cfg = s.config.config;
  const envMap = envFromList(cfg.Env);
  // History: every ARG declaration of the stage in order (a redeclared one twice), with its
  // current value (ENV's where ENV overrides it), empty when unset (BuildKit's runCommandString).
  const argEnv: string[] = [];
  for (const k of s.argOrder ?? [...s.args.keys()]) argEnv.push(`${k}=${envMap.get(k) ?? s.args.get(k) ?? ''}`);
  // Process environment: set ARGs that ENV does not override.
  const argProcEnv: string[] = [];
  for (const [k, v] of s.args) if (v !== undefined && !envMap.has(k)) argProcEnv.push(`${k}=${v}`);
  const network = ins.network === undefined ? sc.opts.network : networkMode(ins.network);
  const scripts: RunPlan['scripts'] = [];
  let args: string[];
  const heredocOnly = ins.cmd.form === 'shell' && ins.heredocs.length === 1 && /^\d*<<-?\s*\S+$/.test(ins.cmd.command.trim());
  if (ins.cmd.form === 'shell' && ins.heredocs.length > 0) {
    const h = ins.heredocs[0]!;
    if (heredocOnly) {
      const content = h.chomp ? h.content.replace(/^\t+/gm, '') : h.content;
      if (content.startsWith('#!')) {
        // BuildKit mounts the script at /dev/pipes/NAME and runs that path through the shell.
        scripts.push({ name: h.name, content });
        args = [...(cfg.Shell ?? ['/bin/sh', '-c']), `/dev/pipes/${h.name}`];
      } else {
        args = [...(cfg.Shell ?? ['/bin/sh', '-c']), content];
      }
    } else {
      // As BuildKit: the command line, then each body and its terminator, newline-joined.
      const full = ins.heredocs.reduce((acc, d) => `${acc}\n${d.content}${d.name}`, ins.cmd.command);
      args = [...(cfg.Shell ?? ['/bin/sh', '-c']), full];
    }
  } else {
    args = commandArgs(ins.cmd, cfg.Shell);
  }
  void scope;
  const env = [...(cfg.Env ?? []), ...argProcEnv];
  // The cwd as chdir(2) takes it: `/w/` and `/w` are one directory, and one key.
  return { args, env, proxyEnv: proxyEnv(sc.opts.buildArgs, env), argEnv, user: cfg.User ?? '', cwd: cleanPath(cfg.WorkingDir || '/'), network, security: ins.security === 'insecure' ? 'insecure' : 'sandbox', scripts };
}

const PROXY_ARGS = ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'];

/**
 * proxyEnv gives RUN the predefined proxy build args without an ARG, as BuildKit does:
 * `--build-arg http_proxy=…` sets both HTTP_PROXY and http_proxy, unless the step's
 * environment already has that name. They stay out of history and the cache key.
 */
function proxyEnv(buildArgs: ReadonlyMap<string, string>, env: readonly string[]): string[] {
  const have = envFromList(env);
  const out: string[] = [];
  for (const name of PROXY_ARGS) {
    const value = buildArgs.get(name) ?? buildArgs.get(name.toLowerCase());
    if (value === undefined) continue;
    for (const n of [name, name.toLowerCase()]) if (!have.has(n)) out.push(`${n}=${value}`);
  }
  return out;
}

function networkMode(v: string): 'host' | 'none' {
  if (v === 'host' || v === 'none') return v;
  if (v === 'default') return 'host';
  throw new TsbuildError('PARSE_FLAG', `unsupported RUN --network=${v}: want default, host or none`);
}

async function execute(s: StageState, plan: RunPlan, sc: StepContext, ins: RunInstruction, mountPlan: MountPlan) {
  const { deps } = sc;
  await ensureLayers(sc, s.layers);
  const dir = tmpName(deps.tmpDir, 'run');
  const active = await deps.snapshotter.prepare(dir, overlayParents(s.layers));
  let releaseMounts = async () => {};
  try {
    await active.mount();
    const { user, home } = await identity(sc, s, active.merged, plan.user);
    await ensureWorkdir(active.merged, plan.cwd, user.uid, user.gid);
    const env = [...plan.env, ...plan.proxyEnv];
    // HOME as the executor would add it (runc's rule), from the passwd already read.
    if (!env.some((kv) => kv.startsWith('HOME='))) env.push(`HOME=${home}`);
    const mounts: MountSpec[] = [];
    for (const sc2 of plan.scripts) {
      const f = join(dir, `script-${sc2.name}`);
      await writeFile(f, sc2.content);
      await chmod(f, 0o755);
      mounts.push({ destination: `/dev/pipes/${sc2.name}`, type: 'bind', source: f, options: ['rbind', 'ro'] });
    }
    const attached = await attachMounts(mountPlan, active.merged, sc, join(dir, 'mounts'));
    releaseMounts = attached.release;
    mounts.push(...attached.specs);
    const status = await deps.executor.run({
      id: `tsbuild-${randomBytes(6).toString('hex')}`,
      rootfs: active.merged,
      process: { args: plan.args, env, cwd: plan.cwd, uid: user.uid, gid: user.gid, ...(user.additionalGids ? { additionalGids: user.additionalGids } : {}) },
      mounts,
      network: plan.network,
      security: plan.security,
      hostname: 'tsbuild',
      stateDir: join(dir, 'state'),
      keepStateDir: true,
      stdin: 'ignore',
      stdout: logStream(deps.events, sc.step, 'stdout'),
      stderr: logStream(deps.events, sc.step, 'stderr'),
      ...(sc.opts.signal ? { signal: sc.opts.signal } : {}),
    });
    sc.opts.signal?.throwIfAborted();
    if (status.exitCode !== 0) {
      const cmd = ins.original.length > 80 ? `${ins.original.slice(0, 77)}...` : ins.original;
      throw new TsbuildError('RUN_FAILED', `process "${cmd}" did not complete successfully: exit code: ${status.exitCode}${status.signal ? ` (${status.signal})` : ''}`, { range: ins.range });
    }
    return await active.commit({
      ...commitOptions(sc),
      stubs: status.createdStubs ?? [],
    });
  } finally {
    await releaseMounts();
    // dir (the snapshot's, holding state/ and the scripts) goes once the build ends.
    await active.remove(sc.background);
  }
}

/**
 * identity resolves a RUN's USER (uid, gid, groups) and its home directory from the
 * image's /etc/passwd and /etc/group, once per layer stack and USER in a build: the
 * stack is immutable, so steps on the same one (a run of RUNs between COPYs as
 * another user, or the same stack in two stages) read the files once.
 */
function identity(sc: StepContext, s: StageState, rootfs: string, spec: string): Promise<{ user: ResolvedUser; home: string }> {
  const key = `${spec}\0${s.layers.map((l) => l.diffID).join(',')}`;
  let p = sc.identities.get(key);
  if (!p) {
    p = resolveUser(rootfs, spec).then(async (user) => ({ user, home: await homeDir(rootfs, user.uid) }));
    sc.identities.set(key, p);
  }
  return p;
}

/**
 * ensureWorkdir creates a missing working directory the way BuildKit's WORKDIR
 * does: owned by the user the step runs as, so `USER app` + `WORKDIR /x` can write.
 */
async function ensureWorkdir(rootfs: string, cwd: string, uid: number, gid: number): Promise<void> {
  const dir = await secureJoin(rootfs, cwd);
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined || (uid === 0 && gid === 0)) return;
  for (let d = dir; d.length >= first.length; d = dirname(d)) await chown(d, uid, gid);
}
