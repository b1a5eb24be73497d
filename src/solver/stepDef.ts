import type { Digest } from '../core/digest.ts';
import { parseChmod } from '../context/chmod.ts';
import type { Owner } from './chownUser.ts';

/**
 * StepDef is what the cache key of a layer step holds besides its parent's key: one variant
 * per instruction that makes a layer, with one field per flag or option of that instruction,
 * as the step applies it (expanded, resolved to numbers, defaults filled in, one spelling per
 * value), and, for what the step reads, its content (files) or key (another stage). Two
 * definitions are equal exactly when the steps must give the same layer on the same parent:
 * nothing cosmetic (flag order, the instruction's text, history, config-only instructions)
 * and nothing of the host (paths, times) is in it. A new flag is a new field of its variant,
 * which every place that builds the variant must then fill in (the compiler says where).
 * test/integration/build/stepKeys.test.ts changes each flag in turn.
 */
export type StepDef = RunDef | CopyDef | WorkdirDef;

/** RunDef defines a RUN: the process, its environment and its mounts. */
export interface RunDef {
  kind: 'RUN';
  /** The argv: SHELL plus the command (shell form, heredocs), or the exec form as written. */
  args: string[];
  /** Heredoc scripts with a shebang, mounted at /dev/pipes/NAME. */
  scripts: { name: string; content: string }[];
  /** The image's ENV, then the build args in scope that have a value; never the proxy args (BuildKit's rule). */
  env: string[];
  /** USER as written; the container resolves it in its /etc/passwd, which the parent key covers. */
  user: string;
  /** WORKDIR, cleaned (cleanPath). */
  cwd: string;
  /** --network, or the build's --network. */
  network: 'host' | 'none';
  /** --security (sandbox when not given). */
  security: 'sandbox' | 'insecure';
  /** --mount, in order (a later mount may cover an earlier one). */
  mounts: MountDef[];
}

/**
 * MountDef defines one RUN --mount (targets absolute and cleaned by parseMount). A cache's
 * content and a secret's value are never in it (as BuildKit), nor is a cache's `sharing`,
 * which orders concurrent users of the same content; a secret's `required` only decides
 * whether a missing secret fails the step.
 */
export type MountDef =
  | { type: 'bind'; target: string; readonly: boolean; source: BindSource }
  | { type: 'cache'; target: string; id: string; readonly: boolean; mode: number; uid: number; gid: number; from: string | null; source: string | null }
  | { type: 'tmpfs'; target: string; size: number | null }
  | { type: 'secret'; target: string; id: string; mode: number; uid: number; gid: number; given: boolean };

/** BindSource is what a bind mount exposes: the content of context files, or a path in a stage (by the stage's key). */
export type BindSource = { context: Digest } | { stage: Digest; path: string };

/** CopyDef defines a COPY or an ADD. */
export interface CopyDef {
  kind: 'COPY' | 'ADD';
  /** The destination, expanded; a relative one after the WORKDIR (`/w` + `/` + `x/`: a trailing `/` or `.` means a directory). */
  dest: string;
  /**
   * --chown resolved to numbers (0:0 when not given). null only when not given to an ADD that
   * may unpack an archive: its entries then keep the archive's owners.
   */
  chown: Owner | null;
  /** --chmod: an octal mode as applied (permission bits), a symbolic one as written; null when not given. */
  chmod: number | string | null;
  /** --link. */
  link: boolean;
  /** --parents (COPY). */
  parents: boolean;
  /** ADD --unpack when it differs from every source's default (archives from the context are unpacked, downloads not); else null. */
  unpack: boolean | null;
  /** What is copied, in the order it is written (a later source may cover an earlier one). */
  sources: CopySource[];
}

/**
 * CopySource is one part of a COPY/ADD's input. `context` and `heredoc` are selection digests
 * (context/sourcesDigest: names, types, modes after --chmod, owners after --chown, contents;
 * --exclude and --parents applied); `url` is the downloaded content (or the --checksum it
 * must have); `stage` is another stage's or image's key with the paths, as --from reads
 * nothing of the source before a miss.
 */
export type CopySource =
  | { from: 'context'; digest: Digest }
  | { from: 'heredoc'; digest: Digest }
  | { from: 'url'; url: string; digest: Digest }
  | { from: 'stage'; key: Digest; paths: string[]; exclude: string[] };

/** WorkdirDef defines a WORKDIR that makes a layer: the directory and who owns what it creates. */
export interface WorkdirDef {
  kind: 'WORKDIR';
  /** The absolute path, cleaned. */
  path: string;
  /** USER as written (new directories are owned by it, resolved in the image). */
  user: string;
}

/** CopyFlags are a COPY/ADD's flags as the step applies them (sources aside). */
export interface CopyFlags {
  kind: 'COPY' | 'ADD';
  dest: string;
  workdir: string;
  /** --chown resolved, 0:0 when not given. */
  owner: Owner;
  chownGiven: boolean;
  chmod: string | undefined;
  link: boolean;
  parents: boolean;
  unpack: boolean | undefined;
}

/** copyDef defines a COPY/ADD from its flags and its sources (see CopyDef for each field's normal form). */
export function copyDef(f: CopyFlags, sources: CopySource[]): CopyDef {
  const add = f.kind === 'ADD';
  const unpacks = add && sources.some((s) => f.unpack ?? unpacksByDefault(s));
  return {
    kind: f.kind,
    dest: f.dest.startsWith('/') ? f.dest : `${cleanPath(f.workdir).replace(/\/$/, '')}/${f.dest}`,
    chown: unpacks && !f.chownGiven ? null : { uid: f.owner.uid, gid: f.owner.gid },
    chmod: f.chmod === undefined ? null : chmodDef(f.chmod),
    link: f.link,
    parents: f.parents,
    unpack: add && f.unpack !== undefined && !sources.every((s) => unpacksByDefault(s) === f.unpack) ? f.unpack : null,
    sources,
  };
}

/** unpacksByDefault: ADD unpacks archives from the context (and heredocs, which go the same way), never downloads. */
function unpacksByDefault(s: CopySource): boolean {
  return s.from !== 'url';
}

/**
 * chmodDef is --chmod as copies apply it (solver/fileSources dockerChmod): an octal mode sets
 * the permission bits only, so 755, 0755 and 4755 are one; a symbolic mode is kept as written.
 */
function chmodDef(flag: string): number | string {
  const spec = parseChmod(flag);
  return spec.octal === undefined ? spec.text : spec.octal & 0o777;
}

/** cleanPath drops empty and `.` components and trailing slashes of an absolute path (`/w//d/./` → `/w/d`); `..` is kept. */
export function cleanPath(p: string): string {
  return `/${p.split('/').filter((c) => c !== '' && c !== '.').join('/')}`;
}
