import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { blob, busyboxSuite, imageOf, importBusybox } from '../../helpers/image.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';
import { FF, FFFD, byteEntries, filesByName, latin1, rawByteTar, type ByteEntry } from '../../helpers/tarNames.ts';

// File names are bytes: a name that is not UTF-8 (`\xff`) and the name U+FFFD (`\xef\xbf\xbd`,
// what a lossy decoder turns `\xff` into) live side by side, each with its own content, through
// every way a path enters or leaves an image. Layers are read raw (test/helpers/tarNames.ts).

const suite = busyboxSuite({ beforeAll, afterAll });
let t: TempRoot;
beforeAll(() => { t = suite.t; });

/** SH_FF and SH_FFFD are the two names as busybox printf writes them. */
const SH_FF = `"$(printf '\\377')"`;
const SH_FFFD = `"$(printf '\\357\\277\\275')"`;

/** topLayer is the image's last layer, read raw from the store. */
function topLayer(root: string, image: string): ByteEntry[] {
  const { manifest } = imageOf(root, image);
  return byteEntries(blob(root, manifest.layers.at(-1).digest));
}

function names(entries: ByteEntry[]): string[] {
  return entries.map((e) => e.name.toString('latin1'));
}

/** ctxWith makes a context whose files have byte names (relative Buffer-joined paths). */
function ctxWith(buildfile: string, files: Array<[Buffer, string]>, links: Array<[Buffer, Buffer]> = []): string {
  const ctx = suite.ctx({ Buildfile: buildfile });
  for (const [name, content] of files) {
    const p = Buffer.concat([Buffer.from(`${ctx}/`), name]);
    mkdirSync(p.subarray(0, p.lastIndexOf(0x2f)), { recursive: true });
    writeFileSync(p, content);
  }
  for (const [name, target] of links) symlinkSync(target, Buffer.concat([Buffer.from(`${ctx}/`), name]));
  return ctx;
}

const RUN_MAKES = [
  'FROM busybox',
  `RUN mkdir /r && cd /r && printf A > ${SH_FF} && printf B > ${SH_FFFD} && ln -s "$(printf 't\\377')" "$(printf 'l\\377')"`
  + ` && mkdir "$(printf 'd\\376')" && printf C > "$(printf 'd\\376/f')" && printf D > "$(printf '${'n'.repeat(150)}\\375')"`,
].join('\n');

