import { lstatSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Header } from 'tar';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hexOf, sha256Of } from '../../../src/core/digest.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import { makeTempRoot, ok, tsbuild, type CliResult, type TempRoot } from '../../helpers/cli.ts';

// `tsbuild load` of hostile archives, through the CLI: every one fails with one line
// naming the offending entry and a hint, exit status 1, no stack trace, and leaves the
// store as it was (no tag, no blob, nothing in tmp/).

type EntryType = 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
interface Entry {
  name: string;
  data?: Buffer | string;
  type?: EntryType;
  linkpath?: string;
}

/** tarOf writes entries as a ustar archive, in order, exactly as given (no normalisation). */
function tarOf(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.data ?? '');
    const type = e.type ?? 'File';
    const h = new Header({
      path: e.name, type, mode: type === 'Directory' ? 0o755 : 0o644, uid: 0, gid: 0, size: type === 'File' ? body.length : 0,
      mtime: new Date(0), uname: '', gname: '', ...(e.linkpath !== undefined ? { linkpath: e.linkpath } : {}),
      ...(type === 'CharacterDevice' || type === 'BlockDevice' ? { devmaj: 1, devmin: 3 } : {}),
    });
    h.encode();
    parts.push(h.block!);
    if (type === 'File') parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const blobName = (d: string) => `blobs/sha256/${d.slice('sha256:'.length)}`;
const desc = (mediaType: string, b: Buffer) => ({ mediaType, digest: sha256Of(b), size: b.length });

/** An image of one layer, in parts that a test may replace. */
interface Parts {
  layer: Buffer;
  config: Record<string, unknown>;
  manifest?: Record<string, unknown>;
  index?: Record<string, unknown>;
  /** Entries added after the image's (or instead, with only). */
  extra?: Entry[];
  only?: Entry[];
}

function image(tag: string): Parts {
  const layer = tarOf([{ name: 'hello', data: `${tag}\n` }]);
  return { layer, config: { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256Of(layer)] } } };
}

/** ociArchive lays out an OCI archive of p: oci-layout, blobs, index.json naming `tag`. */
function ociArchive(p: Parts, tag = 'hostile:1'): Buffer {
  if (p.only) return tarOf(p.only);
  const config = json(p.config);
  const manifest = json(p.manifest ?? { schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciConfig, config), layers: [desc(MediaType.OciLayer, p.layer)] });
  const index = json(p.index ?? { schemaVersion: 2, manifests: [{ ...desc(MediaType.OciManifest, manifest), annotations: { 'org.opencontainers.image.ref.name': tag } }] });
  return tarOf([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'blobs/', type: 'Directory' },
    { name: 'blobs/sha256/', type: 'Directory' },
    { name: blobName(sha256Of(p.layer)), data: p.layer },
    { name: blobName(sha256Of(config)), data: config },
    { name: blobName(sha256Of(manifest)), data: manifest },
    { name: 'index.json', data: index },
    ...(p.extra ?? []),
  ]);
}

/** dockerArchive lays out a classic docker save archive of p. */
function dockerArchive(p: Parts, mutate: (m: Record<string, unknown>) => void = () => {}): Buffer {
  const config = json(p.config);
  const cfgName = `${hexOf(sha256Of(config))}.json`;
  const entry: Record<string, unknown> = { Config: cfgName, RepoTags: ['hostile:1'], Layers: ['aaaa/layer.tar'] };
  mutate(entry);
  return tarOf([
    { name: 'aaaa/', type: 'Directory' },
    { name: 'aaaa/layer.tar', data: p.layer },
    { name: cfgName, data: config },
    { name: 'manifest.json', data: json([entry]) },
    ...(p.extra ?? []),
  ]);
}

let t: TempRoot;
let n = 0;

/**
 * state lists every entry under the store root with what identifies a file's content
 * (inode, size, mtime); tmp/live holds the liveness sockets of running processes, not
 * store content.
 */
function state(root: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === 'tmp/live') continue;
      const st = lstatSync(join(abs, name));
      if (st.isDirectory()) {
        out.push(`${r}/`);
        walk(join(abs, name), r);
      } else out.push(`${r} ${st.ino} ${st.size} ${st.mtimeMs}`);
    }
  };
  walk(root, '');
  return out;
}

