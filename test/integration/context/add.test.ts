import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { addInto } from '../../../src/context/add.ts';
import { BuildContext } from '../../../src/context/BuildContext.ts';
import { detectCompression, isTarArchive } from '../../../src/context/decompress.ts';
import { fetchUrl, redactUrl, urlFilename } from '../../../src/context/fetchUrl.ts';
import { lowerFromRoot } from '../../../src/context/lower.ts';
import { sourcesDigest } from '../../../src/context/sourcesDigest.ts';
import { TsbuildError } from '../../../src/core/errors.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { makeTree, TempDirs } from '../../unit/context/tree.ts';
import { rawTar } from './rawTar.ts';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

const hasTool = (t: string) => { try { execFileSync('which', [t]); return true; } catch { return false; } };

const FIXTURES = join(import.meta.dirname, 'fixtures');

/** archive copies fixtures/app.tar<ext> (app/ owned 123:456) to a name that hides the format. */
function archive(ext: string): string {
  const out = join(tmp.make(), 'payload.bin');
  writeFileSync(out, readFileSync(join(FIXTURES, `app.tar${ext}`)));
  return out;
}

async function add(file: string, dest: string, opts = {}): Promise<string> {
  const ctxDir = tmp.make();
  writeFileSync(join(ctxDir, 'payload.bin'), readFileSync(file));
  const ctx = await BuildContext.open(ctxDir);
  const layer = tmp.make();
  await addInto(await ctx.select(['payload.bin']), layer, dest, opts);
  return layer;
}

async function rejects(p: Promise<unknown>, code: string): Promise<TsbuildError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(TsbuildError);
  expect((e as TsbuildError).code).toBe(code);
  return e as TsbuildError;
}

describe.runIf(isRoot)('ADD local archives', () => {
  test.each([
    ['none', '', null],
    ['gzip', '.gz', null],
    ['bzip2', '.bz2', 'bzip2'],
    ['xz', '.xz', 'xz'],
    ['zstd', '.zst', 'zstd'],
  ])('%s is detected by content and extracted', async (kind, ext, tool) => {
    const file = archive(ext);
    expect(detectCompression(readFileSync(file).subarray(0, 6))).toBe(kind);
    if (tool !== null && !hasTool(tool)) {
      // Without the host tool the archive is refused with a hint, never copied as a plain file.
      const e = await rejects(isTarArchive(file), 'BAD_ARCHIVE');
      expect(e.hint).toContain(tool);
      return;
    }
    expect(await isTarArchive(file)).toBe(true);
    const l = await add(file, '/opt');
    expect(readFileSync(join(l, 'opt/app/README'), 'utf8')).toBe('hi');
    expect(lstatSync(join(l, 'opt/app/bin/run')).mode & 0o7777).toBe(0o755);
    expect(readlinkSync(join(l, 'opt/app/link'))).toBe('README');
    expect(`${statSync(join(l, 'opt/app/README')).uid}:${statSync(join(l, 'opt/app/README')).gid}`).toBe('123:456');
    expect(statSync(join(l, 'opt/app')).mtimeMs).toBe(Date.parse('2020-01-01T00:00:00Z'));
  });

  test('a missing decompressor is a clear error, not a silent copy', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const e = await rejects(isTarArchive(archive('.zst')), 'BAD_ARCHIVE');
      expect(e.hint).toContain('install zstd');
    } finally {
      process.env['PATH'] = path;
    }
  });

  test('the destination is a directory even without a trailing slash; --chown overrides owners', async () => {
    const l = await add(archive('.gz'), '/x', { chown: { uid: 7, gid: 8 } });
    expect(statSync(join(l, 'x/app/README')).uid).toBe(7);
    expect(statSync(join(l, 'x')).isDirectory()).toBe(true);
  });

  test('--unpack=false and non-archives are copied as files', async () => {
    const l = await add(archive('.gz'), '/x', { unpack: false });
    expect(statSync(join(l, 'x')).isFile()).toBe(true);
    const fake = join(tmp.make(), 'fake.tar.gz');
    writeFileSync(fake, 'not a tarball at all, despite the name '.repeat(20));
    expect(await isTarArchive(fake)).toBe(false);
    const l2 = await add(fake, '/y');
    expect(readFileSync(join(l2, 'y'), 'utf8')).toContain('not a tarball');
    const empty = join(tmp.make(), 'empty.tar');
    writeFileSync(empty, '');
    expect(statSync(join(await add(empty, '/z'), 'z')).size).toBe(0);
  });

  test('implicit parents take the image metadata', async () => {
    const rootfs = makeTree(tmp.make(), { 'opt/app': { dir: true, mode: 0o700 } });
    const tar = join(tmp.make(), 't.tar');
    writeFileSync(tar, rawTar([{ name: 'app/new.txt', body: 'n' }]));
    const l = await add(tar, '/opt', { lower: lowerFromRoot(rootfs) });
    expect(lstatSync(join(l, 'opt/app')).mode & 0o7777).toBe(0o700);
  });
});

