import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, lstat, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { TsbuildError, isErrno } from '../core/errors.ts';
import type { MountSpec } from '../executor/types.ts';
import type { RunInstruction } from '../parser/types.ts';
import type { StageState } from '../planner/state.ts';
import { acquireLock, tryLock, withFileLock } from '../store/lock.ts';
import { tmpName } from '../store/atomicFile.ts';
import { DIR_MODE } from '../store/permissions.ts';
import { secureJoin } from '../sys/secureJoin.ts';
import { resolveFrom } from './copyStep.ts';
import { ensureLayers, overlayParents } from './layers.ts';
import { parseMount, type RunMount } from '../parser/mountSpec.ts';
import type { StepContext } from './solve.ts';
import type { FileSelection, FileSource } from './types.ts';
import type { LayerBlob } from '../snapshot/types.ts';
import { cleanPath, type MountDef } from './stepDef.ts';

/** PlannedMount is a parsed mount plus what its source resolved to (before the container exists). */
export interface PlannedMount {
  mount: RunMount;
  /** bind from the context: the selection to materialise. */
  context?: { src: FileSource; sel: FileSelection };
  /** bind or cache from a stage or image: its layers. */
  layers?: readonly LayerBlob[];
}

/** MountPlan is every --mount of a RUN and their definitions for the step key. */
export interface MountPlan {
  mounts: PlannedMount[];
  /** The mounts as the step key holds them: never a secret's or a cache's content. */
  defs: MountDef[];
}

/**
 * planMounts parses a RUN's --mount flags and resolves their sources. A context bind mount is
 * keyed by the content digest of what it exposes and a stage/image mount by that source's
 * key, so editing a bind-mounted file re-runs the step; cache, tmpfs and secret mounts are keyed
 * by their definition only (a secret's value never reaches the key).
 */
export async function planMounts(s: StageState, ins: RunInstruction, sc: StepContext, expand: (t: string) => string): Promise<MountPlan> {
  const workdir = s.config.config.WorkingDir || '/';
  const plan: MountPlan = { mounts: [], defs: [] };
  for (const raw of ins.mounts) {
    const mount = parseMount(raw, workdir, expand);
    const pm: PlannedMount = { mount };
    plan.mounts.push(pm);
    plan.defs.push(await mountDef(pm, ins, sc));
  }
  return plan;
}

/** mountDef resolves a mount's source (filling in pm) and gives its definition for the step key. */
async function mountDef(pm: PlannedMount, ins: RunInstruction, sc: StepContext): Promise<MountDef> {
  const m = pm.mount;
  switch (m.type) {
    case 'bind': {
      if (m.from === undefined) {
        const src = await sc.context();
        const sel = await src.select([m.source], { exclude: [], parents: false });
        pm.context = { src, sel };
        return { type: 'bind', target: m.target, readonly: m.readonly, source: { context: await src.digest(sel, { uid: 0, gid: 0 }) } };
      }
      const from = await resolveFrom(m.from, sc);
      pm.layers = from.layers;
      return { type: 'bind', target: m.target, readonly: m.readonly, source: { stage: from.key, path: cleanPath(m.source) } };
    }
    case 'cache':
      return { type: 'cache', target: m.target, id: m.id, readonly: m.readonly, mode: m.mode, uid: m.uid, gid: m.gid, from: m.from ?? null, source: m.source ?? null };
    case 'tmpfs':
      return { type: 'tmpfs', target: m.target, size: m.size ?? null };
    case 'secret': {
      const given = sc.opts.secrets?.has(m.id) ?? false;
      if (!given && m.required) throw new TsbuildError('USAGE', `secret ${m.id}: not provided (RUN --mount=type=secret,id=${m.id},required)`, { range: ins.range, hint: `pass it with --secret id=${m.id},src=FILE` });
      return { type: 'secret', target: m.target, id: m.id, mode: m.mode, uid: m.uid, gid: m.gid, given };
    }
  }
}

/** AttachedMounts are the runtime mounts of one RUN and how to release what backs them. */
export interface AttachedMounts {
  specs: MountSpec[];
  release(): Promise<void>;
}

/**
 * attachMounts makes each planned mount ready for the container whose root is merged. Mount
 * targets are created in the rootfs first, 0755 root, as BuildKit does: directories stay in the
 * layer as empty dirs, and for a file mount its parent dirs do while the file itself is left
 * to the runtime as a stub (never committed). Secrets are copied to a private tmpfs file with
 * the requested owner and mode, and removed afterwards.
 */