/** load runs `tsbuild load -i` on archive bytes. */
async function load(bytes: Buffer): Promise<CliResult & { file: string }> {
  const file = join(t.dir, `archive-${n++}.tar`);
  writeFileSync(file, bytes);
  return { ...(await tsbuild(['--root', t.root, 'load', '-i', file])), file };
}

/** refused loads bytes and checks the failure: one line matching msg (and naming the archive), a hint, status 1, the store unchanged. */
async function refused(bytes: Buffer, msg: RegExp): Promise<string> {
  const before = state(t.root);
  const r = await load(bytes);
  expect(r.stdout).toBe('');
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[0]).toMatch(new RegExp(`^error: load ${r.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
  expect(lines[0]).toMatch(msg);
  expect(lines[1]).toMatch(/^ {2}hint: \S/);
  expect(r.code).toBe(1);
  expect(state(t.root)).toEqual(before);
  return lines[0]!;
}

const SECRET = 'host secret\n';

beforeAll(async () => {
  t = makeTempRoot('tsbuild-hostile-');
  // A host file outside the store: ROOT/oci/blobs/sha256/../../../../secret.
  writeFileSync(join(t.dir, 'secret'), SECRET);
  // The store holds an image already, so "unchanged" is about a store in use.
  const base = image('base');
  const r = await load(ociArchive(base, 'base:1'));
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('Loaded image: base:1\n');
});
afterAll(() => t.cleanup());

const PATHLIKE = 'sha256:../../../../secret';

describe('digests that are paths', () => {
  test('index.json naming a manifest by a path', async () => {
    const p = image('x');
    const line = await refused(ociArchive({ ...p, index: { schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest: PATHLIKE, size: SECRET.length }] } }),
      /index\.json: manifests\[0\]\.digest: invalid digest "sha256:\.\.\/\.\.\/\.\.\/\.\.\/secret": want 64 lower-case hex digits/);
    expect(line).not.toContain(SECRET.trim());
  });

  test('a manifest naming its layer by a path to a host file (which save would then copy out)', async () => {
    const p = image('x');
    const config = json(p.config);
    const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciConfig, config), layers: [{ mediaType: MediaType.OciLayer, digest: PATHLIKE, size: SECRET.length }] };
    const mhex = hexOf(sha256Of(json(manifest)));
    await refused(ociArchive({ ...p, manifest }), new RegExp(`blobs/sha256/${mhex}: layers\\[0\\]\\.digest: invalid digest "sha256:\\.\\./`));
    // Nothing was tagged, so nothing can be saved.
    expect((await tsbuild(['--root', t.root, 'save', '-o', join(t.dir, 'out.tar'), 'hostile:1'])).code).toBe(1);
  });

  test('a manifest naming its config by a path', async () => {
    const p = image('x');
    const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: 'sha256:../../../../../etc/hostname', size: 5 }, layers: [desc(MediaType.OciLayer, p.layer)] };
    await refused(ociArchive({ ...p, manifest }), /config\.digest: invalid digest "sha256:\.\.\//);
  });

  test('a config with a diff_id that is a path (it would name a snapshot directory)', async () => {
    const p = image('x');
    await refused(ociArchive({ ...p, config: { ...p.config, rootfs: { type: 'layers', diff_ids: ['sha256:../../../../tmp/x'] } } }),
      /rootfs\.diff_ids\[0\]: invalid digest "sha256:\.\.\/\.\.\/\.\.\/\.\.\/tmp\/x"/);
  });

  test('a docker archive whose config has a diff_id that is a path', async () => {
    const p = image('x');
    await refused(dockerArchive({ ...p, config: { ...p.config, rootfs: { type: 'layers', diff_ids: [PATHLIKE] } } }), /\.json: rootfs\.diff_ids\[0\]: invalid digest/);
  });

  test.each([
    ['an unknown algorithm', `md5:${'0'.repeat(32)}`, /unknown digest algorithm "md5"/],
    ['sha512, which tsbuild does not store', `sha512:${'0'.repeat(128)}`, /unsupported digest "sha512:0+…": tsbuild stores sha256 content only/],
    ['upper-case hex', `sha256:${'A'.repeat(64)}`, /want 64 lower-case hex digits/],
    ['not a string', 42, /manifests\[0\]\.digest: invalid digest: a number, not a string/],
  ])('index.json with %s', async (_case, digest, msg) => {
    await refused(ociArchive({ ...image('x'), index: { schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest, size: 1 }] } }), msg);
  });
});

