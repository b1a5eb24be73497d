import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, stat, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { digestFromHash, parseDigest, type Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import type { Selection, SelectedSource } from './types.ts';
import { deferredCaFile, isUntrustedCertificate, trustDeferredCaCerts } from '../sys/tlsTrust.ts';

/** FetchUrlOptions configure one ADD <url> download. */
export interface FetchUrlOptions {
  /** Directory for the download (a fresh subdirectory is made in it; remove it with cleanup()). */
  tmpDir: string;
  /** ADD --checksum=sha256:<hex>: the download must have this digest. */
  checksum?: string;
  /** Injectable fetch (defaults to the global one). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** FetchedUrl is a downloaded ADD source, ready for sourcesDigest and copyInto/addInto. */
export interface FetchedUrl {
  url: string;
  /** The name taken from the URL path (`__unnamed__` when it has none, as BuildKit). */
  filename: string;
  /** Host path of the downloaded file (mode 0600, mtime from Last-Modified when sent). */
  path: string;
  digest: Digest;
  size: number;
  /** A one-source selection of the file, for copyInto/addInto (dest rules are COPY's). */
  selection: Selection;
  /** cleanup removes the download. */
  cleanup(): Promise<void>;
}

/** redactUrl drops credentials and the query from a URL for messages (tokens often live there). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    if (u.search) u.search = '?REDACTED';
    return u.toString();
  } catch {
    return '<invalid URL>';
  }
}

/** urlFilename is BuildKit's choice of name: the base of the URL path, else `__unnamed__`. */
export function urlFilename(url: string): string {
  let base: string;
  try {
    base = posix.basename(decodeURIComponent(new URL(url).pathname));
  } catch {
    return '__unnamed__';
  }
  return base === '' || base === '.' || base === '/' || base === '..' ? '__unnamed__' : base;
}

/**
 * fetchUrl downloads an ADD source URL to a temporary file, hashing it as it streams. With a
 * checksum the digest must match (DIGEST_MISMATCH otherwise, and the file is removed). As
 * Docker does, the file gets mode 0600 and the Last-Modified time; it is never unpacked here.
 */
export async function fetchUrl(url: string, opts: FetchUrlOptions): Promise<FetchedUrl> {
  const shown = redactUrl(url);
  const want = opts.checksum === undefined ? undefined : parseChecksum(opts.checksum);
  const filename = urlFilename(url);
  const dir = await mkdtemp(join(opts.tmpDir, 'add-url-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    if (deferredCaFile() !== undefined) trustDeferredCaCerts((await import('node:tls')).default);
    const res = await (opts.fetch ?? fetch)(...request(url, opts.signal));
    if (!res.ok || res.body === null) {
      throw new TsbuildError('IO', `ADD ${shown}: GET: ${res.status} ${res.statusText}`, { hint: 'ADD cannot authenticate; use RUN curl/wget for protected URLs' });
    }
    const path = join(dir, filename);
    const h = createHash('sha256');
    const fh = await open(path, 'wx', 0o600);
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        h.update(chunk);
        await fh.write(chunk);
      }
    } finally {
      await fh.close();
    }
    const digest = digestFromHash(h);
    if (want !== undefined && digest !== want) {
      throw new TsbuildError('DIGEST_MISMATCH', `ADD ${shown}: checksum mismatch: got ${digest}, expected ${want}`);
    }
    const modified = Date.parse(res.headers.get('last-modified') ?? '');
    if (!Number.isNaN(modified)) await utimes(path, modified / 1000, modified / 1000);
    const source = await sourceOf(url, filename, path);
    return { url, filename, path, digest, size: source.entries[0]!.size, selection: { sources: [source], multiple: false, parents: false }, cleanup };
  } catch (e) {
    await cleanup();
    if (e instanceof TsbuildError) throw e;
    // fetch's own message is only "fetch failed": the reason (refused, certificate, …) is its cause.
    const cause = (e as { cause?: unknown }).cause;
    const why = cause instanceof Error ? `${(e as Error).message}: ${cause.message}` : (e as Error).message;
    const untrusted = isUntrustedCertificate((cause as { code?: string } | undefined)?.code);
    throw new TsbuildError('IO', `ADD ${shown}: ${why}`, { cause: e, ...(untrusted ? { hint: "the server's certificate is not trusted: add its CA (PEM) to NODE_EXTRA_CA_CERTS" } : {}) });
  }
}

/** request moves URL credentials into a Basic Authorization header (fetch refuses them in the URL; Go's client sends them). */
function request(url: string, signal: AbortSignal | undefined): [string, RequestInit] {
  const u = new URL(url);
  const init: RequestInit = signal ? { signal } : {};
  if (u.username || u.password) {
    const cred = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    init.headers = { authorization: `Basic ${Buffer.from(cred).toString('base64')}` };
    u.username = '';
    u.password = '';
  }
  return [u.toString(), init];
}

/** parseChecksum reads ADD --checksum (sha256:<64 hex digits>), failing with a usage error. */
export function parseChecksum(c: string): Digest {
  try {
    return parseDigest(c);
  } catch {
    throw new TsbuildError('USAGE', `invalid ADD --checksum "${c}": want sha256:<64 hex digits>`);
  }
}

async function sourceOf(url: string, filename: string, path: string): Promise<SelectedSource> {
  const st = await stat(path);
  return {
    source: url, path: filename, name: filename, kind: 'file',
    entries: [{
      rel: '.', abs: path, ctxPath: url, type: 'file', mode: 0o600, size: st.size,
      mtimeMs: st.mtimeMs, atimeMs: st.atimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev, nlink: 1,
    }],
  };
}