export async function attachMounts(plan: MountPlan, merged: string, sc: StepContext, scratch: string): Promise<AttachedMounts> {
  const specs: MountSpec[] = [];
  const releases: Array<() => Promise<void>> = [];
  const release = async () => {
    for (const r of releases.reverse()) await r().catch(() => undefined);
  };
  try {
    if (plan.mounts.length > 0) await mkdir(scratch, { recursive: true });
    for (const [i, pm] of plan.mounts.entries()) {
      const spec = await attachOne(pm, sc, join(scratch, `mount-${i}`), releases);
      if (!spec) continue;
      await makeTarget(merged, pm.mount.target, spec.type === 'tmpfs' || (await stat(spec.source)).isDirectory());
      specs.push(spec);
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { specs, release };
}

async function makeTarget(merged: string, target: string, isDir: boolean): Promise<void> {
  const host = await secureJoin(merged, isDir ? target : dirname(target));
  await mkdir(host, { recursive: true, mode: 0o755 });
}

async function attachOne(pm: PlannedMount, sc: StepContext, scratch: string, releases: Array<() => Promise<void>>): Promise<MountSpec | undefined> {
  const m = pm.mount;
  switch (m.type) {
    case 'tmpfs':
      return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755', ...(m.size ? [`size=${m.size}`] : [])] };
    case 'secret':
      return attachSecret(m, sc, releases);
    case 'bind': {
      const source = await bindSource(pm, m.source, sc, scratch, releases);
      return { destination: m.target, type: 'bind', source, options: ['rbind', m.readonly ? 'ro' : 'rw'] };
    }
    case 'cache': {
      const source = await cacheDir(m, sc, releases);
      return { destination: m.target, type: 'bind', source, options: ['rbind', m.readonly ? 'ro' : 'rw'] };
    }
  }
}

/** bindSource gives the host path a bind mount exposes: a private copy of context files, or a path in a stage's rootfs view. */
async function bindSource(pm: PlannedMount, source: string, sc: StepContext, scratch: string, releases: Array<() => Promise<void>>): Promise<string> {
  if (pm.context) {
    // A copy (not the context dir itself) so .dockerignore applies and rw writes are discarded.
    await mkdir(scratch, { recursive: true });
    releases.push(() => rm(scratch, { recursive: true, force: true }));
    await pm.context.src.copy(pm.context.sel, scratch, '/src', { workdir: '/', uid: 0, gid: 0, add: false, lowerDirs: [] });
    return join(scratch, 'src');
  }
  const layers = pm.layers ?? [];
  await ensureLayers(sc, layers);
  const active = await sc.deps.snapshotter.prepare(scratch, overlayParents(layers));
  releases.push(() => active.remove());
  await active.mount();
  const host = await secureJoin(active.merged, source);
  await lstat(host).catch((e: unknown) => {
    if (isErrno(e, 'ENOENT')) throw new TsbuildError('COPY_SOURCE_MISSING', `--mount: "${source}" not found in ${pm.mount.type === 'bind' && pm.mount.from ? `--from=${pm.mount.from}` : 'the source'}`);
    throw e;
  });
  return host;
}

/**
 * cacheDir gives the host directory of a cache mount: ROOT/cache/mounts/<hash of id>, created
 * on first use with the mount's mode and owner, and persisted across builds. sharing=locked
 * holds the cache's lock (store/lock.ts: across processes and PID namespaces) for the whole
 * RUN; sharing=private takes it if it is free and otherwise gets a throw-away directory, so
 * no two private or locked users write the same dir; shared just uses it.
 */
async function cacheDir(m: Extract<RunMount, { type: 'cache' }>, sc: StepContext, releases: Array<() => Promise<void>>): Promise<string> {
  const tmpDir = sc.deps.tmpDir;
  const root = join(dirname(tmpDir), 'cache', 'mounts');
  const name = createHash('sha256').update(m.id).digest('hex').slice(0, 32);
  const dir = join(root, name);
  if (m.sharing === 'private') {
    const release = await tryLock(tmpDir, `cache-${name}`);
    if (!release) {
      const own = tmpName(tmpDir, 'private');
      releases.push(() => rm(own, { recursive: true, force: true }));
      await initCache(own, m, true);
      return own;
    }
    releases.push(release);
  } else if (m.sharing === 'locked') {
    releases.push(await acquireLock(tmpDir, `cache-${name}`, { timeoutMs: Infinity }));
  }
  await mkdir(root, { recursive: true, mode: DIR_MODE });
  await withFileLock(tmpDir, `cache-${name}.init`, () => initCache(dir, m, false));
  return dir;
}

async function initCache(dir: string, m: Extract<RunMount, { type: 'cache' }>, fresh: boolean): Promise<void> {
  if (!fresh && existsSync(dir)) return;
  const tmp = fresh ? dir : `${dir}.init-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, { recursive: true });
  await chown(tmp, m.uid, m.gid);
  await chmod(tmp, m.mode);
  if (!fresh) await rename(tmp, dir);
}

/** attachSecret exposes a --secret as a read-only file, copied to a private tmpfs file (never into the store). */
async function attachSecret(m: Extract<RunMount, { type: 'secret' }>, sc: StepContext, releases: Array<() => Promise<void>>): Promise<MountSpec | undefined> {
  const given = sc.opts.secrets?.get(m.id);
  if (!given) return undefined;
  const base = existsSync('/dev/shm') ? '/dev/shm' : sc.deps.tmpDir;
  const dir = await mkdtemp(join(base, 'tsbuild-secret-'));
  releases.push(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o700);
  const file = join(dir, 'secret');
  if ('path' in given) await copyFile(given.path, file).catch((e: unknown) => { throw new TsbuildError('IO', `secret ${m.id}: cannot read ${given.path}`, { cause: e }); });
  else await writeFile(file, given.value, { mode: 0o600 });
  await chown(file, m.uid, m.gid);
  await chmod(file, m.mode);
  return { destination: m.target, type: 'bind', source: file, options: ['rbind', 'ro'] };
}