describe('blobs that are not what they say', () => {
  test('a blob whose content does not match its name', async () => {
    const p = image('x');
    const good = ociArchive(p);
    // Same archive with the layer's bytes swapped (same length, so only the digest differs).
    const swapped = Buffer.from(good);
    const at = good.indexOf(p.layer);
    Buffer.alloc(p.layer.length, 0x41).copy(swapped, at);
    await refused(swapped, new RegExp(`archive entry "${blobName(sha256Of(p.layer))}": content is sha256:[0-9a-f]{64}, not the digest its name says`));
  });

  test('a layer whose content is not the diff_id its config says', async () => {
    const p = image('x');
    const other = tarOf([{ name: 'other', data: 'other\n' }]);
    await refused(ociArchive({ ...p, config: { ...p.config, rootfs: { type: 'layers', diff_ids: [sha256Of(other)] } } }), /layers\[0\]: content is sha256:[0-9a-f]{64}, config says diff_id sha256:/);
  });

  test('a descriptor size that is not the blob size', async () => {
    const p = image('x');
    const config = json(p.config);
    const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciConfig, config), layers: [{ ...desc(MediaType.OciLayer, p.layer), size: 7 }] };
    await refused(ociArchive({ ...p, manifest }), /blob sha256:[0-9a-f]{64}: \d+ bytes, descriptor says 7/);
  });

  test.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['a string', '10'],
  ])('a descriptor size that is %s', async (_case, size) => {
    const p = image('x');
    await refused(ociArchive({ ...p, index: { schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest: sha256Of('x'), size }] } }), /manifests\[0\]\.size: want a byte count/);
  });

  test('a manifest pointing at a blob the archive does not have', async () => {
    const p = image('x');
    const config = json(p.config);
    const missing = sha256Of('a layer nobody wrote');
    const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciConfig, config), layers: [{ mediaType: MediaType.OciLayer, digest: missing, size: 20 }] };
    await refused(ociArchive({ ...p, manifest }), new RegExp(`layers\\[0\\]: archive has no blob ${missing}`));
  });

  test('index.json pointing at a manifest the archive does not have', async () => {
    const missing = sha256Of('no manifest');
    await refused(ociArchive({ ...image('x'), index: { schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest: missing, size: 3 }] } }), new RegExp(`index\\.json: manifests\\[0\\]: archive has no blob ${missing}`));
  });

  test('a docker archive whose manifest.json names a layer file it does not have', async () => {
    await refused(dockerArchive(image('x'), (m) => { m.Layers = ['bbbb/layer.tar']; }), /manifest\.json: \[0\]\.Layers\[0\]: archive has no "bbbb\/layer\.tar"/);
  });
});

