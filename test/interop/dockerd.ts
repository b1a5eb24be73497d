import { execFileSync } from 'node:child_process';

/**
 * DOCKER is Debian's docker.io client (20.10): it speaks to the daemon the CI
 * starts (scripts/with-dockerd.sh) and builds with BuildKit via DOCKER_BUILDKIT=1
 * without a buildx plugin, which newer clients would need.
 */
export const DOCKER = '/usr/bin/docker';

/** docker runs the Docker client and returns its stdout; a failure throws with its stderr. */
export function docker(args: string[], opts: { env?: Record<string, string>; input?: Buffer | string } = {}): string {
  try {
    return execFileSync(DOCKER, args, {
      encoding: 'utf8',
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
  } catch (e) {
    const err = e as { stderr?: string; status?: number };
    throw new Error(`docker ${args.join(' ')} exited ${err.status}: ${err.stderr ?? ''}`);
  }
}

/** skopeo runs skopeo and returns its stdout; a failure throws with its stderr. */
export function skopeo(args: string[]): string {
  try {
    return execFileSync('skopeo', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; status?: number };
    throw new Error(`skopeo ${args.join(' ')} exited ${err.status}: ${err.stderr ?? ''}`);
  }
}

/**
 * requireDocker checks that a Docker daemon answers and returns its version. It
 * throws (so the suite fails, never skips) when none does: the interop suite is
 * run under scripts/with-dockerd.sh, and a missing daemon is a broken setup.
 */
export function requireDocker(): string {
  try {
    return execFileSync(DOCKER, ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    const err = e as { stderr?: string };
    throw new Error(`interop: no Docker daemon answers (${(err.stderr ?? String(e)).trim()}); run the suite as: bash scripts/with-dockerd.sh npm run test:interop`);
  }
}

/**
 * DockerLeftovers records the images and containers a test makes in the (possibly
 * shared) daemon, so cleanup removes those and nothing else.
 */
export class DockerLeftovers {
  readonly images = new Set<string>();
  readonly containers = new Set<string>();

  /** cleanup removes the recorded containers, then the recorded images (by name: other tags of an image stay). */
  cleanup(): void {
    for (const c of this.containers) try { docker(['rm', '-f', c]); } catch { /* already gone */ }
    for (const i of [...this.images].reverse()) try { docker(['rmi', '-f', i]); } catch { /* already gone */ }
  }
}
