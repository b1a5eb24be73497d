import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageRecord } from '../store/images.ts';
import { rootfsDir } from './createContainer.ts';
import { hostnameOf, stateDir } from './startContainer.ts';
import type { ContainerView } from './types.ts';

/**
 * imageInspect is `inspect`'s JSON for an image, in the shape of Docker's
 * image inspect (Id, RepoTags, Created, Config, RootFS, Size, …) plus the
 * manifest Descriptor, as Docker with the containerd store prints it.
 */
export function imageInspect(img: ImageRecord, names: readonly string[], size: number): Record<string, unknown> {
  const cfg = img.config;
  const history = cfg.history ?? [];
  return {
    Id: img.id,
    RepoTags: [...names],
    RepoDigests: [],
    Parent: '',
    Comment: history.at(-1)?.comment ?? '',
    Created: cfg.created ?? '',
    Author: cfg.author ?? '',
    Config: cfg.config,
    Architecture: cfg.architecture,
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Os: cfg.os,
    Size: size,
    RootFS: { Type: cfg.rootfs.type, Layers: cfg.rootfs.diff_ids },
    Descriptor: { mediaType: img.manifestDesc.mediaType, digest: img.manifestDesc.digest, size: img.manifestDesc.size },
  };
}

/**
 * containerInspect is `inspect`'s JSON for a container, in the shape of
 * Docker's container inspect (Id, Created, Path, Args, State, Image, Name,
 * Config, HostConfig, GraphDriver). State.Pid is the container's init process
 * as the host sees it, while it runs.
 */
export async function containerInspect(c: ContainerView): Promise<Record<string, unknown>> {
  const s = c.state;
  const running = s.status === 'running';
  const fs = rootfsDir(c);
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: s.status,
      Running: running,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: running ? await initPid(c) : 0,
      ExitCode: s.exitCode ?? 0,
      Error: '',
      StartedAt: s.startedAt ?? '0001-01-01T00:00:00Z',
      FinishedAt: s.finishedAt ?? '0001-01-01T00:00:00Z',
    },
    Image: c.image.id,
    Name: `/${c.name}`,
    HostConfig: { NetworkMode: c.hostConfig.network, AutoRemove: c.hostConfig.autoRemove },
    GraphDriver: { Name: 'overlay', Data: { UpperDir: join(fs, 'upper'), WorkDir: join(fs, 'work'), MergedDir: join(fs, 'merged') } },
    Config: {
      Hostname: hostnameOf(c),
      Tty: c.hostConfig.tty,
      OpenStdin: c.hostConfig.interactive,
      Image: c.image.ref,
      ...c.config,
    },
  };
}

/** initPid reads the container's init pid from the runtime's state (runc); 0 when unknown. */
async function initPid(c: ContainerView): Promise<number> {
  try {
    const state = JSON.parse(await readFile(join(stateDir(c), 'runc', c.id, 'state.json'), 'utf8')) as { init_process_pid?: number };
    return state.init_process_pid ?? 0;
  } catch {
    return 0;
  }
}