describe('archive entries', () => {
  test('the same entry twice', async () => {
    const p = image('x');
    await refused(ociArchive({ ...p, extra: [{ name: 'index.json', data: '{"schemaVersion":2,"manifests":[]}' }] }), /archive entry "index\.json" appears twice/);
  });

  test('the same blob twice', async () => {
    const p = image('x');
    await refused(ociArchive({ ...p, extra: [{ name: `./${blobName(sha256Of(p.layer))}`, data: p.layer }] }), /archive entry "\.\/blobs\/sha256\/[0-9a-f]{64}" appears twice/);
  });

  test.each([
    ['a parent escape', { name: '../evil', data: 'x' }, /archive entry "\.\.\/evil": path outside the archive/],
    ['a parent escape after a component', { name: 'blobs/../../evil', data: 'x' }, /archive entry "blobs\/\.\.\/\.\.\/evil": path outside the archive/],
    ['".." itself', { name: '..', type: 'Directory' as const }, /archive entry "\.\.": path outside the archive/],
    ['an absolute symlink', { name: 'blobs/sha256/evil', type: 'SymbolicLink' as const, linkpath: '/etc/passwd' }, /archive entry "blobs\/sha256\/evil": absolute link target "\/etc\/passwd"/],
    ['a symlink out of the archive', { name: 'blobs/sha256/evil', type: 'SymbolicLink' as const, linkpath: '../../../etc/passwd' }, /archive entry "blobs\/sha256\/evil": link target "\.\.\/\.\.\/\.\.\/etc\/passwd" outside the archive/],
    ['a hard link out of the archive', { name: 'evil', type: 'Link' as const, linkpath: '../etc/passwd' }, /archive entry "evil": hard link target "\.\.\/etc\/passwd" outside the archive/],
    ['an absolute hard link', { name: 'evil', type: 'Link' as const, linkpath: '/etc/passwd' }, /archive entry "evil": hard link target "\/etc\/passwd" outside the archive/],
    ['a character device', { name: 'dev/null', type: 'CharacterDevice' as const }, /archive entry "dev\/null": a character device; an image archive holds files, directories and links only/],
    ['a block device', { name: 'sda', type: 'BlockDevice' as const }, /archive entry "sda": a block device/],
    ['a fifo', { name: 'fifo', type: 'FIFO' as const }, /archive entry "fifo": a fifo/],
  ])('%s', async (_case, entry, msg) => {
    await refused(ociArchive({ ...image('x'), extra: [entry] }), msg);
  });

  test('a symlink loop', async () => {
    await refused(ociArchive({ ...image('x'), only: [
      { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'index.json', type: 'SymbolicLink', linkpath: 'a' },
      { name: 'a', type: 'SymbolicLink', linkpath: 'index.json' },
    ] }), /archive entry "index\.json": too many links/);
  });
});

describe('metadata that is not JSON, or too big', () => {
  test.each([
    ['index.json', 'not json {'],
    ['index.json', '{"schemaVersion":2,"manifests":"all of them"}'],
    ['index.json', '[]'],
  ])('%s: %s', async (name, text) => {
    await refused(tarOf([{ name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' }, { name, data: text }]), /index\.json: (not JSON|manifests: want a list|want an image index)/);
  });

  test('manifest.json that is not JSON', async () => {
    await refused(tarOf([{ name: 'manifest.json', data: '[{"Config": ' }]), /manifest\.json: not JSON/);
  });

  test('a manifest blob that is not JSON', async () => {
    const junk = Buffer.from('junk');
    await refused(ociArchive({ ...image('x'), index: { schemaVersion: 2, manifests: [{ ...desc(MediaType.OciManifest, junk) }] }, extra: [{ name: blobName(sha256Of(junk)), data: junk }] }),
      new RegExp(`${blobName(sha256Of(junk))}: not JSON`));
  });

  test('a manifest that is not an image manifest', async () => {
    const m = json({ schemaVersion: 2, layers: 'none' });
    await refused(ociArchive({ ...image('x'), index: { schemaVersion: 2, manifests: [{ ...desc(MediaType.OciManifest, m) }] }, extra: [{ name: blobName(sha256Of(m)), data: m }] }),
      new RegExp(`${blobName(sha256Of(m))}: config: want a descriptor`));
  });

  test.each(['index.json', 'manifest.json'])('a huge %s', async (name) => {
    const huge = Buffer.concat([Buffer.from('{"manifests":[]'), Buffer.alloc(9 << 20, 0x20), Buffer.from('}')]);
    await refused(tarOf([{ name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' }, { name, data: huge }]), new RegExp(`archive entry "${name}": ${huge.length} bytes, more than the 8388608 a JSON document may have`));
  });
});

test('after all that, the store still works and holds what it held', async () => {
  const r = await ok(['--root', t.root, 'images', '--format', '{{.Repository}}:{{.Tag}}']);
  expect(r.stdout).toBe('base:1\n');
  expect(readdirSync(join(t.root, 'tmp')).filter((n) => n !== 'live').sort()).toEqual(['locks']);
});