describe('names are bytes', () => {
  test('a RUN layer keeps \\xff and U+FFFD apart, byte-exact, each with its content, sorted by bytes', async () => {
    await ok(['--root', t.root, 'build', '-t', 'bytes-run', suite.ctx({ Buildfile: RUN_MAKES })]);
    const layer = topLayer(t.root, 'bytes-run').filter((e) => e.name.subarray(0, 2).toString() === 'r/');
    expect(names(layer)).toEqual([
      'r/', latin1('r/d', Buffer.of(0xfe), '/'), latin1('r/d', Buffer.of(0xfe), '/f'), latin1('r/l', FF),
      latin1('r/', 'n'.repeat(150), Buffer.of(0xfd)), latin1('r/', FFFD), latin1('r/', FF),
    ]);
    expect(filesByName(layer)).toEqual({
      [latin1('r/', FF)]: 'A', [latin1('r/', FFFD)]: 'B', [latin1('r/d', Buffer.of(0xfe), '/f')]: 'C',
      [latin1('r/', 'n'.repeat(150), Buffer.of(0xfd))]: 'D',
    });
    expect(layer.find((e) => e.type === '2')!.linkname).toEqual(Buffer.concat([Buffer.from('t'), FF]));
    // The committed upper dir is the snapshot a later RUN mounts.
    await ok(['--root', t.root, 'build', '-t', 'bytes-read', suite.ctx({ Buildfile: `FROM bytes-run\nRUN cd /r && cat ${SH_FF} ${SH_FFFD} > /check\n` })]);
    expect(filesByName(topLayer(t.root, 'bytes-read'))).toEqual({ check: 'AB' });
  });

  test('COPY and ADD from the context: byte names copied, .dockerignore and `?` match them', async () => {
    const ctx = ctxWith('FROM busybox\nCOPY c /c/\nCOPY c/? /q/\nADD c/? /a/\n', [
      [Buffer.concat([Buffer.from('c/'), FF]), 'A'],
      [Buffer.concat([Buffer.from('c/'), FFFD]), 'B'],
      [Buffer.concat([Buffer.from('c/sub'), Buffer.of(0xfe), Buffer.from('/x')]), 'X'],
      [Buffer.concat([Buffer.from('c/ign'), FF]), 'ignored'],
      [Buffer.concat([Buffer.from('c/raw'), Buffer.of(0xfe)]), 'ignored by its bytes'],
      [Buffer.concat([Buffer.from('c/raw'), Buffer.of(0xfd)]), 'R'],
    ], [[Buffer.concat([Buffer.from('c/ln'), FF]), FF]]);
    // A pattern with a byte that is not UTF-8 excludes that name only (read lossily, it would take both).
    writeFileSync(join(ctx, '.dockerignore'), Buffer.concat([Buffer.from('c/ign*\nc/raw'), Buffer.of(0xfe), Buffer.from('\n')]));
    await ok(['--root', t.root, 'build', '-t', 'bytes-copy', ctx]);
    const { manifest } = imageOf(t.root, 'bytes-copy');
    const [copied, matched, added] = (manifest.layers as Array<{ digest: string }>).slice(-3).map((l) => byteEntries(blob(t.root, l.digest)));
    expect(names(copied!)).toEqual([
      'c/', latin1('c/ln', FF), latin1('c/raw', Buffer.of(0xfd)), latin1('c/sub', Buffer.of(0xfe), '/'), latin1('c/sub', Buffer.of(0xfe), '/x'), latin1('c/', FFFD), latin1('c/', FF),
    ]);
    expect(filesByName(copied!)).toMatchObject({ [latin1('c/', FF)]: 'A', [latin1('c/', FFFD)]: 'B' });
    expect(copied!.find((e) => e.type === '2')!.linkname).toEqual(FF);
    expect(filesByName(matched!)).toEqual({ [latin1('q/', FFFD)]: 'B', [latin1('q/', FF)]: 'A' });
    expect(filesByName(added!)).toEqual({ [latin1('a/', FFFD)]: 'B', [latin1('a/', FF)]: 'A' });
  });

  test('the COPY cache key tells \\xff from U+FFFD: same content under the other name is a miss', async () => {
    const build = async (name: Buffer, tag: string) => {
      const ctx = ctxWith('FROM busybox\nCOPY c /k/\n', [[Buffer.concat([Buffer.from('c/'), name]), 'same']]);
      const r = await ok(['--root', t.root, 'build', '--progress=plain', '-t', tag, ctx]);
      return { log: r.stderr, files: filesByName(topLayer(t.root, tag)) };
    };
    expect((await build(FF, 'bytes-key-ff')).files).toEqual({ [latin1('k/', FF)]: 'same' });
    const second = await build(FFFD, 'bytes-key-fffd');
    expect(second.files).toEqual({ [latin1('k/', FFFD)]: 'same' });
    expect(second.log).not.toMatch(/COPY c \/k\/.*CACHED/);
  });

  test('COPY --from a stage, and ADD of a tar, keep byte names', async () => {
    const tar = rawByteTar([
      { name: Buffer.concat([Buffer.from('x'), FF]), body: Buffer.from('A') },
      { name: FFFD, body: Buffer.from('B'), pax: true },
      { name: Buffer.concat([Buffer.from('dd'), Buffer.of(0xfe), Buffer.from('/')]), type: '5' },
      { name: Buffer.concat([Buffer.from('dd'), Buffer.of(0xfe), Buffer.from('/in')]), body: Buffer.from('C') },
      { name: Buffer.from('sl'), type: '2', linkname: Buffer.concat([Buffer.from('t'), FF]), pax: true },
      { name: Buffer.concat([Buffer.from('l'.repeat(200)), Buffer.of(0xfc)]), body: Buffer.from('L'), pax: true },
    ]);
    const ctx = suite.ctx({
      Buildfile: `FROM busybox AS made\nRUN mkdir /m && printf A > /m/${SH_FF} && printf B > /m/${SH_FFFD}\nFROM busybox\nCOPY --from=made /m /m2/\nADD a.tar /t/\n`,
    });
    writeFileSync(join(ctx, 'a.tar'), tar);
    await ok(['--root', t.root, 'build', '-t', 'bytes-from', ctx]);
    const { manifest } = imageOf(t.root, 'bytes-from');
    const [fromStage, added] = (manifest.layers as Array<{ digest: string }>).slice(-2).map((l) => byteEntries(blob(t.root, l.digest)));
    expect(filesByName(fromStage!)).toEqual({ [latin1('m2/', FFFD)]: 'B', [latin1('m2/', FF)]: 'A' });
    expect(filesByName(added!)).toEqual({
      [latin1('t/x', FF)]: 'A', [latin1('t/', FFFD)]: 'B', [latin1('t/dd', Buffer.of(0xfe), '/in')]: 'C',
      [latin1('t/', 'l'.repeat(200), Buffer.of(0xfc))]: 'L',
    });
    expect(added!.find((e) => e.type === '2')!.linkname).toEqual(Buffer.concat([Buffer.from('t'), FF]));
  });

  test('import of a rootfs tarball keeps byte names', async () => {
    const tar = join(t.dir, 'bytes-import.tar');
    writeFileSync(tar, rawByteTar([{ name: FF, body: Buffer.from('A') }, { name: FFFD, body: Buffer.from('B'), pax: true }]));
    await ok(['--root', t.root, 'import', tar, 'bytes-import']);
    expect(filesByName(topLayer(t.root, 'bytes-import'))).toEqual({ [latin1(FF)]: 'A', [latin1(FFFD)]: 'B' });
  });

  test('commit of a container keeps byte names', async () => {
    await ok(['--root', t.root, 'run', '--name', 'bytes-c', 'busybox', 'sh', '-c', `printf A > /${SH_FF}; printf B > /${SH_FFFD}`]);
    await ok(['--root', t.root, 'commit', 'bytes-c', 'bytes-commit']);
    await ok(['--root', t.root, 'rm', 'bytes-c']);
    expect(filesByName(topLayer(t.root, 'bytes-commit'))).toEqual({ [latin1(FF)]: 'A', [latin1(FFFD)]: 'B' });
  });

  test.each(['docker', 'oci'])('save --format %s → load into another store → a RUN reads both files from the extracted layer', async (format) => {
    const file = join(t.dir, `bytes-${format}.tar`);
    await ok(['--root', t.root, 'save', '--format', format, '-o', file, 'bytes-run']);
    const other = makeTempRoot(`tsbuild-bytes-load-${format}-`);
    try {
      await ok(['--root', other.root, 'load', '-i', file]);
      expect(filesByName(topLayer(other.root, 'bytes-run'))).toEqual(filesByName(topLayer(t.root, 'bytes-run')));
      const ctx = suite.ctx({ Buildfile: `FROM bytes-run\nRUN cd /r && cat ${SH_FF} ${SH_FFFD} > /check && ls /r | wc -l > /count\n` });
      await ok(['--root', other.root, 'build', '-t', 'reread', ctx]);
      expect(filesByName(topLayer(other.root, 'reread'))).toEqual({ check: 'AB', count: '5\n' });
    } finally {
      other.cleanup();
    }
  });
});

