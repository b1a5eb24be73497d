/** EntryType is what a selected path is. Other kinds (sockets, fifos, devices) are skipped by the walker. */
export type EntryType = 'file' | 'dir' | 'symlink';

/** SourceEntry is one path that COPY will write, with the metadata taken from the context. */
export interface SourceEntry {
  /** Path below the copied source root, slash-separated; "." is the source root itself. */
  rel: string;
  /** Host path to read. */
  abs: string;
  /** Path relative to the context root (the stat-cache key). */
  ctxPath: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777), before --chmod. */
  mode: number;
  size: number;
  mtimeMs: number;
  atimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  nlink: number;
  /** Symlink target, verbatim (symlinks inside a copied directory are copied, never followed). */
  linkTarget?: string;
}

/** SelectedSource is what one COPY source (or one wildcard match of it) resolved to. */
export interface SelectedSource {
  /** The source as written in the instruction. */
  source: string;
  /** The matched path relative to the context root ("." for the root), before a top-level symlink is followed. */
  path: string;
  /** The name it takes under a directory destination: the base name of path. */
  name: string;
  /**
   * 'dir': the directory's *contents* go into the destination (Docker's COPY dir dst);
   * 'file': the file itself (the named source was followed if it was a symlink).
   */
  kind: 'file' | 'dir';
  /** For a dir, "." (the dir itself) first, then everything below in walk order; for a file, one entry with rel ".". */
  entries: SourceEntry[];
}

/** Selection is the resolved sources of one COPY/ADD instruction, in instruction order. */
export interface Selection {
  sources: SelectedSource[];
  /** True when the instruction named several sources or a wildcard: the destination is a directory. */
  multiple: boolean;
  /** --parents: each source is a 'dir' rooted at its pivot whose entries keep their parent path. */
  parents: boolean;
}

/** SelectOptions are the COPY flags that change what is selected. */
export interface SelectOptions {
  /** COPY --exclude patterns (.dockerignore syntax), matched against paths below each copied source. */
  exclude?: readonly string[];
  /** COPY --parents: keep each source's parent directories (up to a `/./` pivot) under the destination. */
  parents?: boolean;
  /**
   * BuildKit lets a wildcard match nothing (AllowEmptyWildcard). We do too, but when the whole
   * instruction selected nothing we fail like the classic builder unless this is true.
   */
  allowEmpty?: boolean;
}

/** Owner is a numeric uid/gid pair (names are resolved by the caller from the image's /etc/passwd). */
export interface Owner {
  uid: number;
  gid: number;
}
