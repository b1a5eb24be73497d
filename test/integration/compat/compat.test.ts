import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { makeTempRoot, tsbuild, type TempRoot } from '../../helpers/cli.ts';
import { configSubset, flatten, fromImportedBase, historySubset, listing, stableJson, type FsTree } from '../../helpers/fslisting.ts';
import { hasBusybox, isRoot, makeBusyboxTar } from '../../helpers/rootfs.ts';
import { buildFlags, loadCases, prepareContext, serveHttp, stopHttp, type Case } from './cases.ts';
import { readImageFiles, writeImportedImage } from './ociImage.ts';

/**
 * Every fixture under test/fixtures/compat is built with tsbuild and compared with what
 * Docker 20.10 (BuildKit) produced for it (expected/, recorded by scripts/record-compat.mjs):
 * the filesystem listing against the busybox base, the config subset and the history.
 * One store serves all cases, as a CI runner's would.
 */

let t: TempRoot;
let base: FsTree;

beforeAll(async () => {
  t = makeTempRoot('tsbuild-compat-');
  const tar = join(t.dir, 'busybox.tar');
  makeBusyboxTar(mkdtempSync(join(t.dir, 'bb-')), tar);
  writeImportedImage(t.root, tar, 'busybox:latest');
  base = await flatten([tar]);
});
afterAll(() => t?.cleanup());

function expected(c: Case, file: string): string | undefined {
  const p = join(c.dir, 'expected', file);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

async function build(c: Case, file: string, tag: string | undefined, args: string[] | undefined, ctx: string) {
  return tsbuild(['--root', t.root, 'build', '--progress=plain', '-f', join(c.dir, file), ...(tag ? ['-t', tag] : []), ...buildFlags(c, args), ctx], { env: c.spec.env ?? {} });
}

async function runCase(c: Case): Promise<void> {
  const ctx = prepareContext(c, mkdtempSync(join(t.dir, `ctx-${c.name}-`)));
  const server = c.spec.http ? await serveHttp(c) : undefined;
  try {
    for (const p of c.spec.pre ?? []) {
      const r = await build(c, p.file, p.tag, p.buildArgs ?? [], ctx);
      expect(r.code, `pre-build ${p.file}:\n${r.stderr}`).toBe(0);
    }
    const tag = `compat-${c.name}`;
    const r = await build(c, 'Buildfile', tag, undefined, ctx);
    if (c.spec.warning !== undefined) expect(r.stderr).toMatch(new RegExp(c.spec.warning));
    if (c.spec.error !== undefined) {
      expect(r.code, `the build should fail like Docker's:\n${expected(c, 'error.txt')}`).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(c.spec.error));
      return;
    }
    expect(r.code, r.stderr).toBe(0);
    const img = readImageFiles(t.root, tag);
    const got = {
      fs: asRecordedBusybox(listing(await flatten(img.layers), fromImportedBase(img.config.history) ? base : undefined)),
      config: stableJson(configSubset(img.config.config)),
      history: stableJson(historySubset(img.config.history)),
    };
    // COMPAT_GOT=DIR saves what tsbuild produced (to review a hand-written expectation).
    if (process.env.COMPAT_GOT) {
      const dir = join(process.env.COMPAT_GOT, c.name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'fs.txt'), got.fs);
      writeFileSync(join(dir, 'config.json'), got.config);
      writeFileSync(join(dir, 'history.json'), got.history);
    }
    const want = { fs: expected(c, 'fs.txt'), config: expected(c, 'config.json'), history: expected(c, 'history.json') };
    expect(got).toEqual(want);
  } finally {
    if (server) await stopHttp(server);
  }
}

describe.runIf(isRoot && hasBusybox())('Docker compatibility fixtures', () => {
  // COMPAT_CASES=a,b runs only those cases (while working on them).
  for (const c of loadCases(process.env.COMPAT_CASES ? process.env.COMPAT_CASES.split(',') : [])) {
    test(`${c.name}: ${c.spec.description}`, () => runCase(c));
  }
});

/**
 * RECORDED_BUSYBOX is the size and short digest of Debian 12's /bin/busybox when the fixtures
 * were recorded; two cases copy that binary itself. asRecordedBusybox writes this host's
 * busybox as the recorded one, so a busybox-static update does not break those listings.
 */
const RECORDED_BUSYBOX = '1982256 3d9f2889d6782537';

function asRecordedBusybox(fs: string): string {
  const data = readFileSync('/bin/busybox');
  const here = `${data.length} ${createHash('sha256').update(data).digest('hex').slice(0, 16)}`;
  return here === RECORDED_BUSYBOX ? fs : fs.split(` ${here}`).join(` ${RECORDED_BUSYBOX}`);
}
