import { normalizeTag } from '../store/refs.ts';
import { ellipsis, humanDuration, shortId, since } from './format/humanize.ts';
import type { ContainerView } from './types.ts';

/** PsRow holds the fields of one `ps` row (the names `--format` uses). */
export interface PsRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Ports: string;
  State: string;
  Status: string;
  Names: string;
}

/** PS_HEADERS are the column titles of `ps` fields. */
export const PS_HEADERS: Readonly<Record<keyof PsRow, string>> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Names: 'NAMES',
};

const COMMAND_WIDTH = 20;

/**
 * imageLabel is ps's IMAGE column: the reference the container was made from
 * while it still names the container's image (tags map names to image ids),
 * else the image's short id, as Docker shows a container whose image lost its name.
 */
export function imageLabel(c: ContainerView, tags: ReadonlyMap<string, string>): string {
  const ref = c.image.ref;
  const hex = c.image.id.replace(/^sha256:/, '');
  const idLike = /^(?:sha256:)?([0-9a-f]+)$/.exec(ref);
  if (idLike && hex.startsWith(idLike[1]!)) return ref;
  let name: string | undefined;
  try {
    name = normalizeTag(ref);
  } catch {
    name = undefined;
  }
  return name !== undefined && tags.get(name) === c.image.id ? ref : shortId(c.image.id);
}

/**
 * psRow renders a container as `docker ps` does: short id, the image (see imageLabel), the command quoted (truncated to 20 characters unless noTrunc),
 * `Created` / `Up 5 seconds` / `Exited (0) 3 minutes ago`.
 */
export function psRow(c: ContainerView, now: Date, noTrunc: boolean, image = c.image.ref): PsRow {
  const command = [c.path, ...c.args].join(' ');
  return {
    ID: noTrunc ? c.id : shortId(c.id),
    Image: image,
    Command: JSON.stringify(noTrunc ? command : ellipsis(command, COMMAND_WIDTH)),
    CreatedAt: c.created,
    RunningFor: since(c.created, now),
    Ports: '',
    State: c.state.status,
    Status: statusText(c, now),
    Names: c.name,
  };
}

/** statusText is ps's STATUS column. */
export function statusText(c: ContainerView, now: Date): string {
  const s = c.state;
  switch (s.status) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${humanDuration(now.getTime() - Date.parse(s.startedAt ?? c.created))}`;
    case 'exited':
      return s.finishedAt ? `Exited (${s.exitCode ?? 255}) ${since(s.finishedAt, now)}` : `Exited (${s.exitCode ?? 255})`;
  }
}
