import { TsbuildError } from '../core/errors.ts';
import type { ContainerConfig } from '../oci/types.ts';
import { setEnv } from '../planner/expand.ts';

/** DEFAULT_PATH is the PATH a container gets when its config sets none (Docker's default for Linux). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** RunOverrides are what `run` may change about an image's config. */
export interface RunOverrides {
  /** `K=V` from -e, in order (later wins). */
  env: readonly string[];
  /** -w */
  workdir?: string;
  /** -u */
  user?: string;
  /** --entrypoint ('' resets the image's entrypoint). */
  entrypoint?: string;
  /** The command after IMAGE (empty: the image's CMD). */
  cmd: readonly string[];
}

/** ResolvedRun is the container's config (what commit starts from) and the argv it runs. */
export interface ResolvedRun {
  config: ContainerConfig;
  argv: string[];
}

/**
 * containerConfig applies run's overrides to an image config with Docker's
 * rules: -e replaces or appends by name; --entrypoint replaces ENTRYPOINT and
 * drops the image's CMD; a command given after IMAGE replaces CMD; the process
 * runs ENTRYPOINT + CMD. ONBUILD triggers do not carry over into the container
 * (nor into an image committed from it), as in Docker. Throws USAGE for a
 * relative -w and when nothing is left to run.
 */
export function containerConfig(image: ContainerConfig, o: RunOverrides): ResolvedRun {
  const config: ContainerConfig = structuredClone(image);
  delete config.OnBuild;
  let env = [...(image.Env ?? [])];
  for (const kv of o.env) {
    const i = kv.indexOf('=');
    env = i < 0 ? setEnv(env, kv, '') : setEnv(env, kv.slice(0, i), kv.slice(i + 1));
  }
  if (env.length > 0) config.Env = env;
  let entrypoint = image.Entrypoint ?? [];
  let cmd = image.Cmd ?? [];
  if (o.entrypoint !== undefined) {
    entrypoint = o.entrypoint === '' ? [] : [o.entrypoint];
    cmd = [];
  }
  if (o.cmd.length > 0) cmd = [...o.cmd];
  config.Entrypoint = entrypoint.length > 0 ? [...entrypoint] : null;
  config.Cmd = cmd.length > 0 ? [...cmd] : null;
  if (o.workdir !== undefined) {
    if (!o.workdir.startsWith('/')) throw new TsbuildError('USAGE', `the working directory '${o.workdir}' is invalid, it needs to be an absolute path`);
    config.WorkingDir = o.workdir;
  }
  if (o.user !== undefined) config.User = o.user;
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new TsbuildError('USAGE', 'No command specified', { hint: 'give a command after the image name, or set CMD/ENTRYPOINT in the image' });
  return { config, argv };
}

/**
 * processEnv is the environment the container's process gets, as Docker builds
 * it: PATH (default), HOSTNAME, TERM=xterm with a terminal, then the config's
 * Env replacing or adding by name.
 */
export function processEnv(config: ContainerConfig, hostname: string, tty: boolean): string[] {
  let env = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, ...(tty ? ['TERM=xterm'] : [])];
  for (const kv of config.Env ?? []) {
    const i = kv.indexOf('=');
    env = i < 0 ? env : setEnv(env, kv.slice(0, i), kv.slice(i + 1));
  }
  return env;
}
