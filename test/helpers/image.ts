import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { makeTempRoot, ok, type TempRoot } from './cli.ts';
import { makeBusyboxTar } from './rootfs.ts';

/** blob reads a blob of the store's OCI layout directly (independently of tsbuild's code). */
export function blob(root: string, digest: string): Buffer {
  return readFileSync(join(root, 'oci/blobs/sha256', digest.replace('sha256:', '')));
}

/** imageOf returns the manifest and config of a tagged image by reading index.json. */
export function imageOf(root: string, name: string): { manifestDigest: string; manifest: any; config: any } {
  const index = JSON.parse(readFileSync(join(root, 'oci/index.json'), 'utf8'));
  const full = name.includes(':') ? name : `${name}:latest`;
  const desc = index.manifests.find((m: any) => m.annotations?.['org.opencontainers.image.ref.name'] === full);
  if (!desc) throw new Error(`no image ${full} in ${root}`);
  const manifest = JSON.parse(blob(root, desc.digest).toString());
  const config = JSON.parse(blob(root, manifest.config.digest).toString());
  return { manifestDigest: desc.digest, manifest, config };
}

/** unpack extracts an image with umoci (an independent OCI tool) and returns its rootfs dir. */
export function unpack(root: string, name: string, into: string): string {
  const full = name.includes(':') ? name : `${name}:latest`;
  execFileSync('umoci', ['unpack', '--image', `${join(root, 'oci')}:${full}`, into], { stdio: 'pipe' });
  return join(into, 'rootfs');
}

/** importBusybox makes busybox:latest in the store at root. */
export async function importBusybox(root: string, workDir: string, name = 'busybox:latest'): Promise<void> {
  const tar = join(workDir, 'busybox.tar');
  makeBusyboxTar(mkdtempSync(join(workDir, 'bb-')), tar);
  await ok(['--root', root, 'import', tar, name]);
}

/** writeTree writes files (path → content) under dir. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
}

/** jsonEvents parses --progress=json output. */
export function jsonEvents(stderr: string): any[] {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

/** makeContext writes files into a fresh context dir under parent and returns it. */
export function makeContext(parent: string, files: Record<string, string>): string {
  const d = mkdtempSync(join(parent, 'ctx-'));
  writeTree(d, files);
  return d;
}

/** busyboxSuite gives a test file a temp root with busybox:latest imported, cleaned up afterwards. */
export function busyboxSuite(hooks: { beforeAll: (fn: () => Promise<void>) => void; afterAll: (fn: () => void) => void }): { readonly t: TempRoot; ctx: (files: Record<string, string>) => string } {
  const s = {
    t: undefined as unknown as TempRoot,
    ctx: (files: Record<string, string>) => makeContext(s.t.dir, files),
  };
  hooks.beforeAll(async () => {
    s.t = makeTempRoot();
    await importBusybox(s.t.root, s.t.dir);
  });
  hooks.afterAll(() => s.t?.cleanup());
  return s;
}