describe.runIf(isRoot)('ADD refuses malicious archives', () => {
  async function addRaw(entries: Parameters<typeof rawTar>[0], dest = '/dst'): Promise<string> {
    const tar = join(tmp.make(), 'evil.tar');
    writeFileSync(tar, rawTar(entries));
    return add(tar, dest);
  }

  test('.. in a name', async () => {
    await rejects(addRaw([{ name: '../../../../../../tmp/evil-dotdot', body: 'x' }]), 'UNSAFE_PATH');
    expect(existsSync('/tmp/evil-dotdot')).toBe(false);
  });

  test('an absolute name lands under the destination', async () => {
    const l = await addRaw([{ name: '/etc/evil-abs', body: 'x' }]);
    expect(readFileSync(join(l, 'dst/etc/evil-abs'), 'utf8')).toBe('x');
    expect(existsSync('/etc/evil-abs')).toBe(false);
  });

  test('a symlink to an outside dir cannot carry a later entry out', async () => {
    const outside = tmp.make();
    const l = await addRaw([
      { name: 'link', type: 'symlink', linkname: outside },
      { name: 'link/pwned', body: 'x' },
    ]);
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(l, 'dst', outside, 'pwned'), 'utf8')).toBe('x');
  });

  test('a relative symlink climbing out of the destination is refused', async () => {
    await rejects(addRaw([{ name: 'up', type: 'symlink', linkname: '../../..' }]), 'UNSAFE_PATH');
  });

  test('a hard link to a path outside is refused', async () => {
    await rejects(addRaw([{ name: 'hl', type: 'link', linkname: '../../etc/passwd' }]), 'UNSAFE_PATH');
  });

  test('a hard link through a planted symlink stays inside', async () => {
    const outside = tmp.make();
    writeFileSync(join(outside, 'secret'), 'secret');
    await rejects(addRaw([
      { name: 'ln', type: 'symlink', linkname: outside },
      { name: 'hl', type: 'link', linkname: 'ln/secret' },
    ]), 'BAD_ARCHIVE');
    expect(statSync(join(outside, 'secret')).nlink).toBe(1);
  });

  test('a file entry replaces a planted symlink instead of writing through it', async () => {
    const outside = tmp.make();
    writeFileSync(join(outside, 'victim'), 'keep');
    const l = await addRaw([
      { name: 'f', type: 'symlink', linkname: join(outside, 'victim') },
      { name: 'f', body: 'new' },
    ]);
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('keep');
    expect(readFileSync(join(l, 'dst/f'), 'utf8')).toBe('new');
  });

  test('a truncated archive fails cleanly', async () => {
    const tar = rawTar([{ name: 'big', body: 'x'.repeat(5000) }]).subarray(0, 1500);
    const f = join(tmp.make(), 't.tar');
    writeFileSync(f, tar);
    await rejects(add(f, '/dst'), 'BAD_ARCHIVE');
  });
});

describe('ADD <url>', () => {
  let server: Server;
  let base = '';
  const body = Buffer.from('downloaded content\n');
  const sha = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/private' && req.headers.authorization === `Basic ${Buffer.from('user:pw').toString('base64')}`) {
        res.end('private');
      } else if (req.url?.startsWith('/files/')) {
        res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
        res.end(body);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('downloads with a matching checksum: mode 0600, Last-Modified mtime, not unpacked', async () => {
    const f = await fetchUrl(`${base}/files/tool.tar.gz?token=abc`, { tmpDir: tmp.make(), checksum: sha });
    expect([f.filename, f.digest, f.size]).toEqual(['tool.tar.gz', sha, body.length]);
    expect(statSync(f.path).mtimeMs).toBe(Date.parse('2015-10-21T07:28:00Z'));
    const d1 = await sourcesDigest(f.selection, {}, () => f.digest.slice(7));
    expect(d1).toMatch(/^sha256:/);
    if (isRoot) {
      const l = tmp.make();
      await addInto(f.selection, l, '/dl/', { unpack: false });
      expect(lstatSync(join(l, 'dl/tool.tar.gz')).mode & 0o7777).toBe(0o600);
      expect(readFileSync(join(l, 'dl/tool.tar.gz'))).toEqual(body);
    }
    await f.cleanup();
    expect(existsSync(f.path)).toBe(false);
  });

  test('a checksum mismatch fails and leaves nothing behind', async () => {
    const dir = tmp.make();
    const e = await rejects(fetchUrl(`${base}/files/x`, { tmpDir: dir, checksum: 'sha256:' + '0'.repeat(64) }), 'DIGEST_MISMATCH');
    expect(e.message).toContain(sha);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('HTTP errors and bad checksums are reported without credentials', async () => {
    const e = await rejects(fetchUrl(`http://user:pw@127.0.0.1:${base.split(':')[2]}/missing`, { tmpDir: tmp.make() }), 'IO');
    expect(e.message).toContain('404');
    expect(e.message).not.toContain('pw');
    await rejects(fetchUrl(`${base}/files/x`, { tmpDir: tmp.make(), checksum: 'md5:abc' }), 'USAGE');
  });

  test('URL credentials are sent as Basic auth', async () => {
    const port = base.split(':')[2];
    const f = await fetchUrl(`http://user:pw@127.0.0.1:${port}/private`, { tmpDir: tmp.make() });
    expect(readFileSync(f.path, 'utf8')).toBe('private');
    await f.cleanup();
  });

  test('file names come from the URL path', () => {
    expect(urlFilename('https://example.com/a/b%20c.txt?x=1')).toBe('b c.txt');
    expect(urlFilename('https://example.com/')).toBe('__unnamed__');
    expect(urlFilename('https://example.com')).toBe('__unnamed__');
    expect(redactUrl('https://u:p@h/x?token=s')).toBe('https://h/x?REDACTED');
  });
});
