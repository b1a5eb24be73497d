import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { makeTempRoot, ok, tsbuild, type TempRoot } from '../../helpers/cli.ts';
import { makeContext } from '../../helpers/image.ts';

// An imported cache (--cache-from) is input from outside like an archive: a record or a
// manifest that names a layer by a path must be refused before any path is made of it.
// The store ROOT = t.dir/<job>: ROOT/oci/blobs/sha256/../../../../secret is t.dir/secret.

const PATHLIKE = 'sha256:../../../../secret';
const BUILDFILE = 'FROM scratch\nCOPY a /a\n';

let t: TempRoot;
let ctx: string;
let good: string;
let n = 0;

interface Cache {
  index: any;
  manifest: any;
  config: any;
}

const blob = (dir: string, d: string) => join(dir, 'blobs/sha256', d.slice('sha256:'.length));

/** rewrite copies the good cache into a new dir with its documents edited; digests the edit did not touch are recomputed. */
function rewrite(edit: (c: Cache) => void): string {
  const dir = join(t.dir, `cache-${n++}`);
  const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
  const index = read(join(good, 'index.json'));
  const manifest = read(blob(good, index.manifests[0].digest));
  const config = read(blob(good, manifest.config.digest));
  cpSync(good, dir, { recursive: true });
  const c: Cache = { index, manifest, config };
  const was = { cfg: manifest.config.digest, man: index.manifests[0].digest };
  edit(c);
  const put = (bytes: Buffer) => {
    writeFileSync(blob(dir, sha256Of(bytes)), bytes);
    return { digest: sha256Of(bytes), size: bytes.length };
  };
  const cfg = put(Buffer.from(JSON.stringify(c.config)));
  if (c.manifest.config.digest === was.cfg) Object.assign(c.manifest.config, cfg);
  const man = put(Buffer.from(JSON.stringify(c.manifest)));
  if (c.index.manifests[0].digest === was.man) Object.assign(c.index.manifests[0], man);
  writeFileSync(join(dir, 'index.json'), JSON.stringify(c.index));
  return dir;
}

/** refused builds with --cache-from dir in a fresh store: status 1, one line matching msg, a hint, nothing tagged. */
async function refused(dir: string, msg: RegExp): Promise<void> {
  const root = join(t.dir, `job-${n++}`);
  const r = await tsbuild(['--root', root, 'build', '--progress=quiet', '-t', 'app', '--cache-from', `type=local,src=${dir}`, ctx]);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[0]).toMatch(msg);
  expect(lines[1]).toMatch(/^ {2}hint: \S/);
  expect(r.code).toBe(1);
  expect(JSON.parse(readFileSync(join(root, 'oci/index.json'), 'utf8')).manifests).toEqual([]);
}

beforeAll(async () => {
  t = makeTempRoot('tsbuild-hostile-cache-');
  writeFileSync(join(t.dir, 'secret'), 'host secret\n');
  ctx = makeContext(t.dir, { Buildfile: BUILDFILE, a: 'a\n' });
  good = join(t.dir, 'good');
  await ok(['--root', join(t.dir, 'maker'), 'build', '--progress=quiet', '--cache-to', `type=local,dest=${good}`, ctx]);
});
afterAll(() => t.cleanup());

describe('--cache-from a cache that names things by paths', () => {
  test('the good cache is used (the records hit)', async () => {
    const r = await ok(['--root', join(t.dir, `job-${n++}`), 'build', '--progress=plain', '--cache-from', `type=local,src=${good}`, ctx]);
    expect(r.stderr).toMatch(/imported 1 cache records/);
    expect(r.stderr).toMatch(/CACHED/);
  });

  test("a record whose layer digest is a path to a host file (the image would have had it as a layer)", async () => {
    await refused(rewrite((c) => { c.config.records[0].layer.digest = PATHLIKE; }),
      /^error: cache .*cache-\d+: config: records\[0\]\.layer\.digest: invalid digest "sha256:\.\.\/\.\.\/\.\.\/\.\.\/secret": want 64 lower-case hex digits/);
  });

  test('a record whose layer diffID is a path (it would name a snapshot directory)', async () => {
    await refused(rewrite((c) => { c.config.records[0].layer.diffID = 'sha256:../../x'; }), /config: records\[0\]\.layer\.diffID: invalid digest "sha256:\.\.\/\.\.\/x"/);
  });

  test('a record whose key is a path (keys name files in cache/keys)', async () => {
    await refused(rewrite((c) => { c.config.records[0].key = 'sha256:../../../x'; }), /config: records\[0\]\.key: invalid digest/);
  });

  test('a layer whose DiffID annotation is a path', async () => {
    await refused(rewrite((c) => { c.manifest.layers[0].annotations['dev.tsbuild.cache.diffid'] = PATHLIKE; }),
      /manifest: layers\[0\]\.annotations\["dev\.tsbuild\.cache\.diffid"\]: invalid digest "sha256:\.\.\//);
  });

  test("a manifest whose config is named by a path", async () => {
    await refused(rewrite((c) => { c.manifest.config.digest = PATHLIKE; }), /manifest: config\.digest: invalid digest "sha256:\.\.\//);
  });

  test('an index.json naming the manifest by a path', async () => {
    await refused(rewrite((c) => { c.index.manifests[0].digest = PATHLIKE; }), /^error: cache .*cache-\d+: index\.json: manifests\[0\]\.digest: invalid digest "sha256:\.\.\//);
  });

  test('records that are not records', async () => {
    await refused(rewrite((c) => { c.config.records = [{ key: c.config.records[0].key, layer: 'yes' }]; }), /config: records\[0\]\.layer: want a layer \(diffID, digest, size, mediaType\) or null/);
  });

  test('a manifest whose bytes are not the digest index.json names', async () => {
    const dir = rewrite(() => {});
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    writeFileSync(blob(dir, index.manifests[0].digest), '{"schemaVersion":2}');
    await refused(dir, /index\.json: manifests\[0\]: blob sha256:[0-9a-f]{64} holds sha256:[0-9a-f]{64}/);
  });
});