describe('names are bytes through a registry', () => {
  let reg: RunningRegistry;
  beforeAll(async () => { reg = await startRegistry(); });
  afterAll(async () => reg?.stop());

  test('push → pull keeps both files; a RUN on the pulled image reads them from the extracted layer', async () => {
    const ref = `${reg.host}/bytes/run:1`;
    await ok(['--root', t.root, 'tag', 'bytes-run', ref]);
    await ok(['--root', t.root, 'push', ref]);
    const other = makeTempRoot('tsbuild-bytes-pull-');
    try {
      await importBusybox(other.root, other.dir);
      await ok(['--root', other.root, 'pull', ref]);
      expect(filesByName(topLayer(other.root, ref))).toEqual(filesByName(topLayer(t.root, 'bytes-run')));
      const ctx = suite.ctx({ Buildfile: `FROM ${ref}\nRUN cd /r && cat ${SH_FF} ${SH_FFFD} > /check\n` });
      await ok(['--root', other.root, 'build', '-t', 'reread', ctx]);
      expect(filesByName(topLayer(other.root, 'reread'))).toEqual({ check: 'AB' });
    } finally {
      other.cleanup();
    }
  });
});

test('the byte-name helpers read what they write', () => {
  const tar = rawByteTar([{ name: FF, body: Buffer.from('A') }, { name: FFFD, body: Buffer.from('B'), pax: true }]);
  expect(filesByName(byteEntries(tar))).toEqual({ [latin1(FF)]: 'A', [latin1(FFFD)]: 'B' });
});
