import { chmodSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';

/**
 * The compat fixtures: test/fixtures/compat/<case>/ holds
 *   Buildfile            the Dockerfile under test
 *   context/             its build context (optional; an empty dir otherwise)
 *   case.json            CaseSpec: build args, target, secrets, earlier builds, expected error
 *   expected/            recorded from `DOCKER_BUILDKIT=1 docker build` by scripts/record-compat.mjs:
 *                        fs.txt (listing against the busybox base), config.json, history.json,
 *                        or error.txt for a build Docker refuses.
 * Both the recorder and the test prepare the context with prepareContext, so file modes do not
 * depend on the checkout's umask.
 */

/** FIXTURES is the folder of the compat cases. */
export const FIXTURES = resolve(import.meta.dirname, '../../fixtures/compat');

/**
 * HTTP_PORT is where cases with `http` serve their http/ folder (ADD <url>): fixed, so history
 * lines match, and below Linux's ephemeral range (32768–60999), where any client socket or
 * `listen(0)` of a concurrent test could hold it.
 */
export const HTTP_PORT = 28471;

/** Fixed Last-Modified of served files (the mtime ADD gives them; not compared, but deterministic). */
const LAST_MODIFIED = 'Mon, 01 Jan 2024 00:00:00 GMT';

/** PreBuild is a build run before the case's own, in the same store (bases with ONBUILD, cache mounts). */
export interface PreBuild {
  /** Buildfile name in the case dir. */
  file: string;
  /** Tag given to its image (names start with `compat-`). */
  tag?: string;
  buildArgs?: string[];
}

/** SecretSpec is one `--secret id=ID,src=FILE|env=NAME` (src relative to the case dir). */
export interface SecretSpec {
  id: string;
  src?: string;
  env?: string;
}

/** CaseSpec is case.json. */
export interface CaseSpec {
  /** What the case checks (one line). */
  description: string;
  /** `docker` (optionally with a note) when expected/ was recorded, or `hand-written: <why>`. */
  reference: string;
  buildArgs?: string[];
  /** Environment of the build (for `--build-arg K` without a value, and secrets from env). */
  env?: Record<string, string>;
  target?: string;
  secrets?: SecretSpec[];
  pre?: PreBuild[];
  /** The build must fail; tsbuild's stderr must match this regex (Docker's message is in expected/error.txt). */
  error?: string;
  /** tsbuild's stderr must match this regex (warnings Docker prints too). */
  warning?: string;
  /** Serve http/ on 127.0.0.1:HTTP_PORT during the build. */
  http?: boolean;
  /** Context adjustments git cannot carry: modes, empty dirs, hard links. */
  setup?: {
    chmod?: Record<string, string>;
    mkdir?: string[];
    symlink?: Record<string, string>;
    hardlink?: Record<string, string>;
    /** Files written into the context here: names the repository's .gitignore drops (`*.log`). */
    write?: Record<string, string>;
  };
}

/** Case is one loaded fixture. */
export interface Case {
  name: string;
  dir: string;
  spec: CaseSpec;
}

/** loadCases lists the fixtures, sorted by name, optionally only those named. */
export function loadCases(only: readonly string[] = []): Case[] {
  return readdirSync(FIXTURES)
    .filter((n) => existsSync(join(FIXTURES, n, 'case.json')))
    .filter((n) => only.length === 0 || only.includes(n))
    .sort()
    .map((name) => ({ name, dir: join(FIXTURES, name), spec: JSON.parse(readFileSync(join(FIXTURES, name, 'case.json'), 'utf8')) as CaseSpec }));
}

/**
 * prepareContext copies the case's context/ into dest with normalised modes (dirs 0755, files
 * 0644 or 0755 when executable) and applies case.json's setup. Returns dest.
 */
export function prepareContext(c: Case, dest: string): string {
  mkdirSync(dest, { recursive: true });
  const src = join(c.dir, 'context');
  if (existsSync(src)) {
    cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
    normaliseModes(dest);
  }
  const s = c.spec.setup ?? {};
  for (const d of s.mkdir ?? []) mkdirSync(join(dest, d), { recursive: true, mode: 0o755 });
  for (const [p, content] of Object.entries(s.write ?? {})) writeFileSync(join(dest, p), content, { mode: 0o644 });
  for (const [p, target] of Object.entries(s.symlink ?? {})) symlinkSync(target, join(dest, p));
  for (const [p, target] of Object.entries(s.hardlink ?? {})) linkSync(join(dest, target), join(dest, p));
  for (const [p, mode] of Object.entries(s.chmod ?? {})) chmodSync(join(dest, p), parseInt(mode, 8));
  return dest;
}

function normaliseModes(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      normaliseModes(p);
    } else chmodSync(p, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

/** serveHttp serves the case's http/ folder on 127.0.0.1:HTTP_PORT; close() stops it. */
export async function serveHttp(c: Case): Promise<Server> {
  const root = join(c.dir, 'http');
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/^\/+/, '');
    const p = join(root, name);
    if (name.includes('..') || !existsSync(p) || !lstatSync(p).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(p);
    res.writeHead(200, { 'content-length': body.length, 'last-modified': LAST_MODIFIED, 'content-type': 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // A previous case's server may still be letting go of the port: retry for a few seconds.
  for (let attempt = 0; ; attempt++) {
    try {
      await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(HTTP_PORT, '127.0.0.1', () => { server.off('error', rej); res(); }); });
      return server;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** stopHttp closes a serveHttp server and its kept-alive connections, releasing the port. */
export function stopHttp(server: Server): Promise<void> {
  return new Promise((res) => {
    server.close(() => res());
    server.closeAllConnections();
  });
}

/** buildFlags are the build options of a case common to docker and tsbuild (args, target, secrets). */
export function buildFlags(c: Case, extraArgs: readonly string[] = c.spec.buildArgs ?? []): string[] {
  const out: string[] = [];
  for (const a of extraArgs) out.push('--build-arg', a);
  if (c.spec.target) out.push('--target', c.spec.target);
  for (const s of c.spec.secrets ?? []) {
    out.push('--secret', s.src !== undefined ? `id=${s.id},src=${join(c.dir, s.src)}` : `id=${s.id},env=${s.env}`);
  }
  return out;
}
